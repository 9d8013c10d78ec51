// What client commands print: `--query` (JMESPath) and `--output json|table|tsv|none`, as `az` renders them.
import { search } from '@jmespath-community/jmespath';
import type { JSONValue } from '@jmespath-community/jmespath';
import { isRecord } from '../core/guards.js';

/** The output formats, `az`'s names. */
export const OUTPUT_FORMATS = ['json', 'table', 'tsv', 'none'] as const;
/** One of {@link OUTPUT_FORMATS}. */
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** A JMESPath expression that does not parse, or fails on this result: exit 2 like `az`. */
export class QueryError extends Error {
  override readonly name = 'QueryError';
}

/** `value` with `query` applied (JMESPath); `value` unchanged when there is none. */
export function applyQuery(value: unknown, query: string | undefined): unknown {
  if (query === undefined) return value;
  try {
    return search(value as JSONValue, query);
  } catch (error) {
    throw new QueryError(`argument --query: invalid jmespath_type value: '${query}'`, {
      cause: error,
    });
  }
}

/** Objects with their keys sorted, at every depth: `az`'s JSON output does so. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isRecord(value)) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys(value[key])]),
  );
}

/** The keys `az` leaves out of a table: they are long and the same on every row. */
const TABLE_SKIPPED = new Set(['id', 'type', 'etag']);

/**
 * One table row: the scalar, non-null top-level fields, headed by their name with its first
 * letter upper-cased; a bare scalar is a `Result` column, an array `Column1`, `Column2`...
 */
function tableRow(item: unknown, sorted: boolean): Map<string, string> {
  const row = new Map<string, string>();
  if (isRecord(item)) {
    const keys = sorted ? Object.keys(item).sort() : Object.keys(item);
    for (const key of keys) {
      const cell = item[key];
      if (TABLE_SKIPPED.has(key) || cell === null || cell === undefined) continue;
      if (typeof cell === 'object') continue;
      row.set(key.charAt(0).toUpperCase() + key.slice(1), tsvCell(cell));
    }
  } else if (Array.isArray(item)) {
    item.forEach((cell, i) => row.set(`Column${String(i + 1)}`, tsvCell(cell)));
  } else if (item !== null && item !== undefined) {
    row.set('Result', tsvCell(item));
  }
  return row;
}

/**
 * `az`'s table: a header, a dashed rule under each column, then one line per item, columns two
 * spaces apart and left-aligned. Without a query the columns are in key order; with one, in the
 * order the query built them.
 */
function table(value: unknown, queried: boolean): string {
  const rows = (Array.isArray(value) ? value : [value]).map((item) => tableRow(item, !queried));
  const headers: string[] = [];
  for (const row of rows)
    for (const key of row.keys()) if (!headers.includes(key)) headers.push(key);
  if (headers.length === 0) return '';
  const widths = headers.map((header) =>
    Math.max(header.length, ...rows.map((row) => (row.get(header) ?? '').length)),
  );
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [
    line(headers),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((row) => line(headers.map((header) => row.get(header) ?? ''))),
  ]
    .map((text) => `${text}\n`)
    .join('');
}

/** A cell of a tsv row as `az` writes it: arrays as their length, objects empty. */
function tsvCell(value: unknown): string {
  if (Array.isArray(value)) return String(value.length);
  if (isRecord(value)) return '';
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'string') return value;
  return typeof value === 'number' ? String(value) : '';
}

/**
 * `az`'s tsv: one line per item; an object's values (sorted by key unless a query ordered them)
 * tab-separated; a top-level boolean lower-case.
 */
function tsv(value: unknown, queried: boolean): string {
  const items = Array.isArray(value) ? value : [value];
  return items
    .map((item) => {
      if (isRecord(item)) {
        const keys = queried ? Object.keys(item) : Object.keys(item).sort();
        return keys.map((key) => tsvCell(item[key])).join('\t');
      }
      if (Array.isArray(item)) return item.map(tsvCell).join('\t');
      if (typeof item === 'boolean') return String(item);
      return tsvCell(item);
    })
    .map((line) => `${line}\n`)
    .join('');
}

/**
 * Renders a command's result: `query` first, then `format`. JSON is indented by 2 with keys
 * sorted; `none` prints nothing. Throws {@link QueryError} for a bad query.
 */
export function renderOutput(
  value: unknown,
  format: OutputFormat,
  query: string | undefined,
): string {
  const result = applyQuery(value, query);
  // As `az`: nothing at all when there is no result (a query that matched nothing).
  if (result === null || result === undefined) return '';
  const queried = query !== undefined;
  switch (format) {
    case 'json':
      return `${JSON.stringify(sortKeys(result), null, 2)}\n`;
    case 'table':
      return table(result, queried);
    case 'tsv':
      return tsv(result, queried);
    case 'none':
      return '';
  }
}
