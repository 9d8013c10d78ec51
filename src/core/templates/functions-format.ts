// .NET's formatting as ARM's `format()` and `utcNow()` use it: composite format strings, numeric and date-time format specifiers (invariant culture).
import type { TemplateValue } from './context.js';
import { isArray, isObject, toJson, toText } from './values.js';

/** A .NET `FormatException`, with .NET's message; callers word it for their function. */
export class DotNetFormatError extends Error {
  override readonly name = 'DotNetFormatError';
}

const BAD_FORMAT = 'Input string was not in a correct format.';
const BAD_INDEX =
  'Index (zero based) must be greater than or equal to zero and less than the size of the argument list.';
const BAD_SPECIFIER = 'Format specifier was invalid.';

/**
 * `String.Format(format, args)`: `{index[,alignment][:formatString]}` items, `{{` and `}}` as
 * literal braces. Arrays and objects print as compact JSON with `"` turned into `'` (as ARM's
 * `format()` does), booleans as `True`/`False`, null as nothing.
 *
 * @throws {DotNetFormatError} with .NET's message for a malformed item or an index out of range.
 */
export function formatComposite(format: string, args: readonly TemplateValue[]): string {
  let out = '';
  let i = 0;
  while (i < format.length) {
    const c = format.charAt(i);
    if (c === '}') {
      if (format[i + 1] !== '}') throw new DotNetFormatError(BAD_FORMAT);
      out += '}';
      i += 2;
    } else if (c === '{' && format[i + 1] === '{') {
      out += '{';
      i += 2;
    } else if (c === '{') {
      const end = format.indexOf('}', i);
      if (end < 0) throw new DotNetFormatError(BAD_FORMAT);
      out += formatItem(format.slice(i + 1, end), args);
      i = end + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function formatItem(item: string, args: readonly TemplateValue[]): string {
  const match = /^\s*([0-9]+)\s*(?:,\s*(-?[0-9]+)\s*)?(?::(.*))?$/s.exec(item);
  if (match === null) throw new DotNetFormatError(BAD_FORMAT);
  const index = Number(match[1]);
  if (index >= args.length) throw new DotNetFormatError(BAD_INDEX);
  const value = args[index] ?? null;
  const text = formatValue(value, match[3]);
  const width = match[2] === undefined ? 0 : Number(match[2]);
  return width >= 0 ? text.padStart(width) : text.padEnd(-width);
}

function formatValue(value: TemplateValue, spec: string | undefined): string {
  if (isArray(value) || isObject(value)) return toJson(value).replaceAll('"', "'");
  if (typeof value === 'number' && spec !== undefined && spec !== '')
    return formatNumber(value, spec);
  return toText(value);
}

/** Groups the integer digits of a non-negative decimal string with commas (invariant culture). */
function group(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * A .NET standard numeric format (`N2`, `D5`, `X`, `F1`, `P0`, `G`), as the invariant culture prints it.
 *
 * @throws {DotNetFormatError} for a specifier .NET does not know.
 */
export function formatNumber(value: number, spec: string): string {
  const match = /^([A-Za-z])([0-9]{0,2})$/.exec(spec);
  if (match === null) throw new DotNetFormatError(BAD_SPECIFIER);
  const letter = match[1] ?? '';
  const precision = match[2] === '' ? undefined : Number(match[2]);
  const sign = value < 0 ? '-' : '';
  const magnitude = Math.abs(value);
  switch (letter.toUpperCase()) {
    case 'N': {
      const [whole = '', fraction] = magnitude.toFixed(precision ?? 2).split('.');
      return `${sign}${group(whole)}${fraction === undefined ? '' : `.${fraction}`}`;
    }
    case 'F':
      return `${sign}${magnitude.toFixed(precision ?? 2)}`;
    case 'P': {
      const [whole = '', fraction] = (magnitude * 100).toFixed(precision ?? 2).split('.');
      return `${sign}${group(whole)}${fraction === undefined ? '' : `.${fraction}`} %`;
    }
    case 'D':
      if (!Number.isInteger(value)) throw new DotNetFormatError(BAD_SPECIFIER);
      return `${sign}${String(magnitude).padStart(precision ?? 0, '0')}`;
    case 'X': {
      if (!Number.isInteger(value)) throw new DotNetFormatError(BAD_SPECIFIER);
      const hex = (value < 0 ? BigInt.asUintN(64, BigInt(value)) : BigInt(value)).toString(16);
      const padded = hex.padStart(precision ?? 0, '0');
      return letter === 'X' ? padded.toUpperCase() : padded;
    }
    case 'G':
      return String(value);
    default:
      throw new DotNetFormatError(BAD_SPECIFIER);
  }
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/**
 * .NET's standard date-time formats as the invariant culture expands them for a UTC `DateTime`
 * (template-functions-date.md shows `utcNow('d')` as `03/05/2019`).
 */
const STANDARD_DATE_FORMATS: Readonly<Record<string, string>> = {
  d: 'MM/dd/yyyy',
  D: 'dddd, dd MMMM yyyy',
  f: 'dddd, dd MMMM yyyy HH:mm',
  F: 'dddd, dd MMMM yyyy HH:mm:ss',
  g: 'MM/dd/yyyy HH:mm',
  G: 'MM/dd/yyyy HH:mm:ss',
  m: 'MMMM dd',
  M: 'MMMM dd',
  o: "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
  O: "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
  r: "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
  R: "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
  s: "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
  t: 'HH:mm',
  T: 'HH:mm:ss',
  u: "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
  U: 'dddd, dd MMMM yyyy HH:mm:ss',
  y: 'yyyy MMMM',
  Y: 'yyyy MMMM',
};

/** The value of one run of a custom date-time specifier letter, or undefined if not one. */
function dateField(letter: string, count: number, date: Date): string | undefined {
  const pad = (n: number, width: number): string => String(n).padStart(width, '0');
  const hour = date.getUTCHours();
  const month = MONTHS[date.getUTCMonth()] ?? '';
  const day = DAYS[date.getUTCDay()] ?? '';
  switch (letter) {
    case 'y':
      return count === 1
        ? String(date.getUTCFullYear() % 100)
        : count === 2
          ? pad(date.getUTCFullYear() % 100, 2)
          : pad(date.getUTCFullYear(), count);
    case 'M':
      return count >= 4
        ? month
        : count === 3
          ? month.slice(0, 3)
          : pad(date.getUTCMonth() + 1, count);
    case 'd':
      return count >= 4 ? day : count === 3 ? day.slice(0, 3) : pad(date.getUTCDate(), count);
    case 'H':
      return pad(hour, Math.min(count, 2));
    case 'h':
      return pad(hour % 12 === 0 ? 12 : hour % 12, Math.min(count, 2));
    case 'm':
      return pad(date.getUTCMinutes(), Math.min(count, 2));
    case 's':
      return pad(date.getUTCSeconds(), Math.min(count, 2));
    case 'f':
    case 'F': {
      const digits = pad(date.getUTCMilliseconds(), 3).padEnd(7, '0').slice(0, count);
      return letter === 'F' ? digits.replace(/0+$/, '') : digits;
    }
    case 't':
      return (hour < 12 ? 'AM' : 'PM').slice(0, count === 1 ? 1 : 2);
    case 'K':
      return 'Z';
    case 'z':
      return count === 1 ? '+0' : count === 2 ? '+00' : '+00:00';
    default:
      return undefined;
  }
}

/**
 * `DateTime.UtcNow.ToString(format, InvariantCulture)`: a one-letter standard format (`u`, `d`, `o`, …) or a
 * custom one (`yyyyMMddTHHmmssZ`, ARM's default for `utcNow()`); quotes and `\` escape literals.
 *
 * @throws {DotNetFormatError} for an unknown one-letter format.
 */
export function formatDate(epochMs: number, format: string): string {
  const date = new Date(epochMs);
  let pattern = format;
  if (format.length === 1) {
    const standard = STANDARD_DATE_FORMATS[format];
    if (standard === undefined) throw new DotNetFormatError(BAD_FORMAT);
    pattern = standard;
  }
  let out = '';
  let i = 0;
  while (i < pattern.length) {
    const c = pattern.charAt(i);
    if (c === "'" || c === '"') {
      const end = pattern.indexOf(c, i + 1);
      if (end < 0) throw new DotNetFormatError(BAD_FORMAT);
      out += pattern.slice(i + 1, end);
      i = end + 1;
      continue;
    }
    if (c === '\\') {
      out += pattern[i + 1] ?? '';
      i += 2;
      continue;
    }
    let count = 1;
    while (pattern[i + count] === c) count++;
    const field = dateField(c, count, date);
    out += field ?? c.repeat(count);
    i += count;
  }
  return out;
}
