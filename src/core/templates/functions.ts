// The built-in functions of ARM's template language, looked up case-insensitively, with their argument counts checked.
import type { ExpressionContext, TemplateValue } from './context.js';
import { arityError, type Call, type FunctionDefinition, type Thunk } from './functions-args.js';
import { COLLECTION_FUNCTIONS } from './functions-collections.js';
import { DEPLOYMENT_FUNCTIONS } from './functions-deployment.js';
import { LOGIC_FUNCTIONS } from './functions-logic.js';
import { STRING_FUNCTIONS } from './functions-strings.js';
import { fail } from './values.js';

/**
 * Phase 1 of the function library (PROTOCOL-TOOLS.md Part C §5), by lower-cased name. `list*`,
 * `pickZones`, `providers`, `references`, lambdas, `managementGroup*` and date math beyond
 * `utcNow` are not here yet.
 */
const BUILT_INS: ReadonlyMap<
  string,
  { readonly canonical: string; readonly definition: FunctionDefinition }
> = new Map(
  Object.entries({
    ...STRING_FUNCTIONS,
    ...COLLECTION_FUNCTIONS,
    ...LOGIC_FUNCTIONS,
    ...DEPLOYMENT_FUNCTIONS,
  }).map(([canonical, definition]) => [canonical.toLowerCase(), { canonical, definition }]),
);

/** The documented names of the built-in functions. */
export function builtInFunctionNames(): string[] {
  return [...BUILT_INS.values()].map((entry) => entry.canonical);
}

/**
 * Calls the built-in function `name` (any case) on arguments not yet evaluated: checks the count,
 * then evaluates them (all, left to right, unless the function evaluates its own) and runs it.
 *
 * @throws {TemplateExpressionError} "The template function 'x' is not valid." for an unknown name,
 * ARM's count message for a wrong count, and the function's own errors.
 */
export function callFunction(
  name: string,
  args: readonly Thunk[],
  ctx: ExpressionContext,
): TemplateValue {
  const entry = BUILT_INS.get(name.toLowerCase());
  if (entry === undefined) throw fail(`The template function '${name}' is not valid.`);
  const { canonical, definition } = entry;
  const call: Call = { name, ctx, canonical };
  if (args.length < definition.min || args.length > definition.max) {
    if (definition.kind === 'eager' && definition.arityMessage !== undefined) {
      throw fail(definition.arityMessage(call, args.length));
    }
    throw arityError(call, definition.min, definition.max, args.length);
  }
  if (definition.kind === 'lazy') return definition.run(args, call);
  return definition.run(
    args.map((arg) => arg()),
    call,
  );
}
