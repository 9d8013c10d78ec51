// How a template function is declared (arity, eager or lazy) and how it checks its arguments, with ARM's error words.
import type { ExpressionContext, TemplateExpressionError, TemplateValue } from './context.js';
import { fail, typeName, typeNoun, type TemplateObject, type TemplateTypeName } from './values.js';

/** One function call being evaluated: the name as written (ARM echoes it) and the context. */
export interface Call {
  readonly name: string;
  readonly ctx: ExpressionContext;
  /** The documented name (`resourceId`), for the usage link of ARM's messages. */
  readonly canonical: string;
}

/** An argument not yet evaluated. */
export type Thunk = () => TemplateValue;

/** A built-in function: how many arguments it takes and what it does with them. */
export type FunctionDefinition =
  | {
      readonly kind: 'eager';
      readonly min: number;
      readonly max: number;
      readonly run: (args: readonly TemplateValue[], call: Call) => TemplateValue;
      /** ARM's own words for a wrong argument count, where it has special ones. */
      readonly arityMessage?: (call: Call, count: number) => string;
    }
  | {
      readonly kind: 'lazy';
      readonly min: number;
      readonly max: number;
      readonly run: (args: readonly Thunk[], call: Call) => TemplateValue;
    };

/** Built-in functions by their documented name. */
export type FunctionTable = Readonly<Record<string, FunctionDefinition>>;

/** A function whose arguments are all evaluated before it runs. */
export function eager(
  min: number,
  max: number,
  run: (args: readonly TemplateValue[], call: Call) => TemplateValue,
  arityMessage?: (call: Call, count: number) => string,
): FunctionDefinition {
  return arityMessage === undefined
    ? { kind: 'eager', min, max, run }
    : { kind: 'eager', min, max, run, arityMessage };
}

/** A function that evaluates its own arguments (`if`, `and`, `or`). */
export function lazy(
  min: number,
  max: number,
  run: (args: readonly Thunk[], call: Call) => TemplateValue,
): FunctionDefinition {
  return { kind: 'lazy', min, max, run };
}

/** ARM's link at the end of a function's message; resource-id functions use a lower-case anchor. */
export function usage(call: Call): string {
  const anchor = call.canonical.endsWith('ResourceId') || call.canonical === 'resourceId';
  return ` Please see https://aka.ms/arm-resource-functions/#${anchor ? call.canonical.toLowerCase() : call.canonical} for usage details.`;
}

/**
 * "Unable to evaluate template language function 'x': function requires 2 argument(s) while 0
 * were provided." (observed from Azure for endsWith, first, indexOf, empty; "between 2 and 3" from
 * the ARM library for toObject; "at least" inferred).
 */
export function arityError(
  call: Call,
  min: number,
  max: number,
  count: number,
): TemplateExpressionError {
  const requirement =
    min === max
      ? `${min} argument(s)`
      : max === Infinity
        ? `at least ${min} argument(s)`
        : `between ${min} and ${max} argument(s)`;
  return fail(
    `Unable to evaluate template language function '${call.name}': function requires ${requirement} while ${count} were provided.${usage(call)}`,
  );
}

const ORDINALS = ['first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth'];

/** "its parameter" for a one-argument call, else "its second parameter". */
function whichParameter(count: number, index: number): string {
  return count === 1 ? 'its parameter' : `its ${ORDINALS[index] ?? `${index + 1}th`} parameter`;
}

/**
 * "The template language function 'base64' expects its parameter to be of type 'String'. The
 * provided value is of type 'Integer'." (observed); several accepted types read "to be an array
 * or a string" as ARM words `first` and `empty`.
 */
export function typeError(
  call: Call,
  count: number,
  index: number,
  expected: readonly TemplateTypeName[],
  actual: TemplateValue,
): TemplateExpressionError {
  const wanted =
    expected.length === 1
      ? `of type '${expected.join('')}'`
      : `${expected.slice(0, -1).map(typeNoun).join(', ')}${expected.length > 2 ? ',' : ''} or ${expected.slice(-1).map(typeNoun).join('')}`;
  return fail(
    `The template language function '${call.name}' expects ${whichParameter(count, index)} to be ${wanted}. The provided value is of type '${typeName(actual)}'.`,
  );
}

/**
 * "The template language function 'bool' was invoked with a parameter that is not valid. The
 * value cannot be converted to the target type." (observed through the ARM library).
 */
export function invalidArgument(call: Call, reason: string): TemplateExpressionError {
  return fail(
    `The template language function '${call.name}' was invoked with a parameter that is not valid. ${reason}`,
  );
}

/**
 * "The template function 'reference' is not expected at this location." (observed for reference,
 * variables, copyIndex and resourceGroup; ARM echoes the name as written).
 */
export function notExpectedHere(call: Call): TemplateExpressionError {
  return fail(`The template function '${call.name}' is not expected at this location.`);
}

/** Argument `index`, which the arity check guarantees exists. */
function at(args: readonly TemplateValue[], index: number): TemplateValue {
  return args[index] ?? null;
}

/** Argument `index` as a string, or ARM's type error. */
export function argString(call: Call, args: readonly TemplateValue[], index: number): string {
  const value = at(args, index);
  if (typeof value !== 'string') throw typeError(call, args.length, index, ['String'], value);
  return value;
}

/** Argument `index` as an integer, or ARM's type error. */
export function argInteger(call: Call, args: readonly TemplateValue[], index: number): number {
  const value = at(args, index);
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw typeError(call, args.length, index, ['Integer'], value);
  }
  return value;
}

/** Argument `index` as a boolean, or ARM's type error. */
export function argBoolean(call: Call, args: readonly TemplateValue[], index: number): boolean {
  const value = at(args, index);
  if (typeof value !== 'boolean') throw typeError(call, args.length, index, ['Boolean'], value);
  return value;
}

/** Argument `index` as an array, or ARM's type error. */
export function argArray(
  call: Call,
  args: readonly TemplateValue[],
  index: number,
): readonly TemplateValue[] {
  const value = at(args, index);
  if (!Array.isArray(value)) throw typeError(call, args.length, index, ['Array'], value);
  return value as readonly TemplateValue[];
}

/** Argument `index` as an object, or ARM's type error. */
export function argObject(
  call: Call,
  args: readonly TemplateValue[],
  index: number,
): TemplateObject {
  const value = at(args, index);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw typeError(call, args.length, index, ['Object'], value);
  }
  return value as TemplateObject;
}
