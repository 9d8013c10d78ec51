// `POST /refusals`: callers an agent's IMDS refused, written to the audit log (one event per address and reason).
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { invalidParameter } from '../../core/errors.js';
import { isRecord } from '../../core/guards.js';
import type { AuditEvent, Host } from '../../core/model.js';
import type { Clock, Store } from '../../core/ports.js';
import {
  IMDS_REFUSAL_AUDIT_KIND,
  REFUSALS_MAX_ENTRIES,
  type ReportedRefusal,
} from '../../wire/agent-api.js';
import { bodyObject, stringMember } from './request-body.js';

const MAX_ADDRESS_CHARS = 64;
const MAX_REASON_CHARS = 256;
const MAX_COUNT = 2 ** 31 - 1;
/** Reported times may be this far ahead of the server's clock (clock skew between hosts). */
const MAX_FUTURE_MS = 5 * 60_000;

/**
 * Validates the whole report first (a bad entry writes nothing: 400 `InvalidParameter` whose
 * target names the entry and member), then appends every entry in one transaction. The event is
 * stamped with the server's time; the agent's `firstAt`/`lastAt` and `count` go to `details`.
 */
export async function recordRefusals(
  services: { readonly store: Store; readonly clock: Clock },
  host: Host,
  body: unknown,
): Promise<number> {
  const now = services.clock.now();
  const refusals = parseReport(body, now);
  await services.store.transaction(async (tx) => {
    for (const refusal of refusals) await tx.audit.append(auditEvent(host, refusal, now));
  });
  return refusals.length;
}

function auditEvent(host: Host, refusal: ReportedRefusal, at: number): AuditEvent {
  return {
    id: randomUUID(),
    at,
    kind: IMDS_REFUSAL_AUDIT_KIND,
    outcome: 'refused',
    tenantId: null,
    principalId: null,
    resource: null,
    vmId: null,
    hostId: host.id,
    tokenId: null,
    reason: refusal.reason,
    details: {
      address: refusal.address,
      count: refusal.count,
      firstAt: new Date(refusal.firstAt).toISOString(),
      lastAt: new Date(refusal.lastAt).toISOString(),
    },
  };
}

function parseReport(body: unknown, now: number): ReportedRefusal[] {
  const entries = bodyObject(body).refusals;
  if (!Array.isArray(entries) || entries.length === 0 || entries.length > REFUSALS_MAX_ENTRIES) {
    throw invalidParameter(
      'refusals',
      `'refusals' must be an array of 1 to ${REFUSALS_MAX_ENTRIES} entries.`,
    );
  }
  return entries.map((entry: unknown, i) => {
    const at = `refusals[${i}]`;
    if (!isRecord(entry)) throw invalidParameter(at, `'${at}' must be an object.`);
    const member: Readonly<Record<string, unknown>> = entry;
    const address = stringMember(member, 'address', MAX_ADDRESS_CHARS);
    if (isIP(address) === 0) {
      throw invalidParameter(`${at}.address`, `'${at}.address' must be an IP address.`);
    }
    const reason = stringMember(member, 'reason', MAX_REASON_CHARS);
    const count = integer(member, 'count', at, 1, MAX_COUNT);
    const firstAt = integer(member, 'firstAt', at, 0, now + MAX_FUTURE_MS);
    const lastAt = integer(member, 'lastAt', at, firstAt, now + MAX_FUTURE_MS);
    return { address, reason, count, firstAt, lastAt };
  });
}

function integer(
  entry: Readonly<Record<string, unknown>>,
  name: string,
  at: string,
  min: number,
  max: number,
): number {
  const value = entry[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalidParameter(
      `${at}.${name}`,
      `'${at}.${name}' must be an integer from ${min} to ${max}.`,
    );
  }
  return value;
}
