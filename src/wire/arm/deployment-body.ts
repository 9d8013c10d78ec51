// A deployment request as ARM reads it: name, mode, location, the template and its parameters, what-if settings.
import type { TemplateValue } from '../../core/templates/context.js';
import type { TemplateSource } from '../../core/templates/errors.js';
import type { DeploymentMode } from '../../core/deployments/record.js';
import { armError, invalidRequestContent, locationRequired } from './arm-errors.js';
import { readDeploymentBody } from './template-body.js';

/** The longest deployment name (PROTOCOL-TOOLS Part C 1.1). */
export const MAX_DEPLOYMENT_NAME_LENGTH = 64;

const DEPLOY_HELP = 'Please see https://aka.ms/arm-deploy for usage details.';

/**
 * Checks a deployment's name: 1 to 64 letters, digits, `-`, `.`, `_`, `(` and `)`. ARM's
 * `InvalidDeployment` texts (azure-powershell#383, bicep#1994 for the characters; azure-docs#62281
 * for the length).
 */
export function validateDeploymentName(name: string): void {
  const invalid = [...new Set(name.match(/[^-\w.()]/gu) ?? [])];
  if (invalid.length > 0) {
    throw armError(
      'InvalidDeployment',
      `The provided deployment name '${name}' has these invalid characters: '${invalid.join('')}'. The name can only be a letter, digit, '-', '.' or '_'. ${DEPLOY_HELP}`,
    );
  }
  if (name.length > MAX_DEPLOYMENT_NAME_LENGTH) {
    throw armError(
      'InvalidDeployment',
      `The provided deployment name '${name}' has a length of '${name.length}' which exceeds the maximum length of '${MAX_DEPLOYMENT_NAME_LENGTH}'. ${DEPLOY_HELP}`,
    );
  }
}

/** What a PUT, `validate` or `whatIf` asks for. */
export interface DeploymentRequest {
  readonly mode: DeploymentMode;
  /** `location` (required at subscription scope: where the deployment's record lives). */
  readonly location?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly template: TemplateValue;
  /** Where the template's elements sit in the body's text. */
  readonly templateSource: TemplateSource;
  /** `properties.parameters` as sent (`{name: {value}}`), or undefined. */
  readonly parameters: TemplateValue | undefined;
  /** `whatIfSettings.resultFormat`. */
  readonly resultFormat: 'FullResourcePayloads' | 'ResourceIdOnly';
}

type JsonObject = { readonly [key: string]: TemplateValue };

function isObject(value: TemplateValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A member by name in any case, as Json.NET binds it. */
function member(object: JsonObject, name: string): TemplateValue | undefined {
  const key = Object.keys(object).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : object[key];
}

function required(name: string, path: string): never {
  throw invalidRequestContent(`Required property '${name}' not found in JSON. Path '${path}'.`);
}

function readMode(value: TemplateValue | undefined): DeploymentMode {
  if (value === undefined || value === null) return required('mode', 'properties');
  const known = ['Incremental', 'Complete'] as const;
  const found = known.find(
    (m) => typeof value === 'string' && m.toLowerCase() === value.toLowerCase(),
  );
  if (found === undefined) {
    throw invalidRequestContent(
      `Error converting value ${JSON.stringify(value)} to type 'DeploymentMode'. Path 'properties.mode'.`,
    );
  }
  return found;
}

function readTags(value: TemplateValue | undefined): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw invalidRequestContent("The value of 'tags' must be an object of string values.");
  }
  return value as Record<string, string>;
}

function readResultFormat(properties: JsonObject): DeploymentRequest['resultFormat'] {
  const settings = member(properties, 'whatIfSettings');
  const format = isObject(settings) ? member(settings, 'resultFormat') : undefined;
  if (typeof format === 'string' && format.toLowerCase() === 'resourceidonly') {
    return 'ResourceIdOnly';
  }
  return 'FullResourcePayloads';
}

/**
 * Reads the body of a deployment PUT, `validate` or `whatIf` (PROTOCOL-TOOLS Part C 1.3, 1.7) as
 * az sends it (JSONC, `template:` unquoted). `mode` is required (either case); a `templateLink` or
 * `parametersLink` is refused, since Tessera fetches nothing on a deployment's behalf; at
 * subscription scope `location` is required (`LocationRequired`).
 *
 * @throws {AppError} `InvalidRequestContent`, `InvalidTemplate` (parse faults), `InvalidDeployment`.
 */
export function readDeploymentRequest(
  text: string,
  at: 'resourceGroup' | 'subscription',
): DeploymentRequest {
  const read = readDeploymentBody(text);
  const properties = member(read.body, 'properties');
  if (!isObject(properties)) return required('properties', '');
  for (const link of ['templateLink', 'parametersLink']) {
    if (member(properties, link) !== undefined && member(properties, link) !== null) {
      throw armError(
        'InvalidDeployment',
        `The deployment's '${link}' is not supported: Tessera does not fetch templates or parameters on a deployment's behalf; send them inline in 'template' and 'parameters'.`,
      );
    }
  }
  if (read.template === undefined || read.template.value === null) {
    throw armError(
      'InvalidDeployment',
      "The deployment has no template: one of 'template' or 'templateLink' must be given.",
    );
  }
  const location = member(read.body, 'location');
  if (location !== undefined && location !== null && typeof location !== 'string') {
    throw invalidRequestContent("The value of 'location' must be a string.");
  }
  if (at === 'subscription' && (typeof location !== 'string' || location === '')) {
    throw locationRequired();
  }
  const tags = readTags(member(read.body, 'tags'));
  return {
    mode: readMode(member(properties, 'mode')),
    ...(typeof location === 'string' && location !== '' ? { location } : {}),
    ...(tags === undefined ? {} : { tags }),
    template: read.template.value,
    templateSource: read.template.source,
    parameters: read.parameters?.value ?? undefined,
    resultFormat: readResultFormat(properties),
  };
}
