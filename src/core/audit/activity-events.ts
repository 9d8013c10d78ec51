// The Activity Log's events of one ARM operation: a Begin and an End, as Azure records them.
import type { ActivityEvent, EpochMs } from '../model.js';
import type { VerifiedAccessToken } from '../tokens/index.js';

/** What is known of one finished ARM write, delete or action. */
export interface ArmOperationFacts {
  /** The verified token of the caller (its claims are recorded, as Azure records them). */
  readonly caller: Pick<VerifiedAccessToken, 'objectId' | 'tenantId' | 'appId' | 'claims'>;
  readonly subscriptionId: string;
  /** Null above any resource group. */
  readonly resourceGroup: string | null;
  /** The scope the request addressed (as sent). */
  readonly resourceId: string;
  /** E.g. `Microsoft.Compute/virtualMachines`; its first segment is the provider namespace. */
  readonly resourceType: string;
  /** The RBAC action the request needed, e.g. `Microsoft.Compute/virtualMachines/write`. */
  readonly action: string;
  readonly method: string;
  readonly uri: string | null;
  /** The status code answered. */
  readonly httpStatus: number;
  readonly correlationId: string;
  readonly clientRequestId: string | null;
  /** `x-ms-request-id` of the response. */
  readonly serviceRequestId: string;
  readonly clientIp: string | null;
  readonly startedAt: EpochMs;
  readonly endedAt: EpochMs;
}

/** A claim as an event shows it: a string (`"iat": "1421876371"`, lists comma-joined). */
function claimText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(claimText).join(',');
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/** The caller as Azure shows it: a user's UPN (or e-mail), else the principal's object id. */
function callerName(caller: ArmOperationFacts['caller']): string {
  for (const claim of ['upn', 'email']) {
    const value = caller.claims[claim];
    if (typeof value === 'string' && value !== '') return value;
  }
  return caller.objectId;
}

/**
 * The two events of one ARM operation, sharing a new `operationId`: `BeginRequest` at
 * `startedAt` (status `Started`, no status code) and `EndRequest` at `endedAt`, `Succeeded` and
 * `Informational` below 400, else `Failed` and `Error`. Ids come from `newId` (operation, Begin,
 * End). Pure: nothing is written (see {@link recordActivity}).
 */
export function activityEventsFor(
  facts: ArmOperationFacts,
  newId: () => string,
): [begin: ActivityEvent, end: ActivityEvent] {
  const { caller } = facts;
  const failed = facts.httpStatus >= 400;
  const claims: Record<string, string> = {};
  for (const [name, value] of Object.entries(caller.claims)) {
    if (value !== undefined) claims[name] = claimText(value);
  }
  const shared = {
    operationId: newId(),
    subscriptionId: facts.subscriptionId,
    tenantId: caller.tenantId,
    resourceGroup: facts.resourceGroup,
    resourceId: facts.resourceId,
    resourceType: facts.resourceType,
    resourceProvider: facts.resourceType.split('/')[0] ?? facts.resourceType,
    operationName: facts.action,
    callerObjectId: caller.objectId,
    callerAppId: caller.appId ?? null,
    caller: callerName(caller),
    correlationId: facts.correlationId,
    clientRequestId: facts.clientRequestId,
    serviceRequestId: facts.serviceRequestId,
    method: facts.method,
    uri: facts.uri,
    clientIp: facts.clientIp,
    claims,
  };
  return [
    {
      ...shared,
      eventDataId: newId(),
      at: facts.startedAt,
      eventName: 'BeginRequest',
      status: 'Started',
      httpStatus: null,
      level: 'Informational',
    },
    {
      ...shared,
      eventDataId: newId(),
      at: facts.endedAt,
      eventName: 'EndRequest',
      status: failed ? 'Failed' : 'Succeeded',
      httpStatus: facts.httpStatus,
      level: failed ? 'Error' : 'Informational',
    },
  ];
}
