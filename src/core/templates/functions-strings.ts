// ARM's string functions (template-functions-string.md): concat, format, string, case, trim, replace, substring, split, encodings, unique names, time.
import type { TemplateValue } from './context.js';
import {
  argInteger,
  argString,
  eager,
  invalidArgument,
  notExpectedHere,
  typeError,
  type Call,
  type FunctionTable,
} from './functions-args.js';
import { DotNetFormatError, formatComposite, formatDate } from './functions-format.js';
import { templateGuid, uniqueString } from './unique.js';
import { fail, isArray, toText, typeName } from './values.js';

/** `concat`: all arrays → one array; otherwise strings, integers and booleans joined, nulls skipped. */
function concat(args: readonly TemplateValue[], call: Call): TemplateValue {
  if (args.every(isArray)) return args.flat();
  let out = '';
  for (const [index, value] of args.entries()) {
    if (isArray(value) || (typeof value === 'object' && value !== null)) {
      throw typeError(call, args.length, index, ['String', 'Integer', 'Boolean'], value);
    }
    out += toText(value);
  }
  return out;
}

function format(args: readonly TemplateValue[], call: Call): TemplateValue {
  try {
    return formatComposite(argString(call, args, 0), args.slice(1));
  } catch (error) {
    if (!(error instanceof DotNetFormatError)) throw error;
    throw fail(
      `Unable to evaluate language function '${call.name}': the format is invalid: '${error.message}'. Please see https://aka.ms/arm-function-format for usage details.`,
    );
  }
}

/** The "expects its parameters to be of type string and string" check of startsWith/endsWith. */
function twoStrings(args: readonly TemplateValue[], call: Call): readonly [string, string] {
  const [a = null, b = null] = args;
  if (typeof a !== 'string' || typeof b !== 'string') {
    throw fail(
      `The template language function '${call.name}' expects its parameters to be of type string and string. The provided value is of type '${typeName(a)}' and '${typeName(b)}'.`,
    );
  }
  return [a, b];
}

function substring(args: readonly TemplateValue[], call: Call): TemplateValue {
  const text = args[0] === null ? '' : argString(call, args, 0);
  const start = argInteger(call, args, 1);
  const length = args.length > 2 ? argInteger(call, args, 2) : text.length - start;
  if (start < 0 || length < 0 || start + length > text.length) {
    throw fail(
      `Unable to evaluate the template language function '${call.name}'. The index and length parameters must refer to a location within the string. The index parameter: '${start}', the length parameter: '${length}', the length of the string parameter: '${text.length}'.`,
    );
  }
  return text.slice(start, start + length);
}

/**
 * .NET's `String.Split(string[], None)`: at each position the first delimiter (in the given order)
 * that matches splits; with no non-empty delimiter, white space splits.
 */
function split(args: readonly TemplateValue[], call: Call): TemplateValue {
  if (args[0] === null) return [];
  const text = argString(call, args, 0);
  const delimiterArg = args[1] ?? null;
  const delimiters = isArray(delimiterArg) ? delimiterArg : [delimiterArg];
  if (!delimiters.every((d) => typeof d === 'string')) {
    throw typeError(call, args.length, 1, ['String', 'Array'], delimiterArg);
  }
  const usable = delimiters.filter((d) => d !== '');
  const parts: string[] = [];
  let from = 0;
  for (let i = 0; i < text.length;) {
    const found =
      usable.length > 0
        ? usable.find((d) => text.startsWith(d, i))
        : /\s/.test(text.charAt(i))
          ? text.charAt(i)
          : undefined;
    if (found === undefined) {
      i++;
    } else {
      parts.push(text.slice(from, i));
      i += found.length;
      from = i;
    }
  }
  parts.push(text.slice(from));
  return parts;
}

function padLeft(args: readonly TemplateValue[], call: Call): TemplateValue {
  const value = args[0] ?? null;
  if (typeof value !== 'string' && !(typeof value === 'number' && Number.isInteger(value))) {
    throw typeError(call, args.length, 0, ['String', 'Integer'], value);
  }
  const width = argInteger(call, args, 1);
  const pad = args.length > 2 ? argString(call, args, 2) : ' ';
  if (pad.length !== 1)
    throw invalidArgument(call, 'The padding character must be a single character.');
  return String(value).padStart(width, pad);
}

function base64ToString(args: readonly TemplateValue[], call: Call): TemplateValue {
  const text = argString(call, args, 0).replace(/\s/g, '');
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    throw invalidArgument(call, 'The value cannot be decoded from base64 representation.');
  }
  return Buffer.from(text, 'base64').toString('utf8');
}

/** .NET's `new Uri(baseUri, relative).AbsoluteUri`, with ARM's error for a base that is not absolute. */
function uri(args: readonly TemplateValue[], call: Call): TemplateValue {
  const base = argString(call, args, 0);
  const relative = argString(call, args, 1);
  if (!URL.canParse(base)) {
    throw fail(
      `The template language function '${call.name}' expects its first argument to be a uri string. The provided value is '${base}'. Please see https://aka.ms/arm-function-datauri for usage details.`,
    );
  }
  return new URL(relative, base).href;
}

/** .NET's `Uri.EscapeDataString`: everything but RFC 3986's unreserved characters is escaped. */
function uriComponent(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** `HttpUtility.UrlDecode` (as Azure Policy's port of the library uses): `+` is a space, bad escapes stay. */
function uriComponentToString(text: string): string {
  return text
    .replaceAll('+', ' ')
    .replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) =>
      Buffer.from(run.replaceAll('%', ''), 'hex').toString('utf8'),
    );
}

/** The string arguments of uniqueString/guid. */
function stringParts(args: readonly TemplateValue[], call: Call): string[] {
  return args.map((_, index) => argString(call, args, index));
}

function utcNow(args: readonly TemplateValue[], call: Call): TemplateValue {
  if (call.ctx.now === undefined) throw notExpectedHere(call);
  const pattern = args.length > 0 ? argString(call, args, 0) : 'yyyyMMddTHHmmssZ';
  try {
    return formatDate(call.ctx.now(), pattern);
  } catch (error) {
    if (!(error instanceof DotNetFormatError)) throw error;
    throw fail(
      `Unable to evaluate language function '${call.name}': the format is invalid: '${error.message}'.`,
    );
  }
}

/** String functions by documented name. */
export const STRING_FUNCTIONS: FunctionTable = {
  concat: eager(
    1,
    Infinity,
    concat,
    (call) =>
      `Unable to evaluate template language function '${call.name}'. At least one parameter should be provided.`,
  ),
  format: eager(1, Infinity, format),
  string: eager(1, 1, (args) => toText(args[0] ?? null)),
  toLower: eager(1, 1, (args, call) => argString(call, args, 0).toLowerCase()),
  toUpper: eager(1, 1, (args, call) => argString(call, args, 0).toUpperCase()),
  trim: eager(1, 1, (args, call) => argString(call, args, 0).trim()),
  replace: eager(3, 3, (args, call) => {
    const old = argString(call, args, 1);
    if (old === '') throw invalidArgument(call, 'The value to replace cannot be an empty string.');
    return argString(call, args, 0).replaceAll(old, argString(call, args, 2));
  }),
  substring: eager(2, 3, substring),
  split: eager(2, 2, split),
  startsWith: eager(2, 2, (args, call) => {
    const [text, prefix] = twoStrings(args, call);
    return text.toLowerCase().startsWith(prefix.toLowerCase());
  }),
  endsWith: eager(2, 2, (args, call) => {
    const [text, suffix] = twoStrings(args, call);
    return text.toLowerCase().endsWith(suffix.toLowerCase());
  }),
  padLeft: eager(2, 3, padLeft),
  base64: eager(
    1,
    1,
    (args, call) => Buffer.from(argString(call, args, 0), 'utf8').toString('base64'),
    (call) => `The template language function '${call.name}' must have only one parameter.`,
  ),
  base64ToString: eager(1, 1, base64ToString),
  uri: eager(2, 2, uri),
  uriComponent: eager(1, 1, (args, call) => uriComponent(argString(call, args, 0))),
  uriComponentToString: eager(1, 1, (args, call) => uriComponentToString(argString(call, args, 0))),
  uniqueString: eager(1, Infinity, (args, call) => uniqueString(stringParts(args, call))),
  guid: eager(1, Infinity, (args, call) => templateGuid(stringParts(args, call))),
  newGuid: eager(0, 0, (_, call) => {
    if (call.ctx.newGuid === undefined) throw notExpectedHere(call);
    return call.ctx.newGuid();
  }),
  utcNow: eager(0, 1, utcNow),
};
