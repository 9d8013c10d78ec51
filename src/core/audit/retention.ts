// The audit log's retention: events older than the maximum age, or beyond the newest maximum rows, are deleted.
import type { EpochMs } from '../model.js';
import type { AuditLog, Store } from '../ports.js';

/** How much audit history is kept (`audit.retention`). */
export interface AuditRetentionPolicy {
  readonly maxAgeDays: number;
  readonly maxRows: number;
}

/** The defaults of `audit.retention` (docs/configuration.md). */
export const DEFAULT_AUDIT_RETENTION: AuditRetentionPolicy = { maxAgeDays: 30, maxRows: 1_000_000 };

/** Rows one delete statement removes at most: short transactions, short locks. */
export const AUDIT_PRUNE_BATCH = 5000;
/** Batches one sweep runs at most; a longer backlog is left for the next sweep. */
const MAX_BATCHES = 100;

const DAY_MS = 86_400_000;

/**
 * Deletes the events `policy` no longer keeps at `now`, in batches of {@link AUDIT_PRUNE_BATCH}
 * (at most 500,000 per call). Safe to run from every replica at once: each batch is an
 * idempotent range delete. Resolves with the number deleted. Takes any log that prunes as the
 * audit log does (the audit log, ARM's activity log).
 */
export async function pruneAuditLog(
  audit: Pick<AuditLog, 'prune'>,
  now: EpochMs,
  policy: AuditRetentionPolicy,
): Promise<number> {
  const retention = { before: now - policy.maxAgeDays * DAY_MS, keep: policy.maxRows };
  let total = 0;
  for (let batch = 0; batch < MAX_BATCHES; batch++) {
    const deleted = await audit.prune(retention, AUDIT_PRUNE_BATCH);
    total += deleted;
    if (deleted < AUDIT_PRUNE_BATCH) break;
  }
  return total;
}

/**
 * The retention sweep: prunes the audit log and ARM's activity log, each with `policy` applied
 * to its own rows (`maxRows` each), the activity log even when the audit log's prune fails.
 * Resolves with the numbers deleted; rejects with the first failure once both have run.
 */
export async function sweepAuditRetention(
  store: Pick<Store, 'audit' | 'activity'>,
  now: EpochMs,
  policy: AuditRetentionPolicy,
): Promise<{ audit: number; activity: number }> {
  // One after the other: on SQLite both would queue on the one writer anyway.
  let failure: { error: unknown } | undefined;
  const attempt = async (log: Pick<AuditLog, 'prune'>): Promise<number> => {
    try {
      return await pruneAuditLog(log, now, policy);
    } catch (error) {
      failure ??= { error };
      return 0;
    }
  };
  const audit = await attempt(store.audit);
  const activity = await attempt(store.activity);
  if (failure !== undefined) throw failure.error;
  return { audit, activity };
}
