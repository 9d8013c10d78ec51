// ARM's array and object functions (template-functions-array.md, -object.md): length, first/last, take/skip, search, union, items, tryGet.
import type { TemplateValue } from './context.js';
import {
  argArray,
  argInteger,
  argObject,
  argString,
  eager,
  invalidArgument,
  typeError,
  type Call,
  type FunctionTable,
} from './functions-args.js';
import {
  deepEquals,
  fail,
  findKey,
  getProperty,
  isArray,
  isInteger,
  isObject,
  typeName,
  type TemplateObject,
  type TemplateTypeName,
} from './values.js';

/** The one argument of a string-or-array function, or ARM's type error. */
function stringOrArray(
  args: readonly TemplateValue[],
  call: Call,
  index = 0,
): string | readonly TemplateValue[] {
  const value = args[index] ?? null;
  if (typeof value === 'string' || isArray(value)) return value;
  throw typeError(call, args.length, index, ['Array', 'String'], value);
}

function length(args: readonly TemplateValue[], call: Call): TemplateValue {
  const value = args[0] ?? null;
  if (value === null) return 0;
  if (isObject(value)) return Object.keys(value).length;
  return stringOrArray(args, call).length;
}

/**
 * `empty`: null, `''`, `[]` and `{}` are empty. Its type error reads "The template function
 * 'empty' expects its parameter to be an object, an array, or a string." (observed).
 */
function empty(args: readonly TemplateValue[], call: Call): TemplateValue {
  const value = args[0] ?? null;
  if (value === null) return true;
  if (typeof value === 'string' || isArray(value)) return value.length === 0;
  if (isObject(value)) return Object.keys(value).length === 0;
  throw fail(
    `The template function '${call.name}' expects its parameter to be an object, an array, or a string. The provided value is of type '${typeName(value)}'.`,
  );
}

/** `first`/`last`: an element (null when empty) or a one-character string (`''` when empty). */
function edge(which: 'first' | 'last') {
  return (args: readonly TemplateValue[], call: Call): TemplateValue => {
    if (args[0] === null) return null;
    const value = stringOrArray(args, call);
    if (value.length === 0) return typeof value === 'string' ? '' : null;
    return value[which === 'first' ? 0 : value.length - 1] ?? null;
  };
}

/** `take`/`skip` on a string or an array; a count below zero counts as zero. */
function slice(which: 'take' | 'skip') {
  return (args: readonly TemplateValue[], call: Call): TemplateValue => {
    if (args[0] === null) return null;
    const value = stringOrArray(args, call);
    const count = Math.max(0, argInteger(call, args, 1));
    return which === 'take' ? value.slice(0, count) : value.slice(count);
  };
}

/** `indexOf`/`lastIndexOf`: strings ignoring case, arrays by deep equality; -1 when absent. */
function search(which: 'first' | 'last') {
  return (args: readonly TemplateValue[], call: Call): TemplateValue => {
    if (args[0] === null) return -1;
    const container = stringOrArray(args, call);
    const item = args[1] ?? null;
    if (typeof container === 'string') {
      if (typeof item !== 'string') throw typeError(call, args.length, 1, ['String'], item);
      const [text, sought] = [container.toLowerCase(), item.toLowerCase()];
      return which === 'first' ? text.indexOf(sought) : text.lastIndexOf(sought);
    }
    const matches = (element: TemplateValue): boolean => deepEquals(element, item);
    return which === 'first' ? container.findIndex(matches) : container.findLastIndex(matches);
  };
}

/**
 * `contains`: an object's key (ignoring case), an array's element, or a substring (with case:
 * "The string comparison is case-sensitive", template-functions-string.md).
 */
function contains(args: readonly TemplateValue[], call: Call): TemplateValue {
  const container = args[0] ?? null;
  const item = args[1] ?? null;
  if (isArray(container)) return container.some((element) => deepEquals(element, item));
  if (!isObject(container) && typeof container !== 'string') {
    throw typeError(call, args.length, 0, ['Object', 'Array', 'String'], container);
  }
  const sought = argString(call, args, 1);
  return isObject(container)
    ? findKey(container, sought) !== undefined
    : container.includes(sought);
}

function createObject(args: readonly TemplateValue[], call: Call): TemplateValue {
  if (args.length % 2 !== 0) {
    throw invalidArgument(
      call,
      'The function requires an even number of parameters: property names and values.',
    );
  }
  const out: Record<string, TemplateValue> = {};
  for (let i = 0; i < args.length; i += 2) {
    const key = argString(call, args, i);
    if (findKey(out, key) !== undefined) {
      throw invalidArgument(call, `The property name '${key}' is provided more than once.`);
    }
    out[key] = args[i + 1] ?? null;
  }
  return out;
}

/** The arguments of union/intersection: all arrays or all objects. */
function sameKind(args: readonly TemplateValue[], call: Call): 'Array' | 'Object' {
  const kind: TemplateTypeName = typeName(args[0] ?? null);
  if (kind !== 'Array' && kind !== 'Object') {
    throw typeError(call, args.length, 0, ['Array', 'Object'], args[0] ?? null);
  }
  const other = args.findIndex((arg) => typeName(arg) !== kind);
  if (other >= 0) throw typeError(call, args.length, other, [kind], args[other] ?? null);
  return kind;
}

function distinct(values: readonly TemplateValue[]): TemplateValue[] {
  const out: TemplateValue[] = [];
  for (const value of values) if (!out.some((seen) => deepEquals(seen, value))) out.push(value);
  return out;
}

/** Json.NET-style merge of `patch` into `base`: nested objects merge, anything else is replaced; keys ignore case. */
function mergeObjects(base: TemplateObject, patch: TemplateObject): TemplateObject {
  const out: Record<string, TemplateValue> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const existing = findKey(out, key) ?? key;
    const current = out[existing];
    out[existing] =
      current !== undefined && isObject(current) && isObject(value)
        ? mergeObjects(current, value)
        : value;
  }
  return out;
}

function union(args: readonly TemplateValue[], call: Call): TemplateValue {
  if (sameKind(args, call) === 'Array')
    return distinct((args as (readonly TemplateValue[])[]).flat());
  return (args as TemplateObject[]).reduce<TemplateObject>(
    (merged, next) => mergeObjects(merged, next),
    {},
  );
}

function intersection(args: readonly TemplateValue[], call: Call): TemplateValue {
  if (sameKind(args, call) === 'Array') {
    const [first = [], ...rest] = args as (readonly TemplateValue[])[];
    return distinct(first).filter((value) =>
      rest.every((array) => array.some((item) => deepEquals(item, value))),
    );
  }
  const [first = {}, ...rest] = args as TemplateObject[];
  return Object.fromEntries(
    Object.entries(first).filter(([key, value]) =>
      rest.every((object) => Object.hasOwn(object, key) && deepEquals(object[key] ?? null, value)),
    ),
  );
}

/** `range(start, count)`: count 0..10000, and start + count no greater than 2147483647 (docs). */
function range(args: readonly TemplateValue[], call: Call): TemplateValue {
  const start = argInteger(call, args, 0);
  const count = argInteger(call, args, 1);
  if (count < 0 || count > 10000 || start + count > 2147483647) {
    throw invalidArgument(
      call,
      `The count '${count}' must be between 0 and 10000, and the sum of the start index '${start}' and the count must not exceed 2147483647.`,
    );
  }
  return Array.from({ length: count }, (_, i) => start + i);
}

/** `items(object)`: `[{key, value}]` sorted by key, ignoring case. */
function items(args: readonly TemplateValue[], call: Call): TemplateValue {
  const object = argObject(call, args, 0);
  const upper = (key: string): string => key.toUpperCase();
  return Object.keys(object)
    .sort((a, b) => (upper(a) < upper(b) ? -1 : upper(a) > upper(b) ? 1 : 0))
    .map((key) => ({ key, value: object[key] ?? null }));
}

/** `tryGet(value, key, …)`: each step a key (ignoring case) or an index; null instead of an error. */
function tryGet(args: readonly TemplateValue[], call: Call): TemplateValue {
  let current = args[0] ?? null;
  for (let i = 1; i < args.length; i++) {
    const key = args[i] ?? null;
    if (typeof key !== 'string' && !isInteger(key))
      throw typeError(call, args.length, i, ['String', 'Integer'], key);
    if (isObject(current) && typeof key === 'string') current = getProperty(current, key) ?? null;
    else if (isArray(current) && typeof key === 'number') current = current[key] ?? null;
    else return null;
  }
  return current;
}

/** `min`/`max` over integers given one by one or as one array. */
function extreme(which: 'min' | 'max') {
  return (args: readonly TemplateValue[], call: Call): TemplateValue => {
    const values = args.length === 1 && isArray(args[0] ?? null) ? argArray(call, args, 0) : args;
    if (values.length === 0) throw invalidArgument(call, 'The array must not be empty.');
    const numbers = values.map((value, index) => {
      if (typeof value !== 'number')
        throw typeError(call, values.length, index, ['Integer'], value);
      return value;
    });
    return which === 'min' ? Math.min(...numbers) : Math.max(...numbers);
  };
}

/** Array and object functions by documented name. */
export const COLLECTION_FUNCTIONS: FunctionTable = {
  length: eager(1, 1, length),
  empty: eager(1, 1, empty),
  first: eager(1, 1, edge('first')),
  last: eager(1, 1, edge('last')),
  take: eager(2, 2, slice('take')),
  skip: eager(2, 2, slice('skip')),
  indexOf: eager(2, 2, search('first')),
  lastIndexOf: eager(2, 2, search('last')),
  contains: eager(2, 2, contains),
  createArray: eager(0, Infinity, (args) => [...args]),
  createObject: eager(0, Infinity, createObject),
  array: eager(1, 1, ([value = null]) => (isArray(value) ? value : [value])),
  union: eager(2, Infinity, union),
  intersection: eager(2, Infinity, intersection),
  range: eager(2, 2, range),
  items: eager(1, 1, items),
  tryGet: eager(2, Infinity, tryGet),
  coalesce: eager(1, Infinity, (args) => args.find((arg) => arg !== null) ?? null),
  min: eager(1, Infinity, extreme('min')),
  max: eager(1, Infinity, extreme('max')),
};
