// Template faults in ARM's words: InvalidTemplate errors, each with the TemplateViolation that locates it.
import { AppError } from '../errors.js';

/** Where an element sits inside a template: property names and array indexes from its root. */
export type TemplatePath = readonly (string | number)[];

/** Json.NET's line info: 1-based line, and the count of characters before the position on it. */
export interface SourcePosition {
  readonly lineNumber: number;
  readonly linePosition: number;
}

/**
 * Where the elements of a template sit in the text it was read from (`src/wire/arm/template-body.ts`
 * builds one). Paths are relative to the template's root and spell property names as written.
 */
export interface TemplateSource {
  /** Json.NET's position of the element: just after `{` or `[`, or after a primitive's last character. */
  start(path: TemplatePath): SourcePosition | undefined;
  /** Just after the element's closing bracket, where Json.NET reports a missing required property. */
  end(path: TemplatePath): SourcePosition | undefined;
}

/** A source that knows no positions: every fault is reported at line 0, position 0. */
export const NO_SOURCE: TemplateSource = { start: () => undefined, end: () => undefined };

/** An element of a template, for errors that name its line and column. */
export interface Located {
  readonly source: TemplateSource;
  readonly path: TemplatePath;
}

/** ARM's `TemplateViolation` info: line, position and body path of the element at fault. */
export interface TemplateViolation {
  readonly lineNumber: number;
  readonly linePosition: number;
  readonly path: string;
}

const UNATTRIBUTED: TemplateViolation = { lineNumber: 0, linePosition: 0, path: '' };
const FUNCTIONS_HELP = 'Please see https://aka.ms/arm-functions for usage details.';
// Json.NET writes a property name holding one of these as `['name']` in a path.
const SPECIAL_PATH_CHARS = /[. '/"[\]()\t\n\r\f\b\\\u0085\u2028\u2029]/;

/** A path as Json.NET writes it: `resources[1].properties['$schema']`. */
export function jsonPath(path: TemplatePath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (SPECIAL_PATH_CHARS.test(segment) || segment === '') {
      out += `['${segment.replace(/['\\]/g, '\\$&')}']`;
    } else out += out === '' ? segment : `.${segment}`;
  }
  return out;
}

/** The body path ARM puts in `additionalInfo`: the template sits at `properties.template`. */
export function bodyPath(path: TemplatePath): string {
  const inner = jsonPath(path);
  if (inner === '') return 'properties.template';
  return inner.startsWith('[') ? `properties.template${inner}` : `properties.template.${inner}`;
}

/** Where `at` starts (or ends), 0 and 0 when the source does not know. */
export function positionOf(at: Located, edge: 'start' | 'end' = 'start'): SourcePosition {
  const found = edge === 'start' ? at.source.start(at.path) : at.source.end(at.path);
  return found ?? { lineNumber: 0, linePosition: 0 };
}

/** The `TemplateViolation` of an element. */
export function violationOf(at: Located, edge: 'start' | 'end' = 'start'): TemplateViolation {
  return { ...positionOf(at, edge), path: bodyPath(at.path) };
}

function lineAndColumn(at: Located): string {
  const { lineNumber, linePosition } = positionOf(at);
  return `at line '${lineNumber}' and column '${linePosition}'`;
}

function templateError(message: string, violation: TemplateViolation): AppError {
  return new AppError('InvalidRequest', message, {
    status: 400,
    wire: { arm: 'InvalidTemplate' },
    additionalInfo: [{ type: 'TemplateViolation', info: { ...violation } }],
  });
}

/**
 * `InvalidTemplate` (400) for a template that breaks a rule:
 * `Deployment template validation failed: '{detail}'.` (PROTOCOL-TOOLS Part C section 3).
 */
export function templateValidationFailed(
  detail: string,
  violation: TemplateViolation = UNATTRIBUTED,
): AppError {
  return templateError(`Deployment template validation failed: '${detail}'.`, violation);
}

/**
 * `InvalidTemplate` (400) for a template that cannot be read: `Deployment template parse failed:
 * '{detail}'.`, `detail` being Json.NET's sentence with its path, line and position.
 */
export function templateParseFailed(
  detail: string,
  violation: TemplateViolation = UNATTRIBUTED,
): AppError {
  return templateError(`Deployment template parse failed: '${detail}'.`, violation);
}

/** Json.NET's fault for a required member that is absent, reported where its object closes. */
export function requiredPropertyMissing(at: Located, property: string): AppError {
  const { lineNumber, linePosition } = positionOf(at, 'end');
  return templateParseFailed(
    `Required property '${property}' not found in JSON. Path '${jsonPath(at.path)}', line ${lineNumber}, position ${linePosition}.`,
    violationOf(at, 'end'),
  );
}

/** A member of the document that has the wrong JSON type (Json.NET's conversion fault, simplified). */
export function propertyTypeInvalid(at: Located, expected: string): AppError {
  const { lineNumber, linePosition } = positionOf(at);
  return templateParseFailed(
    `Error converting value at '${jsonPath(at.path)}': expected ${expected}. Path '${jsonPath(at.path)}', line ${lineNumber}, position ${linePosition}.`,
    violationOf(at),
  );
}

/** `languageVersion` 2.0 (symbolic resource names) is not implemented yet. */
export function languageVersionNotSupported(at: Located, version: string): AppError {
  return templateValidationFailed(
    `The template language version '${version}' is not supported. Use a template without 'languageVersion' (or compile Bicep without symbolic-name features).`,
    violationOf(at),
  );
}

/** A parameter declared with a type outside ARM's seven. */
export function parameterTypeNotSupported(at: Located, name: string, type: string): AppError {
  return templateValidationFailed(
    `The template parameter '${name}' ${lineAndColumn(at)} has an invalid type '${type}'. The supported types are 'String, SecureString, Int, Bool, Object, SecureObject, Array'. Please see https://aka.ms/arm-template/#parameters for usage details.`,
    violationOf(at),
  );
}

/** A declared parameter with no supplied value and no default. */
export function parameterNotProvided(at: Located, name: string): AppError {
  return templateValidationFailed(
    `The value for the template parameter '${name}' ${lineAndColumn(at)} is not provided. Please see https://aka.ms/arm-create-parameter-file for usage details.`,
    violationOf(at),
  );
}

/** Supplied names that the template does not declare. */
export function parametersNotDeclared(
  names: readonly string[],
  declared: readonly string[],
): AppError {
  return templateValidationFailed(
    `The template parameters '${names.join(', ')}' are not valid; they are not present in the original template and can therefore not be provided at deployment time. The only supported parameters for this template are '${declared.join(', ')}'.`,
  );
}

/** A value outside the parameter's `allowedValues`. */
export function parameterValueNotAllowed(
  at: Located,
  name: string,
  value: string,
  allowed: readonly string[],
): AppError {
  return templateValidationFailed(
    `The provided value '${value}' for the template parameter '${name}' ${lineAndColumn(at)} is not valid. The parameter value is not part of the allowed value(s): '${allowed.join(',')}'.`,
    violationOf(at),
  );
}

/** A value that breaks `minLength`, `maxLength`, `minValue` or `maxValue`. */
export function parameterValueOutOfRange(
  at: Located,
  name: string,
  rule: 'minLength' | 'maxLength' | 'minValue' | 'maxValue',
  limit: number,
): AppError {
  const what = rule.endsWith('Length') ? 'Length of the value' : 'The value';
  const bound = rule.startsWith('min') ? 'greater than or equal to' : 'less than or equal to';
  return templateValidationFailed(
    `The provided value for the template parameter '${name}' ${lineAndColumn(at)} is not valid. ${what} should be ${bound} '${limit}'. Please see https://aka.ms/arm-template/#parameters for usage details.`,
    violationOf(at),
  );
}

/** A value of the wrong JSON type for the parameter's declared type. */
export function parameterValueTypeInvalid(
  at: Located,
  name: string,
  expected: string,
  received: string,
): AppError {
  return templateValidationFailed(
    `Template parameter '${name}' was provided an invalid value. Expected a value of type '${expected}', but received a value of type '${received}'.`,
    violationOf(at),
  );
}

/** `InvalidDeploymentParameterValue` (400): a supplied entry whose value is null or absent. */
export function parameterValueNull(name: string): AppError {
  return new AppError(
    'InvalidRequest',
    `The value of deployment parameter '${name}' is null. Please see https://aka.ms/resource-manager-parameter-files for usage details.`,
    { status: 400, wire: { arm: 'InvalidDeploymentParameterValue' } },
  );
}

/** A supplied Key Vault reference: Tessera does not resolve them yet. */
export function keyVaultReferenceNotSupported(name: string): AppError {
  return new AppError(
    'InvalidRequest',
    `The value of deployment parameter '${name}' is a Key Vault reference, which this server does not resolve. Supply the secret's value instead.`,
    { status: 400, wire: { arm: 'InvalidDeploymentParameterValue' } },
  );
}

/** A parameter default that cannot be evaluated. */
export function parameterInvalid(at: Located, name: string, reason: string): AppError {
  return templateValidationFailed(
    `The template parameter '${name}' ${lineAndColumn(at)} is not valid: ${reason}. ${FUNCTIONS_HELP}`,
    violationOf(at),
  );
}

/** A variable that cannot be evaluated (ARM gives no line for variables). */
export function variableInvalid(name: string, reason: string): AppError {
  return templateValidationFailed(
    `The template variable '${name}' is not valid: ${reason}. ${FUNCTIONS_HELP}`,
  );
}

/** A user-defined function that cannot be evaluated. */
export function functionInvalid(name: string, reason: string): AppError {
  return templateValidationFailed(
    `The template function '${name}' is not valid: ${reason}. ${FUNCTIONS_HELP}`,
  );
}

/** An output that cannot be evaluated or has the wrong type. */
export function outputInvalid(at: Located, name: string, reason: string): AppError {
  return templateValidationFailed(
    `The template output '${name}' ${lineAndColumn(at)} is not valid: ${reason}. ${FUNCTIONS_HELP}`,
    violationOf(at),
  );
}

/** A resource whose expressions fail: `name` is the evaluated name when known, else as written. */
export function resourceInvalid(at: Located, name: string, reason: string): AppError {
  return templateValidationFailed(
    `The template resource '${name}' ${lineAndColumn(at)} is not valid: ${reason}. ${FUNCTIONS_HELP}`,
    violationOf(at),
  );
}

/** A resource whose name is empty or not a string. */
export function resourceNameEmpty(at: Located): AppError {
  return templateValidationFailed(
    `The template resource '' ${lineAndColumn(at)} is not valid. The name property cannot be null or empty. Please see https://aka.ms/arm-template/#resources for usage details.`,
    violationOf(at),
  );
}

/** A resource without `apiVersion` (Tessera has no api profiles). */
export function apiVersionMissing(at: Located, name: string): AppError {
  const { lineNumber, linePosition } = positionOf(at);
  return templateValidationFailed(
    `The template resource '${name}' is not valid. Both api-version property at line '${lineNumber}' and column '${linePosition}' and api-profile property for the template cannot be null or empty. Either explicitly specify the api-version for the resource or specify the api-profile for the template. Please see https://aka.ms/arm-template for usage details.`,
    violationOf(at),
  );
}

/** `type` or `apiVersion` written as an expression, which ARM does not evaluate. */
export function literalRequired(at: Located, name: string, property: string): AppError {
  return templateValidationFailed(
    `The template resource '${name}' ${lineAndColumn(at)} is not valid: the '${property}' property must be a literal value; template language expressions are not supported there. Please see https://aka.ms/arm-syntax-resources for usage details.`,
    violationOf(at),
  );
}

/** Name and type segment counts that do not fit (PROTOCOL-TOOLS Part C section 2.4). */
export function incorrectSegmentLengths(at: Located, name: string, type: string): AppError {
  return templateValidationFailed(
    `The template resource '${name}' for type '${type}' ${lineAndColumn(at)} has incorrect segment lengths. A nested resource type must have identical number of segments as its resource name. A root resource type must have segment length one greater than its resource name. Please see https://aka.ms/arm-template/#resources for usage details.`,
    violationOf(at),
  );
}

/** A `copy` whose count is not an integer from 0 to 800. */
export function invalidCopyCount(at: Located): AppError {
  return templateValidationFailed(
    `The template 'copy' definition ${lineAndColumn(at)} has an invalid copy count. The copy count must be a non-negative integer value and cannot exceed '800'. Please see https://aka.ms/arm-copy for usage details.`,
    violationOf(at),
  );
}

/** A `copy` without a usable name, or with a mode ARM does not know. */
export function invalidCopy(at: Located, reason: string): AppError {
  return templateValidationFailed(
    `The template 'copy' definition ${lineAndColumn(at)} is not valid: ${reason}. Please see https://aka.ms/arm-copy for usage details.`,
    violationOf(at),
  );
}

/** A `dependsOn` entry that names nothing in the template. */
export function resourceNotDefined(at: Located, entry: string): AppError {
  return templateValidationFailed(
    `The resource '${entry}' is not defined in the template. Please see https://aka.ms/arm-template for usage details.`,
    violationOf(at),
  );
}

/** A dependency cycle; `id` is the resource at which the cycle closed. */
export function circularDependency(at: Located, id: string): AppError {
  return templateValidationFailed(
    `Circular dependency detected on resource: '${id}'. Please see https://aka.ms/arm-syntax-resources for usage details.`,
    violationOf(at),
  );
}

/** `reference('name')` where no template resource has that name. */
export function templateReferenceNotFound(name: string): AppError {
  return templateValidationFailed(
    `The template reference '${name}' is not valid: could not find template resource or resource copy with this name. Please see https://aka.ms/arm-template-expressions/#reference for usage details.`,
  );
}

/** `reference(id)` to a resource outside the template, without an api-version. */
export function referenceNeedsApiVersion(at: Located, from: string, target: string): AppError {
  return templateValidationFailed(
    `The template resource '${from}' reference to '${target}' requires an API version. Please see https://aka.ms/arm-template for usage details.`,
    violationOf(at),
  );
}

/** More resources than a deployment may hold (800, best-practices.md "Template limits"). */
export function tooManyResources(limit: number, actual: number): AppError {
  return templateValidationFailed(
    `The number of template resources limit exceeded. Limit: '${limit}' and actual: '${actual}'. Please see https://aka.ms/arm-template for usage details.`,
  );
}
