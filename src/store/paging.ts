// Opaque page cursors: what a store hands out as `nextCursor` and takes back as `cursor`.

import { invalidParameter } from '../core/errors.js';

/** Encodes the sort key of the last item of a page. */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** Decodes a cursor made by {@link encodeCursor}; a malformed one is a 400 on `$skipToken`. */
export function decodeCursor(
  cursor: string,
  shape: readonly ('string' | 'number')[],
): (string | number)[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== shape.length ||
    !parsed.every((value, i) => typeof value === shape[i])
  ) {
    throw invalidParameter('$skipToken', 'The continuation token is not valid.');
  }
  return parsed as (string | number)[];
}

/** Builds a page from `limit + 1` fetched rows: the extra row says whether there is more. */
export function toPage<Row, T>(
  rows: readonly Row[],
  limit: number,
  map: (row: Row) => T,
  keyOf: (row: Row) => readonly (string | number)[],
): { items: T[]; nextCursor?: string } {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  const items = kept.map(map);
  return more && last !== undefined ? { items, nextCursor: encodeCursor(keyOf(last)) } : { items };
}
