// What every repository shares: the executor type, JSON columns, flags and constraint mapping.

import type { Kysely } from 'kysely';
import { AppError, conflict } from '../../core/errors.js';
import { isUniqueViolation } from '../dialect.js';
import type { Database, Flag } from '../schema.js';

/** The database or a transaction on it; repositories work the same on both. */
export type Executor = Kysely<Database>;

export const toFlag = (value: boolean): Flag => (value ? 1 : 0);
export const fromFlag = (value: number): boolean => value === 1;

/**
 * The JSON text of a value for a JSON column. V8's `JSON.stringify` recurses and throws a
 * `RangeError` on values nested some thousands deep (its `JSON.parse` does not, so a request can
 * bring one in); that becomes a 400 `InvalidRequest` rather than a crash, and nothing is written.
 * The surfaces bound nesting long before this (ARM at 64 levels); this is the store's own guard.
 */
export function toJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new AppError('InvalidRequest', 'The value is nested too deeply to be stored.', {
      status: 400,
      cause: error,
    });
  }
}

/** Parses a JSON column Tessera itself wrote with {@link toJson}; T names what was written. */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the stored shape
export function fromJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

/** Case-insensitive key for ARM ids, scopes and names. */
export const keyOf = (value: string): string => value.toLowerCase();

/** Runs an insert, turning a unique violation into a 409 with `message`. */
export async function insertOrConflict(
  run: () => Promise<unknown>,
  message: string,
): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict(message, { cause: error });
    throw error;
  }
}

/** Number of rows a delete or update touched, on either dialect. */
export function affected(result: { numDeletedRows?: bigint; numUpdatedRows?: bigint }): number {
  return Number(result.numDeletedRows ?? result.numUpdatedRows ?? 0n);
}

/**
 * Most values one `in (...)` list carries: far below SQLite's and PostgreSQL's bound-parameter
 * limits, and large enough that a page of VMs is one statement.
 */
export const IN_LIST_CHUNK = 500;

/** `items` in consecutive slices of at most `size`. */
export function chunked<T>(items: readonly T[], size: number = IN_LIST_CHUNK): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}
