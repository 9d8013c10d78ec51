// How much of an activity event is kept: every stored string cut to a documented length, marked.
import type { ActivityEvent } from '../model.js';
import { boundText } from './bounds.js';

/**
 * The most characters (UTF-16 units) each string of an activity event keeps; a longer value is
 * cut there and marked as audit strings are (`…[truncated N chars]`). ARM ids and URIs fit in
 * 2,048, GUIDs and the tracing headers ARM echoes (at most 256 printable characters) in 256.
 * `claims` keeps its first {@link ACTIVITY_LIMITS.claimEntries} entries.
 */
export const ACTIVITY_LIMITS = {
  id: 256,
  subscriptionId: 64,
  tenantId: 64,
  resourceGroup: 256,
  resourceId: 2048,
  resourceType: 512,
  resourceProvider: 256,
  operationName: 512,
  caller: 256,
  method: 16,
  uri: 2048,
  clientIp: 64,
  claimKey: 128,
  claimValue: 512,
  claimEntries: 32,
} as const;

const nullable = (text: string | null, max: number): string | null =>
  text === null ? null : boundText(text, max);

function boundClaims(claims: Readonly<Record<string, string>>): Record<string, string> {
  const bounded: Record<string, string> = {};
  for (const [key, value] of Object.entries(claims).slice(0, ACTIVITY_LIMITS.claimEntries)) {
    bounded[boundText(key, ACTIVITY_LIMITS.claimKey)] = boundText(
      value,
      ACTIVITY_LIMITS.claimValue,
    );
  }
  return bounded;
}

/**
 * `event` with every string cut to {@link ACTIVITY_LIMITS} (and marked where cut), so what one
 * event stores is bounded whatever a caller sent (a copy; `event` is not changed).
 */
export function boundActivityEvent(event: ActivityEvent): ActivityEvent {
  const L = ACTIVITY_LIMITS;
  return {
    ...event,
    eventDataId: boundText(event.eventDataId, L.id),
    operationId: boundText(event.operationId, L.id),
    subscriptionId: boundText(event.subscriptionId, L.subscriptionId),
    tenantId: boundText(event.tenantId, L.tenantId),
    resourceGroup: nullable(event.resourceGroup, L.resourceGroup),
    resourceId: boundText(event.resourceId, L.resourceId),
    resourceType: boundText(event.resourceType, L.resourceType),
    resourceProvider: boundText(event.resourceProvider, L.resourceProvider),
    operationName: boundText(event.operationName, L.operationName),
    callerObjectId: boundText(event.callerObjectId, L.id),
    callerAppId: nullable(event.callerAppId, L.id),
    caller: boundText(event.caller, L.caller),
    correlationId: boundText(event.correlationId, L.id),
    clientRequestId: nullable(event.clientRequestId, L.id),
    serviceRequestId: boundText(event.serviceRequestId, L.id),
    method: boundText(event.method, L.method),
    uri: nullable(event.uri, L.uri),
    clientIp: nullable(event.clientIp, L.clientIp),
    claims: boundClaims(event.claims),
  };
}
