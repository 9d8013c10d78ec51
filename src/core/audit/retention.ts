// The audit log's retention: events older than the maximum age, or beyond the newest maximum rows, are deleted.
import type { EpochMs } from '../model.js';
import type { AuditLog } from '../ports.js';

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
 * idempotent range delete. Resolves with the number deleted.
 */
export async function pruneAuditLog(
  audit: AuditLog,
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
