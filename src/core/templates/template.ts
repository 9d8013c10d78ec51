// The template document: its sections read and checked for shape, each element kept with its path for errors.
import type { TemplateValue } from './context.js';
import {
  languageVersionNotSupported,
  NO_SOURCE,
  parameterTypeNotSupported,
  propertyTypeInvalid,
  requiredPropertyMissing,
  type Located,
  type TemplatePath,
  type TemplateSource,
} from './errors.js';
import { findKey, isObject, type TemplateObject } from './values.js';

/** The seven parameter (and output) types, lower-case; templates may write them in any case. */
export const PARAMETER_TYPES = [
  'string',
  'securestring',
  'int',
  'bool',
  'object',
  'secureobject',
  'array',
] as const;

/** A parameter or output type. */
export type ParameterType = (typeof PARAMETER_TYPES)[number];

/** How responses spell each type (`DeploymentExtended.properties.outputs.{name}.type`). */
export const PASCAL_TYPE_NAMES: Readonly<Record<ParameterType, string>> = {
  string: 'String',
  securestring: 'SecureString',
  int: 'Int',
  bool: 'Bool',
  object: 'Object',
  secureobject: 'SecureObject',
  array: 'Array',
};

/** A declared parameter (PROTOCOL-TOOLS Part C section 2.2). */
export interface ParameterDeclaration extends Located {
  /** The name as declared; lookups compare it case-insensitively. */
  readonly name: string;
  readonly type: ParameterType;
  /** Present when the declaration has `defaultValue` (which may be an expression). */
  readonly defaultValue?: TemplateValue;
  readonly allowedValues?: readonly TemplateValue[];
  readonly minValue?: number;
  readonly maxValue?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
}

/** A resource as written, before expansion; `children` are its nested `resources`. */
export interface ResourceDeclaration extends Located {
  readonly raw: TemplateObject;
  readonly children: readonly ResourceDeclaration[];
}

/** A declared output: `{type, value | copy, condition?}`. */
export interface OutputDeclaration extends Located {
  readonly name: string;
  readonly type: ParameterType;
  readonly raw: TemplateObject;
}

/** A member of `functions[].members`: called as `namespace.name(...)`. */
export interface UserFunctionDeclaration extends Located {
  /** `namespace.name`, lower-case. */
  readonly qualifiedName: string;
  readonly parameters: readonly { readonly name: string; readonly type: ParameterType }[];
  readonly outputType: ParameterType;
  readonly output: TemplateValue;
}

/** A template read and checked for shape; expressions are not evaluated yet. */
export interface Template {
  /** The document as sent (echoed by `deployment().properties.template` and export). */
  readonly document: TemplateObject;
  readonly source: TemplateSource;
  readonly schema: string;
  readonly contentVersion: string;
  readonly parameters: readonly ParameterDeclaration[];
  /** `variables` as written (a `copy` member included), with its path. */
  readonly variables: TemplateObject;
  readonly variablesPath: TemplatePath;
  readonly functions: readonly UserFunctionDeclaration[];
  readonly resources: readonly ResourceDeclaration[];
  readonly outputs: readonly OutputDeclaration[];
}

/** One member of an object being read, with its path. */
interface Member {
  readonly key: string;
  readonly value: TemplateValue;
  readonly path: TemplatePath;
}

/** Reads the members of one object of the document, each by name case-insensitively. */
class ObjectReader {
  constructor(
    readonly source: TemplateSource,
    readonly path: TemplatePath,
    readonly object: TemplateObject,
  ) {}

  /** Every member, in document order. */
  members(): Member[] {
    return Object.entries(this.object).map(([key, value]) => ({
      key,
      value,
      path: [...this.path, key],
    }));
  }

  member(name: string): Member | undefined {
    const key = findKey(this.object, name);
    if (key === undefined) return undefined;
    return { key, value: this.object[key] ?? null, path: [...this.path, key] };
  }

  required(name: string): Member {
    const found = this.member(name);
    if (found === undefined) throw requiredPropertyMissing(this, name);
    return found;
  }

  string(name: string, required = false): string | undefined {
    const found = required ? this.required(name) : this.member(name);
    if (found === undefined || found.value === null) return undefined;
    if (typeof found.value !== 'string') throw propertyTypeInvalid(this.locate(found), 'a string');
    return found.value;
  }

  integer(name: string): number | undefined {
    const found = this.member(name);
    if (found === undefined || found.value === null) return undefined;
    if (typeof found.value !== 'number' || !Number.isInteger(found.value)) {
      throw propertyTypeInvalid(this.locate(found), 'an integer');
    }
    return found.value;
  }

  objectOf(found: Member): ObjectReader {
    if (!isObject(found.value)) throw propertyTypeInvalid(this.locate(found), 'an object');
    return new ObjectReader(this.source, found.path, found.value);
  }

  arrayOf(found: Member): readonly TemplateValue[] {
    if (!Array.isArray(found.value)) throw propertyTypeInvalid(this.locate(found), 'an array');
    return found.value as readonly TemplateValue[];
  }

  locate(found: Member): Located {
    return { source: this.source, path: found.path };
  }
}

function readType(reader: ObjectReader, owner: string): ParameterType {
  const type = reader.string('type', true) ?? '';
  const lower = type.toLowerCase();
  const known = PARAMETER_TYPES.find((candidate) => candidate === lower);
  if (known === undefined) throw parameterTypeNotSupported(reader, owner, type);
  return known;
}

function readParameter(reader: ObjectReader, name: string): ParameterDeclaration {
  const type = readType(reader, name);
  const defaultValue = reader.member('defaultValue');
  const allowed = reader.member('allowedValues');
  const limit = <K extends 'minValue' | 'maxValue' | 'minLength' | 'maxLength'>(
    key: K,
  ): Partial<Record<K, number>> => {
    const value = reader.integer(key);
    return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
  };
  return {
    source: reader.source,
    path: reader.path,
    name,
    type,
    ...(defaultValue === undefined ? {} : { defaultValue: defaultValue.value }),
    ...(allowed === undefined || allowed.value === null
      ? {}
      : { allowedValues: reader.arrayOf(allowed) }),
    ...limit('minValue'),
    ...limit('maxValue'),
    ...limit('minLength'),
    ...limit('maxLength'),
  };
}

function readParameters(root: ObjectReader): ParameterDeclaration[] {
  const section = root.member('parameters');
  if (section === undefined || section.value === null) return [];
  const parameters = root.objectOf(section);
  return parameters
    .members()
    .map((declaration) => readParameter(parameters.objectOf(declaration), declaration.key));
}

function readResource(
  source: TemplateSource,
  path: TemplatePath,
  value: TemplateValue,
): ResourceDeclaration {
  if (!isObject(value)) throw propertyTypeInvalid({ source, path }, 'an object');
  const reader = new ObjectReader(source, path, value);
  reader.string('type', true);
  reader.required('name');
  const nested = reader.member('resources');
  const children =
    nested === undefined || nested.value === null
      ? []
      : reader
          .arrayOf(nested)
          .map((child, index) => readResource(source, [...nested.path, index], child));
  return { source, path, raw: value, children };
}

function readResources(root: ObjectReader): ResourceDeclaration[] {
  const section = root.required('resources');
  if (isObject(section.value)) {
    // languageVersion 2.0 writes resources as an object keyed by symbolic name.
    throw languageVersionNotSupported(root.locate(section), '2.0');
  }
  return root
    .arrayOf(section)
    .map((value, index) => readResource(root.source, [...section.path, index], value));
}

function readOutputs(root: ObjectReader): OutputDeclaration[] {
  const section = root.member('outputs');
  if (section === undefined || section.value === null) return [];
  const outputs = root.objectOf(section);
  return outputs.members().map((found) => {
    const name = found.key;
    const output = outputs.objectOf(found);
    const type = readType(output, name);
    if (output.member('value') === undefined && output.member('copy') === undefined) {
      throw requiredPropertyMissing(output, 'value');
    }
    return { source: output.source, path: output.path, name, type, raw: output.object };
  });
}

function objectAt(source: TemplateSource, path: TemplatePath, value: TemplateValue): ObjectReader {
  if (!isObject(value)) throw propertyTypeInvalid({ source, path }, 'an object');
  return new ObjectReader(source, path, value);
}

function readFunctionMember(
  namespace: string,
  name: string,
  reader: ObjectReader,
): UserFunctionDeclaration {
  const declared = reader.member('parameters');
  const parameters =
    declared === undefined || declared.value === null
      ? []
      : reader.arrayOf(declared).map((value, index) => {
          const parameter = objectAt(reader.source, [...declared.path, index], value);
          const parameterName = parameter.string('name', true) ?? '';
          return { name: parameterName, type: readType(parameter, parameterName) };
        });
  const output = reader.objectOf(reader.required('output'));
  return {
    source: reader.source,
    path: reader.path,
    qualifiedName: `${namespace}.${name}`.toLowerCase(),
    parameters,
    outputType: readType(output, `${namespace}.${name}`),
    output: output.required('value').value,
  };
}

function readFunctions(root: ObjectReader): UserFunctionDeclaration[] {
  const section = root.member('functions');
  if (section === undefined || section.value === null) return [];
  const declarations: UserFunctionDeclaration[] = [];
  root.arrayOf(section).forEach((value, index) => {
    const group = objectAt(root.source, [...section.path, index], value);
    const namespace = group.string('namespace', true) ?? '';
    const membersFound = group.member('members');
    if (membersFound === undefined || membersFound.value === null) return;
    const members = group.objectOf(membersFound);
    for (const found of members.members()) {
      declarations.push(readFunctionMember(namespace, found.key, members.objectOf(found)));
    }
  });
  return declarations;
}

/**
 * Reads a template document (PROTOCOL-TOOLS Part C section 2.1) and checks its shape: `$schema`,
 * `contentVersion` and `resources` required (Json.NET's "Required property … not found in JSON",
 * reported as "Deployment template parse failed"), parameter and output types among the seven
 * (any case), `resources` an array (`languageVersion` 2.0 and symbolic names are not supported
 * yet), user functions as `namespace`/`members`. Expressions are evaluated later, by the plan.
 *
 * @throws {AppError} `InvalidTemplate` with the `TemplateViolation` of the element at fault.
 */
export function readTemplate(value: TemplateValue, source: TemplateSource = NO_SOURCE): Template {
  if (!isObject(value)) throw propertyTypeInvalid({ source, path: [] }, 'an object');
  const root = new ObjectReader(source, [], value);
  const languageVersion = root.member('languageVersion');
  if (languageVersion !== undefined && typeof languageVersion.value === 'string') {
    if (!languageVersion.value.startsWith('1.')) {
      throw languageVersionNotSupported(root.locate(languageVersion), languageVersion.value);
    }
  }
  const schema = root.string('$schema', true) ?? '';
  const contentVersion = root.string('contentVersion', true) ?? '';
  const resources = readResources(root);
  const variablesFound = root.member('variables');
  const variables =
    variablesFound === undefined || variablesFound.value === null
      ? { object: {}, path: ['variables'] }
      : root.objectOf(variablesFound);
  return {
    document: value,
    source,
    schema,
    contentVersion,
    parameters: readParameters(root),
    variables: variables.object,
    variablesPath: variables.path,
    functions: readFunctions(root),
    resources,
    outputs: readOutputs(root),
  };
}
