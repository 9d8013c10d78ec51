// Deployments as `az` 2.45 shows them: the Python SDK's models (every field, null when absent), its timestamps, and az's error texts.
import { isRecord } from '../core/guards.js';

/**
 * The fields of the azure-mgmt-resource 2021-04-01 models az deserializes deployment answers into,
 * by model: a field named here is always printed (null when the answer lacks it), a field with a
 * model name is shaped by that model, `time` is an ISO-8601 instant. Fields the model does not
 * know are kept, as az flattens `additional_properties` back into its output.
 */
const MODELS = {
  DeploymentExtended: {
    id: '',
    name: '',
    type: '',
    location: '',
    tags: '',
    properties: 'DeploymentPropertiesExtended',
  },
  DeploymentPropertiesExtended: {
    provisioningState: '',
    correlationId: '',
    timestamp: 'time',
    duration: '',
    outputs: '',
    providers: 'Provider',
    dependencies: 'Dependency',
    templateLink: '',
    parameters: '',
    parametersLink: '',
    mode: '',
    debugSetting: '',
    onErrorDeployment: '',
    templateHash: '',
    outputResources: 'ResourceReference',
    validatedResources: 'ResourceReference',
    error: 'ErrorResponse',
  },
  DeploymentValidateResult: { error: 'ErrorResponse', properties: 'DeploymentPropertiesExtended' },
  Provider: {
    id: '',
    namespace: '',
    registrationState: '',
    registrationPolicy: '',
    resourceTypes: 'ProviderResourceType',
    providerAuthorizationConsentState: '',
  },
  ProviderResourceType: {
    resourceType: '',
    locations: '',
    locationMappings: '',
    aliases: '',
    apiVersions: '',
    defaultApiVersion: '',
    zoneMappings: '',
    apiProfiles: '',
    capabilities: '',
    properties: '',
  },
  Dependency: { dependsOn: 'BasicDependency', id: '', resourceType: '', resourceName: '' },
  BasicDependency: { id: '', resourceType: '', resourceName: '' },
  ResourceReference: { id: '' },
  ErrorResponse: {
    code: '',
    message: '',
    target: '',
    details: 'ErrorResponse',
    additionalInfo: '',
  },
  DeploymentOperation: { id: '', operationId: '', properties: 'DeploymentOperationProperties' },
  DeploymentOperationProperties: {
    provisioningOperation: '',
    provisioningState: '',
    timestamp: 'time',
    duration: '',
    serviceRequestId: '',
    statusCode: '',
    statusMessage: 'StatusMessage',
    targetResource: 'TargetResource',
    request: '',
    response: '',
  },
  StatusMessage: { status: '', error: 'ErrorResponse' },
  TargetResource: { id: '', resourceName: '', resourceType: '' },
  WhatIfOperationResult: { status: '', error: 'ErrorResponse', changes: 'WhatIfChange' },
  WhatIfChange: {
    resourceId: '',
    changeType: '',
    unsupportedReason: '',
    before: '',
    after: '',
    delta: 'WhatIfPropertyChange',
  },
  WhatIfPropertyChange: {
    path: '',
    propertyChangeType: '',
    before: '',
    after: '',
    children: 'WhatIfPropertyChange',
  },
} as const;

/** One of the models az shows. */
export type AzModel = keyof typeof MODELS;

/**
 * An ISO-8601 instant as Python's `datetime.isoformat()` prints what msrest read: microseconds
 * (ARM's seventh digit dropped, none when zero) and `+00:00` for UTC. Other text is left alone.
 */
export function pythonTimestamp(value: string): string {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/i.exec(
    value,
  );
  if (match === null) return value;
  const [, base = '', fraction = '', zone = ''] = match;
  const micro = fraction.padEnd(6, '0').slice(0, 6);
  return `${base}${/^0+$/.test(micro) ? '' : `.${micro}`}${zone.toUpperCase() === 'Z' ? '+00:00' : zone}`;
}

function shapeField(value: unknown, kind: string): unknown {
  if (value === undefined || value === null) return null;
  if (kind === '') return value;
  if (kind === 'time') return typeof value === 'string' ? pythonTimestamp(value) : value;
  const model = kind as AzModel;
  return Array.isArray(value) ? value.map((item) => azShape(item, model)) : azShape(value, model);
}

/**
 * `value` as az prints an answer it read into `model`: each of the model's fields present (null
 * when missing), nested models shaped alike, timestamps as Python prints them, unknown fields
 * kept. A non-object is returned as is.
 */
export function azShape(value: unknown, model: AzModel): unknown {
  if (!isRecord(value)) return value;
  const fields: Readonly<Record<string, string>> = MODELS[model];
  const shaped: Record<string, unknown> = { ...value };
  for (const [name, kind] of Object.entries(fields)) shaped[name] = shapeField(value[name], kind);
  return shaped;
}

/** A what-if answer as az's `WhatIfOperationResult`: `properties.changes` lifted to `changes`. */
export function azWhatIfResult(body: Record<string, unknown>): unknown {
  const { properties, ...rest } = body;
  const changes = isRecord(properties) ? properties.changes : undefined;
  return azShape({ ...rest, changes }, 'WhatIfOperationResult');
}

/** JSON text with every character beyond ASCII escaped, as Python's `ensure_ascii`. */
const asciiOnly = (text: string): string =>
  text.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** JSON as Python's `json.dumps` writes it by default: `", "` and `": "`, non-ASCII escaped. */
export function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (isRecord(value)) {
    const members = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${pythonJson(k)}: ${pythonJson(v)}`);
    return `{${members.join(', ')}}`;
  }
  return asciiOnly(JSON.stringify(value));
}

/** JSON as Python's `json.dumps(value, indent=2)` writes it: members in their order. */
export const pythonJsonIndented = (value: unknown): string =>
  asciiOnly(JSON.stringify(value, null, 2));

/**
 * The message az builds from an ARM error object a request was refused with (its
 * `_build_http_response_error_message`): the error without `details` as Python JSON, then
 * "Inner Errors: " and each detail (depth first), separated by blank lines.
 */
export function azHttpErrorMessage(error: Record<string, unknown>): string {
  const { details, ...head } = error;
  const inner = (detail: unknown): string[] => {
    if (!isRecord(detail)) return [`Inner Errors: \n${pythonJson(detail)}`];
    const { details: nested, ...own } = detail;
    const below = Array.isArray(nested) ? nested.flatMap(inner) : [];
    return [`Inner Errors: \n${pythonJson(own)}`, ...below];
  };
  const below = Array.isArray(details) ? details.flatMap(inner) : [];
  return [pythonJson(head), ...below].join('\n\n');
}

/**
 * The message az builds from an `error` inside a successful answer (validate, what-if): one
 * `code - message` line per error, its details below it (`_build_preflight_error_message`).
 */
export function azPreflightMessage(error: unknown): string {
  if (!isRecord(error)) return String(error);
  const own = `${String(error.code)} - ${String(error.message)}`;
  const details = Array.isArray(error.details) ? error.details.map(azPreflightMessage) : [];
  return [own, ...details].join('\n');
}

/**
 * Splits a resource id into its scope and the id relative to it, as az's `split_resource_id`:
 * `/subscriptions/{s}/resourceGroups/{g}/providers/{rest}` gives the group's id (subscription in
 * lower case) and `{rest}`.
 */
export function splitResourceId(id: string): { scope: string; relative: string } {
  let rest = id;
  const take = (pattern: RegExp): RegExpExecArray | null => {
    const match = pattern.exec(rest);
    if (match !== null) rest = rest.slice(match[0].length);
    return match;
  };
  const mg = take(/^\/?providers\/Microsoft.Management\/managementGroups\/([\p{L}\p{N}_.()-]+)/iu);
  const sub = take(/^\/?subscriptions\/([a-f0-9-]+)/i);
  const group = take(/^\/resourceGroups\/([\p{L}\p{N}_.()-]+)/iu);
  const relative = take(/^\/providers\/(.+)$/i)?.[1] ?? '';
  if (mg !== null) {
    const mgId = `Microsoft.Management/ManagementGroups/${mg[1] ?? ''}`;
    return relative === ''
      ? { scope: '/', relative: mgId }
      : { scope: `/providers/${mgId}`, relative };
  }
  if (sub !== null) {
    const scope = `/subscriptions/${(sub[1] ?? '').toLowerCase()}`;
    if (group === null) return { scope, relative };
    const groupId = `resourceGroups/${group[1] ?? ''}`;
    return relative === ''
      ? { scope, relative: groupId }
      : { scope: `${scope}/${groupId}`, relative };
  }
  return { scope: '/', relative };
}

/** az's table of one deployment (`transform_deployment`). */
export const DEPLOYMENT_TABLE =
  '{Name:name, State:properties.provisioningState, Timestamp:properties.timestamp, Mode:properties.mode, ResourceGroup:resourceGroup}';

/** az's table of deployments (`transform_deployments_list`): oldest first. */
export const DEPLOYMENTS_TABLE = `sort_by(@, &to_string(properties.timestamp))[].${DEPLOYMENT_TABLE}`;

/** az's table of a validation (`deployment_validate_table_format`). */
export const VALIDATION_TABLE =
  '{result:properties.provisioningState, correlationId:properties.correlationId}';
