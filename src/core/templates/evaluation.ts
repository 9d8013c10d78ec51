// Evaluates a template's values: parameters, variables and user functions by name, and JSON trees with their copy loops.
import {
  TemplateExpressionError,
  type DeploymentScope,
  type ExpressionContext,
  type TemplateValue,
} from './context.js';
import {
  functionInvalid,
  invalidCopy,
  invalidCopyCount,
  parameterInvalid,
  parameterNotProvided,
  variableInvalid,
  type Located,
  type TemplatePath,
} from './errors.js';
import { evaluateTemplateString } from './expressions.js';
import { checkParameterValue, suppliedValues } from './parameters.js';
import type { ParameterDeclaration, Template, UserFunctionDeclaration } from './template.js';
import { findKey, isArray, isObject } from './values.js';

/** ARM's ceiling for a copy count (copy-resources.md). */
export const MAX_COPY_COUNT = 800;

/** One iteration of a copy loop: `copyIndex(name)` answers `index`. */
export interface CopyFrame {
  /** The loop's `name`; undefined for an output's copy, which has none. */
  readonly name: string | undefined;
  readonly index: number;
  /** Whether `copyIndex()` without a name may answer it (resource and output loops). */
  readonly implicit: boolean;
}

/** `reference(nameOrId, apiVersion, full)` as the engine answers it where it is allowed. */
export type ReferenceHook = (
  nameOrId: string,
  apiVersion: string | undefined,
  full: boolean,
) => TemplateValue;

/** Where an expression is evaluated, which decides what it may call. */
export interface Place {
  readonly kind: 'parameter' | 'variable' | 'resource' | 'output' | 'function';
  readonly frames: readonly CopyFrame[];
  /** Present where `reference()` is allowed (resource bodies and outputs, at run time). */
  readonly reference?: ReferenceHook;
  /** A user function's own arguments, by lower-cased name. */
  readonly arguments?: ReadonlyMap<string, TemplateValue>;
}

/** What an evaluator needs besides the template. */
export interface EvaluatorOptions {
  readonly scope: DeploymentScope;
  /** `properties.parameters` as sent: `{name: {value}}`. */
  readonly parameters?: TemplateValue | undefined;
  /** `newGuid()` in parameter defaults. */
  readonly newGuid: () => string;
  /** `utcNow()` in parameter defaults: epoch milliseconds. */
  readonly now: () => number;
}

/** How {@link TemplateEvaluator.tree} treats what it evaluates. */
export interface TreeOptions {
  /** Remove object members whose value is (or evaluates to) null, as in resource bodies. */
  readonly dropNulls?: boolean;
}

/** A `condition`'s value: a boolean, or `'true'`/`'false'` in any case; undefined for anything else. */
export function conditionValue(value: TemplateValue): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value))
    return value.toLowerCase() === 'true';
  return undefined;
}

function notExpected(name: string): TemplateExpressionError {
  return new TemplateExpressionError(
    `The template function '${name}' is not expected at this location.`,
  );
}

/** `copyIndex(loop)` over the frames of the place, innermost first. */
function copyIndexOf(frames: readonly CopyFrame[], loop: string | undefined): number {
  for (let i = frames.length - 1; i >= 0; i--) {
    const frame = frames[i];
    if (frame === undefined) continue;
    if (loop === undefined ? frame.implicit : frame.name?.toLowerCase() === loop.toLowerCase()) {
      return frame.index;
    }
  }
  if (loop !== undefined && frames.length > 0) {
    throw new TemplateExpressionError(
      `The provided copy name '${loop}' doesn't exist in the resource.`,
    );
  }
  throw new TemplateExpressionError(
    "The template function 'copyIndex' is not expected at this location. The function can only be used in a resource with copy specified. Please see https://aka.ms/arm-copy for usage details.",
  );
}

/** A copy loop written as `{name, count, input}` (property and variable iteration). */
interface PropertyLoop {
  readonly name: string;
  readonly count: TemplateValue;
  readonly input: TemplateValue;
}

function propertyLoops(value: TemplateValue): PropertyLoop[] | undefined {
  if (!isArray(value)) return undefined;
  const loops: PropertyLoop[] = [];
  for (const item of value) {
    if (!isObject(item)) return undefined;
    const name = findKey(item, 'name');
    const input = findKey(item, 'input');
    const count = findKey(item, 'count');
    if (name === undefined || input === undefined || count === undefined) return undefined;
    const loopName = item[name];
    if (typeof loopName !== 'string') return undefined;
    loops.push({ name: loopName, count: item[count] ?? null, input: item[input] ?? null });
  }
  return loops;
}

/**
 * The values of one deployment: parameters resolved once (supplied, else default), variables
 * evaluated on first use, user functions, and the evaluation of any JSON tree of the template.
 * Names are compared case-insensitively. Everything is pure: the clock and GUIDs are injected.
 */
export class TemplateEvaluator {
  private readonly supplied: ReadonlyMap<string, TemplateValue>;
  private readonly parameterValues = new Map<string, TemplateValue>();
  private readonly variableValues = new Map<string, TemplateValue>();
  private readonly resolving = new Set<string>();
  private readonly declarations: ReadonlyMap<string, ParameterDeclaration>;
  private readonly functions: ReadonlyMap<string, UserFunctionDeclaration>;

  constructor(
    readonly template: Template,
    private readonly options: EvaluatorOptions,
  ) {
    this.supplied = suppliedValues(template, options.parameters);
    this.declarations = new Map(template.parameters.map((p) => [p.name.toLowerCase(), p]));
    this.functions = new Map(template.functions.map((f) => [f.qualifiedName, f]));
  }

  /** Every declared parameter with its value, in declaration order (checks them all). */
  parameters(): readonly {
    readonly declaration: ParameterDeclaration;
    readonly value: TemplateValue;
  }[] {
    return this.template.parameters.map((declaration) => ({
      declaration,
      value: this.parameter(declaration.name),
    }));
  }

  /**
   * `parameters(name)`: the supplied value, else the default evaluated (it may use other
   * parameters, `newGuid()` and `utcNow()`), checked against the declaration.
   */
  parameter(name: string): TemplateValue {
    const key = name.toLowerCase();
    const known = this.parameterValues.get(key);
    if (known !== undefined) return known;
    const declaration = this.declarations.get(key);
    if (declaration === undefined) {
      throw new TemplateExpressionError(
        `The template parameter '${name}' is not found. Please see https://aka.ms/arm-template/#parameters for usage details.`,
      );
    }
    const value = this.supplied.has(key)
      ? (this.supplied.get(key) ?? null)
      : this.defaultOf(declaration);
    checkParameterValue(declaration, value);
    this.parameterValues.set(key, value);
    return value;
  }

  private defaultOf(declaration: ParameterDeclaration): TemplateValue {
    if (!('defaultValue' in declaration)) throw parameterNotProvided(declaration, declaration.name);
    const key = `parameter:${declaration.name.toLowerCase()}`;
    if (this.resolving.has(key)) {
      throw new TemplateExpressionError(
        `The template parameter '${declaration.name}' refers to itself.`,
      );
    }
    this.resolving.add(key);
    try {
      const at: Located = {
        source: declaration.source,
        path: [...declaration.path, 'defaultValue'],
      };
      return this.tree(declaration.defaultValue ?? null, { kind: 'parameter', frames: [] }, at);
    } catch (error) {
      if (!(error instanceof TemplateExpressionError)) throw error;
      throw parameterInvalid(declaration, declaration.name, error.message);
    } finally {
      this.resolving.delete(key);
    }
  }

  /** `variables(name)`: evaluated on first use; a top-level `copy` member defines arrays. */
  variable(name: string): TemplateValue {
    const key = name.toLowerCase();
    const known = this.variableValues.get(key);
    if (known !== undefined) return known;
    // An unknown name is the caller's fault, reported where it is used.
    const evaluate = this.variableDefinition(name);
    const guard = `variable:${key}`;
    if (this.resolving.has(guard)) {
      throw new TemplateExpressionError(`The template variable '${name}' refers to itself.`);
    }
    this.resolving.add(guard);
    try {
      const value = evaluate();
      this.variableValues.set(key, value);
      return value;
    } catch (error) {
      if (!(error instanceof TemplateExpressionError)) throw error;
      throw variableInvalid(name, error.message);
    } finally {
      this.resolving.delete(guard);
    }
  }

  private variableDefinition(name: string): () => TemplateValue {
    const variables = this.template.variables;
    const place: Place = { kind: 'variable', frames: [] };
    const key = findKey(variables, name);
    if (key !== undefined && key.toLowerCase() !== 'copy') {
      const at = this.at([...this.template.variablesPath, key]);
      return () => this.tree(variables[key] ?? null, place, at);
    }
    const copyKey = findKey(variables, 'copy');
    const loops = copyKey === undefined ? undefined : propertyLoops(variables[copyKey] ?? null);
    const index = loops?.findIndex((loop) => loop.name.toLowerCase() === name.toLowerCase()) ?? -1;
    const loop = loops?.[index];
    if (copyKey === undefined || loop === undefined) {
      throw new TemplateExpressionError(
        `The template variable '${name}' is not found. Please see https://aka.ms/arm-template/#variables for usage details.`,
      );
    }
    const at = this.at([...this.template.variablesPath, copyKey, index]);
    return () => this.expandLoop(loop, place, at);
  }

  /** Calls `namespace.name(args)`: only its own parameters are visible inside (syntax.md). */
  private callUserFunction(qualifiedName: string, args: readonly TemplateValue[]): TemplateValue {
    const declaration = this.functions.get(qualifiedName.toLowerCase());
    if (declaration === undefined) {
      throw new TemplateExpressionError(`The template function '${qualifiedName}' is not valid.`);
    }
    if (args.length !== declaration.parameters.length) {
      throw new TemplateExpressionError(
        `The template function '${qualifiedName}' expects '${declaration.parameters.length}' argument(s), but got '${args.length}'.`,
      );
    }
    const bound = new Map(
      declaration.parameters.map((p, i) => [p.name.toLowerCase(), args[i] ?? null]),
    );
    try {
      const at = this.at([...declaration.path, 'output', 'value']);
      return this.tree(declaration.output, { kind: 'function', frames: [], arguments: bound }, at);
    } catch (error) {
      if (!(error instanceof TemplateExpressionError)) throw error;
      throw functionInvalid(qualifiedName, error.message);
    }
  }

  /** The hooks an expression evaluated at `place` may call. */
  context(place: Place): ExpressionContext {
    const { kind, frames, reference } = place;
    const args = place.arguments;
    return {
      scope: this.options.scope,
      parameter: (name) => {
        if (args === undefined) return this.parameter(name);
        const value = args.get(name.toLowerCase());
        if (value === undefined) {
          throw new TemplateExpressionError(
            `The template function parameter '${name}' is not found.`,
          );
        }
        return value;
      },
      variable: (name) => {
        if (kind === 'parameter' || kind === 'function') throw notExpected('variables');
        return this.variable(name);
      },
      copyIndex: (loop) => copyIndexOf(frames, loop),
      reference: (nameOrId, apiVersion, full) => {
        if (reference === undefined) throw notExpected('reference');
        return reference(nameOrId, apiVersion, full);
      },
      userFunction: (name, values) => {
        if (kind === 'function') throw notExpected(name);
        return this.callUserFunction(name, values);
      },
      ...(kind === 'parameter' ? { newGuid: this.options.newGuid, now: this.options.now } : {}),
    };
  }

  /**
   * Evaluates a JSON tree at `place`: expression strings (and expression keys), property `copy`
   * arrays (`{name, count, input}`, each a named loop), nulls dropped when asked. `at` locates the
   * tree for copy errors.
   */
  tree(value: TemplateValue, place: Place, at: Located, options: TreeOptions = {}): TemplateValue {
    if (typeof value === 'string') return evaluateTemplateString(value, this.context(place));
    if (isArray(value)) {
      return value.map((item, i) => this.tree(item, place, this.child(at, i), options));
    }
    if (!isObject(value)) return value;
    const out: Record<string, TemplateValue> = {};
    for (const [key, member] of Object.entries(value)) {
      const loops = key.toLowerCase() === 'copy' ? propertyLoops(member) : undefined;
      if (loops !== undefined) {
        loops.forEach((loop, i) => {
          out[loop.name] = this.expandLoop(
            loop,
            place,
            this.child(this.child(at, key), i),
            options,
          );
        });
        continue;
      }
      // Keys may be expressions too (`userAssignedIdentities`), or `[[`-escaped.
      const name = key.startsWith('[') && key.endsWith(']') ? this.key(key, place) : key;
      const result = this.tree(member, place, this.child(at, key), options);
      if (result === null && options.dropNulls === true) continue;
      Object.defineProperty(out, name, {
        value: result,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }

  /** A copy `count`, evaluated at `place`: an integer from 0 to 800. */
  copyCount(count: TemplateValue, place: Place, at: Located): number {
    const value = this.tree(count, place, at);
    if (
      typeof value !== 'number' ||
      !Number.isInteger(value) ||
      value < 0 ||
      value > MAX_COPY_COUNT
    ) {
      throw invalidCopyCount(at);
    }
    return value;
  }

  private expandLoop(
    loop: PropertyLoop,
    place: Place,
    at: Located,
    options: TreeOptions = {},
  ): TemplateValue {
    if (loop.name === '') throw invalidCopy(at, "the copy 'name' cannot be empty");
    const count = this.copyCount(loop.count, place, at);
    const items: TemplateValue[] = [];
    for (let index = 0; index < count; index++) {
      const frames = [...place.frames, { name: loop.name, index, implicit: false }];
      items.push(this.tree(loop.input, { ...place, frames }, this.child(at, 'input'), options));
    }
    return items;
  }

  private key(expression: string, place: Place): string {
    const name = evaluateTemplateString(expression, this.context(place));
    if (typeof name !== 'string') {
      throw new TemplateExpressionError(
        `The template language expression '${expression}' used as a property name must evaluate to a string.`,
      );
    }
    return name;
  }

  private at(path: TemplatePath): Located {
    return { source: this.template.source, path };
  }

  private child(at: Located, segment: string | number): Located {
    return { source: at.source, path: [...at.path, segment] };
  }
}
