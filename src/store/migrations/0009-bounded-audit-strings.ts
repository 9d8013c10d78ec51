// Migration 0009: audit rows written before strings were bounded are cut to the bounds, marked.

import { type Kysely, type Migration, sql } from 'kysely';
import { boundText } from '../../core/audit/bounds.js';

/**
 * The bounds as they were when this migration was written (`core/audit/bounds.ts`), frozen here
 * so the migration does the same on every database whatever later versions choose.
 */
const COLUMN_LIMITS = [
  ['resource', 2048],
  ['vm_id', 2048],
  ['reason', 1024],
  ['host_id', 256],
  ['principal_id', 256],
] as const;
const DETAIL_STRING_LIMIT = 512;
/** Rows whose `details` JSON is longer than this are rewritten with their strings cut. */
const DETAILS_CHECKED_ABOVE = 4096;
const BATCH = 200;

/** `value` with every string, at any depth, cut to {@link DETAIL_STRING_LIMIT}. */
function boundJson(value: unknown): unknown {
  if (typeof value === 'string') return boundText(value, DETAIL_STRING_LIMIT);
  if (Array.isArray(value)) return value.map(boundJson);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [
      boundText(k, DETAIL_STRING_LIMIT),
      boundJson(v),
    ]),
  );
}

function boundDetails(text: string): string {
  try {
    return JSON.stringify(boundJson(JSON.parse(text)));
  } catch {
    return JSON.stringify({ details: boundText(text, DETAIL_STRING_LIMIT) });
  }
}

/**
 * Before the audit log bounded its strings, a refused token request stored its `resource`, client
 * id and reason whole: an unauthenticated caller could write 60 KB per request. Existing rows are
 * cut as new ones are (`…[truncated N chars]` appended), so every stored string is bounded
 * whatever wrote it. No index is added: the retention sweep reads `audit_events_at` (0001) and
 * the `seq` key. Same on both dialects; the space is reused by later rows (run `VACUUM` on
 * SQLite to give it back to the file system).
 */
export const boundedAuditStringsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    for (const [name, limit] of COLUMN_LIMITS) {
      const column = sql.ref(name);
      await sql`update audit_events
        set ${column} = substr(${column}, 1, ${sql.lit(limit)}) || ${sql.lit('…[truncated ')}
          || cast(length(${column}) - ${sql.lit(limit)} as text) || ${sql.lit(' chars]')}
        where length(${column}) > ${sql.lit(limit)}`.execute(db);
    }
    for (let after = -1; ;) {
      const { rows } = await sql<{ seq: number; details: string }>`
        select seq, details from audit_events
        where seq > ${after} and length(details) > ${sql.lit(DETAILS_CHECKED_ABOVE)}
        order by seq limit ${sql.lit(BATCH)}`.execute(db);
      for (const row of rows) {
        await sql`update audit_events set details = ${boundDetails(row.details)}
          where seq = ${row.seq}`.execute(db);
      }
      const last = rows.at(-1);
      if (last === undefined || rows.length < BATCH) break;
      after = last.seq;
    }
  },
};
