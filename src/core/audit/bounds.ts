// How much of an audit event is kept: every stored string is cut to a documented length, marked.
import type { AuditEvent } from '../model.js';

/**
 * The most characters (UTF-16 units) each string of an audit event keeps; a longer value is cut
 * there and {@link truncationMark} is appended. Sized for what legitimate values need: ARM ids and
 * resource URIs fit in 2,048, Entra's longest messages in 1,024, GUIDs, addresses and token ids
 * in 256. `details` strings are client ids, addresses and short words.
 */
export const AUDIT_LIMITS = {
  id: 64,
  kind: 64,
  tenantId: 64,
  principalId: 256,
  resource: 2048,
  vmId: 2048,
  hostId: 256,
  tokenId: 256,
  reason: 1024,
  /** Each string inside `details`, at any depth. */
  detailString: 512,
  /** Keys per object and items per array inside `details`; the rest are dropped. */
  detailEntries: 32,
  /** Objects and arrays nested deeper than this inside `details` become a mark. */
  detailDepth: 3,
} as const;

/** What replaces the cut part of a string: `…[truncated 58000 chars]`. */
export function truncationMark(removed: number): string {
  return `…[truncated ${removed} chars]`;
}

/** `text` cut to `max` characters and marked (see {@link truncationMark}), or unchanged. */
export function boundText(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max) + truncationMark(text.length - max);
}

function boundNullable(text: string | null, max: number): string | null {
  return text === null ? null : boundText(text, max);
}

function boundValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return boundText(value, AUDIT_LIMITS.detailString);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= AUDIT_LIMITS.detailDepth) return '…[truncated]';
  if (Array.isArray(value)) {
    const kept = value.slice(0, AUDIT_LIMITS.detailEntries).map((v) => boundValue(v, depth + 1));
    return value.length > kept.length
      ? [...kept, truncationMark(value.length - kept.length)]
      : kept;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  const bounded: Record<string, unknown> = {};
  for (const [key, v] of entries.slice(0, AUDIT_LIMITS.detailEntries)) {
    bounded[boundText(key, AUDIT_LIMITS.detailString)] = boundValue(v, depth + 1);
  }
  if (entries.length > AUDIT_LIMITS.detailEntries) {
    bounded.truncatedEntries = entries.length - AUDIT_LIMITS.detailEntries;
  }
  return bounded;
}

/**
 * `event` with every string cut to {@link AUDIT_LIMITS} (and marked where cut), so what one
 * event stores is bounded whatever a caller sent (a copy; `event` is not changed).
 */
export function boundAuditEvent(event: AuditEvent): AuditEvent {
  return {
    ...event,
    id: boundText(event.id, AUDIT_LIMITS.id),
    kind: boundText(event.kind, AUDIT_LIMITS.kind),
    tenantId: boundNullable(event.tenantId, AUDIT_LIMITS.tenantId),
    principalId: boundNullable(event.principalId, AUDIT_LIMITS.principalId),
    resource: boundNullable(event.resource, AUDIT_LIMITS.resource),
    vmId: boundNullable(event.vmId, AUDIT_LIMITS.vmId),
    hostId: boundNullable(event.hostId, AUDIT_LIMITS.hostId),
    tokenId: boundNullable(event.tokenId, AUDIT_LIMITS.tokenId),
    reason: boundNullable(event.reason, AUDIT_LIMITS.reason),
    details: boundValue(event.details, 0) as Readonly<Record<string, unknown>>,
  };
}
