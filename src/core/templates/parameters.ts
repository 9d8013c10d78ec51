// Template parameters: the supplied `{name: {value}}` entries checked against the declarations, and each value's constraints.
import { invalidRequest } from '../errors.js';
import type { TemplateValue } from './context.js';
import {
  keyVaultReferenceNotSupported,
  parametersNotDeclared,
  parameterValueNotAllowed,
  parameterValueNull,
  parameterValueOutOfRange,
  parameterValueTypeInvalid,
} from './errors.js';
import {
  PASCAL_TYPE_NAMES,
  type ParameterDeclaration,
  type ParameterType,
  type Template,
} from './template.js';
import { deepEquals, findKey, isArray, isObject, toJson, typeName } from './values.js';

/**
 * The supplied values by lower-cased name, taken literally (no expression evaluation, `[[` kept;
 * PROTOCOL-TOOLS Part C section 2.2). `supplied` is `properties.parameters` as sent.
 *
 * @throws {AppError} `InvalidTemplate` naming every supplied name the template does not declare;
 *   `InvalidDeploymentParameterValue` for an entry whose value is null or absent, or which is a
 *   Key Vault reference (not resolved by Tessera yet).
 */
export function suppliedValues(
  template: Template,
  supplied: TemplateValue | undefined,
): ReadonlyMap<string, TemplateValue> {
  const values = new Map<string, TemplateValue>();
  if (supplied === undefined || supplied === null) return values;
  if (!isObject(supplied)) throw parametersNotAnObject();
  const declared = new Set(template.parameters.map((p) => p.name.toLowerCase()));
  const unknown = Object.keys(supplied).filter((name) => !declared.has(name.toLowerCase()));
  if (unknown.length > 0) {
    throw parametersNotDeclared(
      unknown,
      template.parameters.map((p) => p.name),
    );
  }
  for (const [name, entry] of Object.entries(supplied)) {
    if (!isObject(entry)) throw parameterValueNull(name);
    if (findKey(entry, 'reference') !== undefined && findKey(entry, 'value') === undefined) {
      throw keyVaultReferenceNotSupported(name);
    }
    const key = findKey(entry, 'value');
    const value = key === undefined ? null : (entry[key] ?? null);
    if (value === null) throw parameterValueNull(name);
    values.set(name.toLowerCase(), value);
  }
  return values;
}

function parametersNotAnObject(): Error {
  return invalidRequest(
    "The deployment parameters must be an object of '{name: {value}}' entries.",
    'properties.parameters',
  );
}

/** Whether `value` has the JSON type a parameter or output of `type` holds. */
export function hasTemplateType(type: ParameterType, value: TemplateValue): boolean {
  switch (type) {
    case 'string':
    case 'securestring':
      return typeof value === 'string';
    case 'int':
      return typeof value === 'number' && Number.isInteger(value);
    case 'bool':
      return typeof value === 'boolean';
    case 'object':
    case 'secureobject':
      return isObject(value);
    case 'array':
      return isArray(value);
  }
}

// ARM quotes string values as they are and anything else as compact JSON.
function shown(value: TemplateValue): string {
  return typeof value === 'string' ? value : toJson(value);
}

function checkAllowed(declaration: ParameterDeclaration, value: TemplateValue): void {
  const allowed = declaration.allowedValues;
  if (allowed === undefined) return;
  const isAllowed = (item: TemplateValue): boolean =>
    allowed.some((candidate) => deepEquals(candidate, item));
  // For an array parameter each item must be one of the allowed values.
  const ok =
    declaration.type === 'array' && isArray(value) ? value.every(isAllowed) : isAllowed(value);
  if (!ok) {
    throw parameterValueNotAllowed(declaration, declaration.name, shown(value), allowed.map(shown));
  }
}

function checkLimits(declaration: ParameterDeclaration, value: TemplateValue): void {
  const { minValue, maxValue, minLength, maxLength, name } = declaration;
  if (typeof value === 'number') {
    if (minValue !== undefined && value < minValue) {
      throw parameterValueOutOfRange(declaration, name, 'minValue', minValue);
    }
    if (maxValue !== undefined && value > maxValue) {
      throw parameterValueOutOfRange(declaration, name, 'maxValue', maxValue);
    }
  }
  if (typeof value === 'string' || isArray(value)) {
    if (minLength !== undefined && value.length < minLength) {
      throw parameterValueOutOfRange(declaration, name, 'minLength', minLength);
    }
    if (maxLength !== undefined && value.length > maxLength) {
      throw parameterValueOutOfRange(declaration, name, 'maxLength', maxLength);
    }
  }
}

/**
 * Checks a parameter's value (supplied or default) against its declaration: the JSON type, then
 * `allowedValues` (deep, case-sensitive equality; each item of an array parameter), then
 * `minValue`/`maxValue` (int) and `minLength`/`maxLength` (string or array), all inclusive.
 *
 * @throws {AppError} `InvalidTemplate` in ARM's words, at the parameter's declaration.
 */
export function checkParameterValue(declaration: ParameterDeclaration, value: TemplateValue): void {
  if (!hasTemplateType(declaration.type, value)) {
    throw parameterValueTypeInvalid(
      declaration,
      declaration.name,
      PASCAL_TYPE_NAMES[declaration.type],
      typeName(value),
    );
  }
  checkAllowed(declaration, value);
  checkLimits(declaration, value);
}
