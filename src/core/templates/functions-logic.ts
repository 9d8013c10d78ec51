// ARM's logical, comparison, conversion and numeric functions (template-functions-logical.md, -comparison.md, -numeric.md).
import type { TemplateValue } from './context.js';
import {
  argBoolean,
  argInteger,
  eager,
  invalidArgument,
  lazy,
  typeError,
  type Call,
  type FunctionTable,
  type Thunk,
} from './functions-args.js';
import { deepEquals, fail, typeName } from './values.js';

/** A lazily evaluated argument that must be a boolean. */
function booleanOf(thunk: Thunk, count: number, index: number, call: Call): boolean {
  const value = thunk();
  if (typeof value !== 'boolean') throw typeError(call, count, index, ['Boolean'], value);
  return value;
}

/** Stands in for an argument the arity check guarantees. */
const NOTHING: Thunk = () => null;

/** `if(condition, whenTrue, whenFalse)`: only the chosen branch is evaluated. */
function conditional(args: readonly Thunk[], call: Call): TemplateValue {
  const [condition = NOTHING, whenTrue = NOTHING, whenFalse = NOTHING] = args;
  return booleanOf(condition, args.length, 0, call) ? whenTrue() : whenFalse();
}

/** `and`/`or`, stopping at the first argument that decides the result. */
function junction(stopAt: boolean) {
  return (args: readonly Thunk[], call: Call): TemplateValue => {
    for (const [index, arg] of args.entries()) {
      if (booleanOf(arg, args.length, index, call) === stopAt) return stopAt;
    }
    return !stopAt;
  };
}

/** `bool`: booleans, `'true'`/`'false'` in any case, and integers (0 is false). */
function toBool(args: readonly TemplateValue[], call: Call): TemplateValue {
  const value = args[0] ?? null;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') {
    const word = value.trim().toLowerCase();
    if (word === 'true' || word === 'false') return word === 'true';
  }
  throw invalidArgument(call, 'The value cannot be converted to the target type.');
}

/** `int`: integers, and strings holding a 64-bit integer (that JavaScript can hold exactly). */
function toInt(args: readonly TemplateValue[], call: Call): TemplateValue {
  const value = args[0] ?? null;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value !== 'string')
    throw typeError(call, args.length, 0, ['Integer', 'String'], value);
  const parsed = /^\s*[+-]?[0-9]+\s*$/.test(value) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(parsed)) {
    throw fail(
      `The template language function '${call.name}' cannot convert provided value '${value}' to integer value. Please see https://aka.ms/arm-function-int for usage details.`,
    );
  }
  return parsed;
}

/** `json`: parses JSON text; `json('null')` is null, and a null argument gives `{}`. */
function toJsonValue(args: readonly TemplateValue[], call: Call): TemplateValue {
  const value = args[0] ?? null;
  if (value === null) return {};
  if (typeof value !== 'string') throw typeError(call, args.length, 0, ['String'], value);
  try {
    return JSON.parse(value) as TemplateValue;
  } catch {
    throw invalidArgument(call, 'The value cannot be converted to the target type.');
  }
}

/** `equals`: numbers by value, anything else by deep JSON equality (strings case-sensitive). */
function equals(args: readonly TemplateValue[]): TemplateValue {
  return deepEquals(args[0] ?? null, args[1] ?? null);
}

/** .NET compares strings with ICU's culture order (InvariantCulture); en-US is ICU's root order. */
const collator = new Intl.Collator('en-US');

/** `greater`, `less`, …: two numbers, or two strings in culture order; mixed types are an error. */
function comparison(test: (order: number) => boolean) {
  return (args: readonly TemplateValue[], call: Call): TemplateValue => {
    const [a = null, b = null] = args;
    if (typeof a === 'number' && typeof b === 'number') return test(a - b);
    if (typeof a === 'string' && typeof b === 'string') return test(collator.compare(a, b));
    throw fail(
      `The template language function '${call.name}' expects two parameters of matching types. The function was invoked with values of type '${typeName(a)}' and '${typeName(b)}' that do not match.`,
    );
  };
}

/**
 * `add`, `sub`, `mul`, `div`, `mod` on 64-bit integers: overflow and division by zero are errors.
 * Division truncates toward zero and the remainder takes the dividend's sign, as in C#. Results
 * beyond JavaScript's exact integers (2^53) are refused rather than rounded.
 */
function arithmetic(operate: (a: bigint, b: bigint) => bigint, divides = false) {
  return (args: readonly TemplateValue[], call: Call): TemplateValue => {
    const a = BigInt(argInteger(call, args, 0));
    const b = BigInt(argInteger(call, args, 1));
    if (divides && b === 0n) throw invalidArgument(call, 'Attempted to divide by zero.');
    const result = operate(a, b);
    if (result > BigInt(Number.MAX_SAFE_INTEGER) || result < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw invalidArgument(call, 'Arithmetic operation resulted in an overflow.');
    }
    return Number(result);
  };
}

/** Logical, comparison, conversion and numeric functions by documented name. */
export const LOGIC_FUNCTIONS: FunctionTable = {
  if: lazy(3, 3, conditional),
  and: lazy(2, Infinity, junction(false)),
  or: lazy(2, Infinity, junction(true)),
  not: eager(1, 1, (args, call) => !argBoolean(call, args, 0)),
  true: eager(0, 0, () => true),
  false: eager(0, 0, () => false),
  null: eager(0, 0, () => null),
  bool: eager(1, 1, toBool),
  int: eager(1, 1, toInt),
  json: eager(1, 1, toJsonValue),
  equals: eager(2, 2, equals),
  greater: eager(
    2,
    2,
    comparison((order) => order > 0),
  ),
  greaterOrEquals: eager(
    2,
    2,
    comparison((order) => order >= 0),
  ),
  less: eager(
    2,
    2,
    comparison((order) => order < 0),
  ),
  lessOrEquals: eager(
    2,
    2,
    comparison((order) => order <= 0),
  ),
  add: eager(
    2,
    2,
    arithmetic((a, b) => a + b),
  ),
  sub: eager(
    2,
    2,
    arithmetic((a, b) => a - b),
  ),
  mul: eager(
    2,
    2,
    arithmetic((a, b) => a * b),
  ),
  div: eager(
    2,
    2,
    arithmetic((a, b) => a / b, true),
  ),
  mod: eager(
    2,
    2,
    arithmetic((a, b) => a % b, true),
  ),
};
