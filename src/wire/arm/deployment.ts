// Deployments on the wire: DeploymentExtended, its operations and async status, and ARM's deployment errors.
import { AppError } from '../../core/errors.js';
import type {
  DeploymentRecord,
  ErrorRecord,
  OperationRecord,
  PlannedRecord,
} from '../../core/deployments/record.js';
import { RESOURCE_TYPES } from '../../core/resource-types.js';
import { armError } from './arm-errors.js';

const OPERATIONS_HELP = 'Please see https://aka.ms/arm-deployment-operations for usage details.';

/** An instant as ARM writes a deployment's: seven fractional digits and `Z`. */
export function deploymentTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

/** A duration as ARM writes one (`PT0S`, `PT1.234S`, `PT2M3.5S`): ISO 8601, .NET's TimeSpan. */
export function deploymentDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = (total % 60_000) / 1000;
  const parts = `${hours > 0 ? `${hours}H` : ''}${minutes > 0 ? `${minutes}M` : ''}`;
  return `PT${parts}${seconds > 0 || parts === '' ? `${seconds}S` : ''}`;
}

const STATUS_NAMES: Readonly<Record<number, string>> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'NoContent',
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  412: 'PreconditionFailed',
  429: 'TooManyRequests',
  500: 'InternalServerError',
  503: 'ServiceUnavailable',
};

/** `DeploymentFailed`: the deployment's error when resources failed, one detail per failure. */
export function deploymentFailedError(deploymentId: string, details: readonly ErrorRecord[]) {
  return {
    code: 'DeploymentFailed',
    target: deploymentId,
    message: `At least one resource deployment operation failed. Please list deployment operations for details. ${OPERATIONS_HELP}`,
    details,
  };
}

/** The error a finished deployment shows, if it failed. */
export function deploymentError(id: string, record: DeploymentRecord): ErrorRecord | undefined {
  if (record.state !== 'Failed') return undefined;
  const failed = record.operations.flatMap((op) => (op.error === undefined ? [] : [op.error]));
  if (failed.length > 0) return deploymentFailedError(id, failed);
  return record.error;
}

/** `DeploymentOutputEvaluationFailed`: every resource deployed, an output could not be evaluated. */
export function deploymentOutputsFailed(id: string, cause: ErrorRecord): ErrorRecord {
  return {
    code: 'DeploymentOutputEvaluationFailed',
    target: id,
    message: `Unable to evaluate template outputs. Please see error details and deployment operations. ${OPERATIONS_HELP}`,
    details: [cause],
  };
}

/** A deployment whose server stopped mid-run (Tessera's text: ARM's runs cannot be orphaned). */
export function deploymentAbandoned(id: string, since: number): ErrorRecord {
  return {
    code: 'DeploymentFailed',
    target: id,
    message: `The server running this deployment stopped before it finished (no progress since ${deploymentTimestamp(since)}). What it deployed stays; deploy again to finish it.`,
  };
}

function providersOf(resources: readonly PlannedRecord[]): unknown[] {
  const byNamespace = new Map<string, Map<string, Set<string>>>();
  for (const resource of resources) {
    const [namespace = '', ...rest] = resource.resourceType.split('/');
    const types = byNamespace.get(namespace) ?? new Map<string, Set<string>>();
    byNamespace.set(namespace, types);
    const locations = types.get(rest.join('/')) ?? new Set<string>();
    types.set(rest.join('/'), locations);
    if (resource.location !== undefined) locations.add(resource.location);
  }
  return [...byNamespace].map(([namespace, types]) => ({
    namespace,
    resourceTypes: [...types].map(([resourceType, locations]) => ({
      resourceType,
      locations: [...locations],
    })),
  }));
}

function dependenciesOf(resources: readonly PlannedRecord[]): unknown[] {
  const byId = new Map(resources.map((r) => [r.id.toLowerCase(), r]));
  return resources
    .filter((r) => r.dependsOn.length > 0)
    .map((r) => ({
      dependsOn: r.dependsOn.map((id) => {
        const target = byId.get(id.toLowerCase());
        return { id, resourceType: target?.resourceType, resourceName: target?.resourceName };
      }),
      id: r.id,
      resourceType: r.resourceType,
      resourceName: r.resourceName,
    }));
}

/** What a deployment is called where it lives. */
export interface DeploymentHead {
  readonly id: string;
  readonly name: string;
  readonly location?: string | null;
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * `DeploymentExtended` (PROTOCOL-TOOLS Part C 1.4): the envelope, then `properties` with
 * `templateHash`, `parameters`, `mode`, `provisioningState`, `timestamp`, `duration`,
 * `correlationId`, `providers`, `dependencies`, and once finished `outputs`, `outputResources`
 * and `error`. `now` measures a running deployment's duration.
 */
export function renderDeployment(head: DeploymentHead, record: DeploymentRecord, now: number) {
  const finished = record.endedAt !== undefined;
  const error = deploymentError(head.id, record);
  return {
    id: head.id,
    name: head.name,
    type: RESOURCE_TYPES.deployments,
    ...(head.location == null ? {} : { location: head.location }),
    ...(head.tags === undefined || Object.keys(head.tags).length === 0 ? {} : { tags: head.tags }),
    properties: {
      templateHash: record.templateHash,
      parameters: record.parameters,
      mode: record.mode,
      provisioningState: record.state,
      timestamp: deploymentTimestamp(record.endedAt ?? record.startedAt),
      duration: deploymentDuration((record.endedAt ?? now) - record.startedAt),
      correlationId: record.correlationId,
      providers: providersOf(record.resources),
      dependencies: dependenciesOf(record.resources),
      ...(record.outputs === undefined ? {} : { outputs: record.outputs }),
      ...(finished ? { outputResources: record.outputResources.map((id) => ({ id })) } : {}),
      ...(error === undefined ? {} : { error }),
    },
  };
}

/** `validate`'s answer: the deployment as it would start, with the resources it would deploy. */
export function renderValidation(head: DeploymentHead, record: DeploymentRecord) {
  const rendered = renderDeployment(head, { ...record, state: 'Succeeded' }, record.startedAt);
  return {
    ...rendered,
    properties: {
      ...rendered.properties,
      duration: 'PT0S',
      validatedResources: record.resources.map((r) => ({ id: r.id })),
    },
  };
}

/** One `DeploymentOperation` (PROTOCOL-TOOLS Part C 1.8). */
export function renderOperation(deploymentId: string, op: OperationRecord, now: number) {
  const statusCode = op.statusCode === undefined ? undefined : STATUS_NAMES[op.statusCode];
  return {
    id: `${deploymentId}/operations/${op.operationId}`,
    operationId: op.operationId,
    properties: {
      provisioningOperation: op.kind,
      provisioningState: op.state,
      timestamp: deploymentTimestamp(op.endedAt ?? op.startedAt),
      duration: deploymentDuration((op.endedAt ?? now) - op.startedAt),
      ...(op.serviceRequestId === undefined
        ? {}
        : { trackingId: op.serviceRequestId, serviceRequestId: op.serviceRequestId }),
      ...(op.statusCode === undefined ? {} : { statusCode: statusCode ?? String(op.statusCode) }),
      ...(op.error === undefined ? {} : { statusMessage: { status: 'Failed', error: op.error } }),
      targetResource: {
        id: op.resourceId,
        resourceType: op.resourceType,
        resourceName: op.resourceName,
      },
    },
  };
}

/** The body at a deployment's `Azure-AsyncOperation` URL: `{status, error?}`. */
export function renderOperationStatus(id: string, record: DeploymentRecord) {
  const status = record.state === 'Accepted' ? 'Running' : record.state;
  const error = deploymentError(id, record);
  return { status, ...(error === undefined ? {} : { error }) };
}

/** `DeploymentNotFound` (404), ARM's text (azure-cli#28834). */
export function deploymentNotFound(name: string): AppError {
  return armError('DeploymentNotFound', `Deployment '${name}' could not be found.`, {
    status: 404,
  });
}

/** .NET's general date-time pattern, as ARM quotes instants in `DeploymentActive`. */
function dotNetDate(ms: number): string {
  const d = new Date(ms);
  const hours = d.getUTCHours() % 12 === 0 ? 12 : d.getUTCHours() % 12;
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${hours}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${d.getUTCHours() < 12 ? 'AM' : 'PM'}`;
}

/**
 * `DeploymentActive` (409) for a PUT while the same deployment runs: ARM's text (ARO-RP tests,
 * PROTOCOL-TOOLS Part C 3); a deployment expires seven days after it started.
 */
export function deploymentActive(name: string, startedAt: number): AppError {
  return new AppError(
    'Conflict',
    `Unable to edit or replace deployment '${name}': previous deployment from '${dotNetDate(startedAt)}' is still active (expiration time is '${dotNetDate(startedAt + 7 * 86_400_000)}'). Please see https://aka.ms/arm-deploy for usage details.`,
    { status: 409, wire: { arm: 'DeploymentActive' } },
  );
}

/** `DeploymentActive` (409) for a DELETE while the deployment runs (Tessera's text). */
export function deploymentStillRunning(name: string): AppError {
  return new AppError(
    'Conflict',
    `The deployment '${name}' is still running and cannot be deleted; cancel it first. Please see https://aka.ms/arm-deploy for usage details.`,
    { status: 409, wire: { arm: 'DeploymentActive' } },
  );
}

/** `DeploymentCannotBeCancelled` (409): only an Accepted or Running deployment can be (text Tessera's). */
export function deploymentCannotBeCancelled(name: string, state: string): AppError {
  return new AppError(
    'Conflict',
    `The deployment '${name}' cannot be cancelled because its provisioning state is '${state}'. Only a deployment that is 'Accepted' or 'Running' can be cancelled.`,
    { status: 409, wire: { arm: 'DeploymentCannotBeCancelled' } },
  );
}
