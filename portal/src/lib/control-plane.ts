// Activity Log events as the portal lists them: one row per ARM operation, from its End event.
import type { EventData } from '../api/activity-log.js';

/** One finished ARM write, delete or action, as the control-plane table shows it. */
export interface OperationRow {
  /** The End event's `eventDataId`. */
  readonly id: string;
  /** `eventTimestamp` in JavaScript's ISO form (milliseconds), so rows sort as strings. */
  readonly time: string;
  /** As Azure shows the caller: a user's UPN, else the principal's object id. */
  readonly caller: string;
  /** The RBAC action, e.g. `Microsoft.ManagedIdentity/userAssignedIdentities/write`. */
  readonly operation: string;
  readonly method: string;
  readonly resourceId: string;
  /** The resource's name (a child's with its parents', `demo-vm/MyExtension`). */
  readonly resourceName: string;
  /** E.g. `Microsoft.Compute/virtualMachines/extensions`. */
  readonly resourceType: string;
  /** `Succeeded` or `Failed` (Azure has a few more, shown as they come). */
  readonly status: string;
  readonly failed: boolean;
  /** The status code's reason, `Forbidden (HTTP Status Code: 403)`; empty when the event has none. */
  readonly reason: string;
  readonly correlationId: string;
}

/** `iso` as `Date#toISOString` writes it; Azure writes seven fraction digits. */
export function isoTime(iso: string): string {
  const at = Date.parse(iso);
  return Number.isNaN(at) ? iso : new Date(at).toISOString();
}

/**
 * The name and type of the resource `resourceId` addresses: after its last `/providers/`, the
 * namespace, then type and name segments in turn (`Ns/t1/n1/t2/n2` is `Ns/t1/t2` named `n1/n2`);
 * a resource group or subscription by its own name. `type` (the event's `resourceType`) wins
 * over the type read from the id.
 */
export function resourceOf(
  resourceId: string,
  type?: string,
): { readonly name: string; readonly type: string } {
  const parts = resourceId.split('/').filter(Boolean);
  const at = parts.map((p) => p.toLowerCase()).lastIndexOf('providers');
  let name: string;
  let derived: string;
  if (at === -1) {
    const inGroup = parts[2]?.toLowerCase() === 'resourcegroups';
    name = (inGroup ? parts[3] : parts[1]) ?? resourceId;
    derived = inGroup ? 'Microsoft.Resources/resourceGroups' : 'Microsoft.Resources/subscriptions';
  } else {
    const rest = parts.slice(at + 1);
    const types = rest.filter((_, i) => i % 2 === 1);
    const names = rest.filter((_, i) => i > 0 && i % 2 === 0);
    name = names.length === 0 ? (parts[parts.length - 1] ?? resourceId) : names.join('/');
    derived = [rest[0] ?? '', ...types].join('/');
  }
  return { name, type: type === undefined || type === '' ? derived : type };
}

/** The row of an End event (`eventName` EndRequest); undefined for any other event. */
export function operationRow(event: EventData): OperationRow | undefined {
  if (event.eventName?.value !== 'EndRequest') return undefined;
  const resourceId = event.resourceId ?? '';
  const resource = resourceOf(resourceId, event.resourceType?.value);
  const status = event.status?.value ?? '';
  const sub = event.subStatus;
  return {
    id: event.eventDataId,
    time: isoTime(event.eventTimestamp),
    caller: event.caller ?? '',
    operation: event.operationName?.value ?? '',
    method: event.httpRequest?.method ?? '',
    resourceId,
    resourceName: resource.name,
    resourceType: resource.type,
    status,
    failed: status === 'Failed',
    reason: sub?.localizedValue || sub?.value || event.properties?.statusCode || '',
    correlationId: event.correlationId ?? '',
  };
}

/** The rows of `events`' End events, in the order given (the API's newest first). */
export function operationRows(events: readonly EventData[]): OperationRow[] {
  return events.flatMap((event) => {
    const row = operationRow(event);
    return row === undefined ? [] : [row];
  });
}
