// Reads a deployment request body as az sends it, with the template and its parameters located for errors.
import type { AppError } from '../../core/errors.js';
import type { TemplateValue } from '../../core/templates/context.js';
import {
  bodyPath,
  templateParseFailed,
  type SourcePosition,
  type TemplatePath,
  type TemplateSource,
} from '../../core/templates/errors.js';
import { invalidRequestContent } from './arm-errors.js';
import { JsonReadFault, readLenientJson, type LocatedJson } from './lenient-json.js';

/** A deployment PUT (or validate, or what-if) body, with its template and parameters located. */
export interface DeploymentBody {
  /** The whole body; `properties.template` and `properties.parameters` as objects even when sent as strings. */
  readonly body: { readonly [key: string]: TemplateValue };
  /** `properties.template`; positions count from the body's text, so lines match the user's file. */
  readonly template?: LocatedJson;
  /** `properties.parameters`. */
  readonly parameters?: LocatedJson;
}

function isObject(
  value: TemplateValue | undefined,
): value is { readonly [key: string]: TemplateValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ARM binds the body's members by name case-insensitively, as Json.NET does.
function memberKey(
  object: { readonly [key: string]: TemplateValue },
  name: string,
): string | undefined {
  if (Object.hasOwn(object, name)) return name;
  return Object.keys(object).find((key) => key.toLowerCase() === name.toLowerCase());
}

function within(source: TemplateSource, prefix: TemplatePath): TemplateSource {
  return {
    start: (path) => source.start([...prefix, ...path]),
    end: (path) => source.end([...prefix, ...path]),
  };
}

/** A fault inside the template, its path made relative to the template as ARM words it. */
function templateFault(detail: string, path: TemplatePath, position: SourcePosition): AppError {
  const relative = new JsonReadFault(detail, path, position);
  return templateParseFailed(relative.message, { ...position, path: bodyPath(path) });
}

function isTemplatePath(path: TemplatePath): boolean {
  const [first, second] = path;
  return (
    typeof first === 'string' &&
    first.toLowerCase() === 'properties' &&
    typeof second === 'string' &&
    second.toLowerCase() === 'template'
  );
}

/** `properties.template` or `properties.parameters`, read again when it was sent as a JSON string. */
function located(
  properties: { readonly [key: string]: TemplateValue },
  source: TemplateSource,
  key: string,
): LocatedJson {
  const value = properties[key] ?? null;
  if (typeof value !== 'string') return { value, source };
  try {
    return readLenientJson(value);
  } catch (error) {
    if (!(error instanceof JsonReadFault)) throw error;
    if (key.toLowerCase() === 'parameters') throw invalidRequestContent(error.message);
    throw templateFault(error.detail, error.path, error.position);
  }
}

/**
 * Reads a deployment request body (PROTOCOL-TOOLS Part C sections 1.3 and 1.11): az splices the
 * template file's raw text after an unquoted `template:` key, comments and multi-line strings
 * included; `template` and `parameters` may also arrive as JSON strings. Positions count from the
 * start of the body, so lines match the user's file. A fault inside the template is
 * `InvalidTemplate` "Deployment template parse failed: '…'." with a path relative to the
 * template; any other fault is `InvalidRequestContent`.
 */
export function readDeploymentBody(text: string): DeploymentBody {
  let parsed: LocatedJson;
  try {
    parsed = readLenientJson(text);
  } catch (error) {
    if (!(error instanceof JsonReadFault)) throw error;
    if (!isTemplatePath(error.path)) throw invalidRequestContent(error.message);
    throw templateFault(error.detail, error.path.slice(2), error.position);
  }
  const body = parsed.value;
  if (!isObject(body)) throw invalidRequestContent('The request content must be a JSON object.');
  const propertiesKey = memberKey(body, 'properties');
  const properties = propertiesKey === undefined ? undefined : body[propertiesKey];
  if (propertiesKey === undefined || !isObject(properties)) return { body };
  const read = (name: string): [string, LocatedJson] | undefined => {
    const key = memberKey(properties, name);
    if (key === undefined) return undefined;
    return [key, located(properties, within(parsed.source, [propertiesKey, key]), key)];
  };
  const template = read('template');
  const parameters = read('parameters');
  const merged: Record<string, TemplateValue> = { ...properties };
  if (template !== undefined) merged[template[0]] = template[1].value;
  if (parameters !== undefined) merged[parameters[0]] = parameters[1].value;
  return {
    body: { ...body, [propertiesKey]: merged },
    ...(template === undefined ? {} : { template: template[1] }),
    ...(parameters === undefined ? {} : { parameters: parameters[1] }),
  };
}
