// The Activity Log's `$filter`: the and-joined clauses Azure documents and real clients (az, the SDKs) send.
import type { AppError } from '../../core/errors.js';
import type { EpochMs } from '../../core/model.js';
import type { ActivityQuery } from '../../core/ports.js';
import { armError } from './arm-errors.js';

/** How far back a query may start: Azure keeps (and serves) 90 days of activity. */
export const ACTIVITY_LOG_MAX_AGE_DAYS = 90;

const DAY_MS = 86_400_000;
/** The longest `$filter` read: every accepted clause once, with ARM ids, fits many times over. */
const MAX_FILTER_LENGTH = 4096;

/**
 * What a `$filter` asks for: a time range (inclusive; `to` is the `eventTimestamp le` time, or
 * the time of the request when there is none) and the equality filters given.
 */
export type ActivityFilter = Omit<ActivityQuery, 'subscriptionId'>;

type EqField = Exclude<keyof ActivityFilter, 'from' | 'to'>;

/** `<field> eq '<value>'` field names (lower-cased) and what each filters. */
const EQ_FIELDS: Readonly<Record<string, EqField>> = {
  correlationid: 'correlationId',
  resourcegroupname: 'resourceGroup',
  // The spec says `resourceUri`; az (`--resource-id`) sends `resourceId`.
  resourceid: 'resourceId',
  resourceuri: 'resourceId',
  resourceprovider: 'resourceProvider',
  caller: 'caller',
  status: 'status',
};

const SYNTAX =
  "Clauses are joined with 'and': eventTimestamp ge '<time>' (required), eventTimestamp le '<time>', and <field> eq '<value>' for correlationId, resourceGroupName, resourceId (or resourceUri), resourceProvider, caller and status.";

/**
 * `BadRequest` (400), the code Azure Monitor answers a `$filter` it cannot use with (observed:
 * https://github.com/MicrosoftDocs/feedback/issues/319, "$filter searching parameters invalid");
 * the texts are Tessera's.
 */
function badFilter(filter: string, reason: string): AppError {
  const shown = filter.length > 200 ? `${filter.slice(0, 200)}…` : filter;
  return armError('BadRequest', `The $filter '${shown}' is not valid: ${reason} ${SYNTAX}`);
}

/** One `<name> <operator> <value>` clause as written. */
interface Clause {
  readonly name: string;
  readonly operator: string;
  readonly value: string;
  readonly quoted: boolean;
}

/**
 * Splits `filter` into its clauses. Values are either quoted (`'…'`, a quote inside written
 * twice, as OData does) or bare up to the next space (az's unquoted timestamps). Throws the
 * `$filter` error with `fail` for anything else.
 */
function lex(filter: string, fail: (reason: string) => AppError): Clause[] {
  const clauses: Clause[] = [];
  const word = /[A-Za-z]+/y;
  const space = /\s+/y;
  const bare = /\S+/y;
  let at = 0;
  const skipSpace = (required: boolean): void => {
    space.lastIndex = at;
    const matched = space.exec(filter);
    if (required && at >= filter.length) throw fail('it ends too early.');
    if (matched === null && required) throw fail(`a space is missing at position ${at + 1}.`);
    if (matched !== null) at = space.lastIndex;
  };
  const readWord = (what: string): string => {
    word.lastIndex = at;
    const matched = word.exec(filter);
    if (matched === null) throw fail(`${what} is missing at position ${at + 1}.`);
    at = word.lastIndex;
    return matched[0];
  };
  skipSpace(false);
  for (;;) {
    const name = readWord('a property name');
    skipSpace(true);
    const operator = readWord('an operator').toLowerCase();
    skipSpace(true);
    let value = '';
    const quoted = filter[at] === "'";
    if (quoted) {
      // Up to the next quote not written twice; each doubled quote stands for one.
      for (let start = at + 1; ;) {
        const close = filter.indexOf("'", start);
        if (close < 0) throw fail('a quoted value is not closed.');
        value += filter.slice(start, close);
        if (filter[close + 1] !== "'") {
          at = close + 1;
          break;
        }
        value += "'";
        start = close + 2;
      }
    } else {
      bare.lastIndex = at;
      const matched = bare.exec(filter);
      if (matched === null) throw fail(`a value is missing at position ${at + 1}.`);
      value = matched[0];
      at = bare.lastIndex;
    }
    clauses.push({ name, operator, value, quoted });
    skipSpace(false);
    if (at >= filter.length) return clauses;
    if (at > 0 && !/\s/.test(filter[at - 1] ?? '')) {
      throw fail(`a space is missing at position ${at + 1}.`);
    }
    if (readWord("'and'").toLowerCase() !== 'and') {
      throw fail(`clauses must be joined with 'and' (position ${at + 1}).`);
    }
    skipSpace(true);
  }
}

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * An ISO 8601 time as clients write it, in epoch ms: a date (midnight UTC), or a date and time
 * with seconds and a fraction optional (digits past milliseconds are dropped) and a zone (`Z` or
 * an offset) optional; a time without a zone is UTC, as az writes `datetime.utcnow()`. NaN when
 * `text` is not such a time or names a day or time that does not exist.
 */
export function parseActivityTime(text: string): number {
  const m = ISO_TIME.exec(text);
  if (m === null) return NaN;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) =>
    Number(m[i] ?? 0),
  ) as [number, number, number, number, number, number];
  const ms = Number((m[7] ?? '').slice(0, 3).padEnd(3, '0'));
  const zone = m[8]?.toUpperCase() ?? 'Z';
  let offset = 0;
  if (zone !== 'Z') {
    const [, sign = '+', hours = '0', minutes = '0'] = /^([+-])(\d{2}):?(\d{2})$/.exec(zone) ?? [];
    if (Number(hours) > 23 || Number(minutes) > 59) return NaN;
    offset = (sign === '-' ? -1 : 1) * (Number(hours) * 60 + Number(minutes)) * 60_000;
  }
  if (hour > 23 || minute > 59 || second > 59) return NaN;
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, ms));
  // Date.UTC reads years below 100 as 19xx; set the year on its own.
  date.setUTCFullYear(year);
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return NaN;
  return date.getTime() - offset;
}

/**
 * Parses the Activity Log's `$filter` (ActivityLogs_List, api-version 2015-04-01): clauses
 * joined with `and`, in any order, names in any case: `eventTimestamp ge <time>` (required, as
 * Azure requires a start), at most one `eventTimestamp le <time>` (default: `now`), times quoted
 * or bare ({@link parseActivityTime}), and at most one `<field> eq '<value>'` per field for
 * `correlationId`, `resourceGroupName`, `resourceId` or `resourceUri` (the same filter),
 * `resourceProvider`, `caller` and `status`. Fails with `BadRequest` (400) for a missing,
 * empty or over-long (4,096 characters) filter, any other clause or operator, a repeated one, a time that is not one, a start
 * after the end, or a start more than {@link ACTIVITY_LOG_MAX_AGE_DAYS} days before `now`.
 */
export function parseActivityFilter(filter: string | undefined, now: EpochMs): ActivityFilter {
  if (filter === undefined || filter.trim() === '') {
    throw armError(
      'BadRequest',
      `The $filter query parameter is required and must give at least the start time. ${SYNTAX}`,
    );
  }
  const fail = (reason: string): AppError => badFilter(filter, reason);
  if (filter.length > MAX_FILTER_LENGTH) {
    throw fail(`it is longer than ${MAX_FILTER_LENGTH} characters.`);
  }
  let from: number | undefined;
  let to: number | undefined;
  const equals: Partial<Record<EqField, string>> = {};
  for (const clause of lex(filter, fail)) {
    const name = clause.name.toLowerCase();
    if (name === 'eventtimestamp') {
      if (clause.operator !== 'ge' && clause.operator !== 'le') {
        throw fail(`eventTimestamp takes 'ge' or 'le', not '${clause.operator}'.`);
      }
      const time = parseActivityTime(clause.value);
      if (Number.isNaN(time)) throw fail(`'${clause.value}' is not an ISO 8601 time.`);
      if ((clause.operator === 'ge' ? from : to) !== undefined) {
        throw fail(`eventTimestamp ${clause.operator} is given twice.`);
      }
      if (clause.operator === 'ge') from = time;
      else to = time;
      continue;
    }
    const field = EQ_FIELDS[name];
    if (field === undefined) throw fail(`'${clause.name}' cannot be filtered on.`);
    if (clause.operator !== 'eq') {
      throw fail(`${clause.name} takes 'eq', not '${clause.operator}'.`);
    }
    if (!clause.quoted || clause.value === '') {
      throw fail(`the value of ${clause.name} must be a non-empty quoted string.`);
    }
    if (equals[field] !== undefined) throw fail(`${clause.name} is given twice.`);
    equals[field] = clause.value;
  }
  if (from === undefined) throw fail('the start time (eventTimestamp ge) is required.');
  const end = to ?? now;
  if (from > end) throw fail('the start time is after the end time.');
  if (from < now - ACTIVITY_LOG_MAX_AGE_DAYS * DAY_MS) {
    throw fail(
      `the start time is more than ${ACTIVITY_LOG_MAX_AGE_DAYS} days ago; the activity log keeps ${ACTIVITY_LOG_MAX_AGE_DAYS} days.`,
    );
  }
  return { from, to: end, ...equals };
}
