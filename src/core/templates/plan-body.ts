// A planned resource's late parts: its PUT body evaluated at run time, reference() resolved, and the implicit dependencies reference() creates.
import { TemplateExpressionError, type TemplateValue } from './context.js';
import { referenceArguments, type ResourceIndex } from './dependencies.js';
import {
  referenceNeedsApiVersion,
  resourceInvalid,
  templateReferenceNotFound,
  type Located,
} from './errors.js';
import type { Place, ReferenceHook, TemplateEvaluator } from './evaluation.js';
import { evaluateTemplateString, isExpression } from './expressions.js';
import type { Instance } from './expansion.js';
import type { ResourceBody } from './plan.js';
import { isArray, isObject } from './values.js';

/** What the executor answers while a deployment runs. */
export interface TemplateRuntime {
  /**
   * `reference()`: the deployed resource's `properties`, or with `full` its whole GET body plus
   * ARM's metadata (template-functions-resource.md). `resourceId` is always a full id;
   * `apiVersion` is the one asked for, else the template resource's own.
   */
  reference(resourceId: string, apiVersion: string, full: boolean): TemplateValue;
}

/**
 * Thrown by a runtime whose `reference()` cannot be answered yet (what-if, before the resource
 * exists): the body member that needed it is kept as the template wrote it, as ARM's what-if
 * shows such properties (deploy-what-if.md "reference() ... cannot be evaluated").
 */
export class DeferredValue extends Error {
  constructor(readonly resourceId: string) {
    super(`reference('${resourceId}') cannot be evaluated before the resource is deployed`);
  }
}

/** Members of a resource declaration that are not part of its PUT body (compared lower-case). */
export const NOT_IN_BODY: ReadonlySet<string> = new Set(
  [
    'type',
    'apiVersion',
    'name',
    'dependsOn',
    'condition',
    'copy',
    'comments',
    'resources',
    'scope',
    'metadata',
    'subscriptionId',
    'resourceGroup',
  ].map((key) => key.toLowerCase()),
);

/** A resource the index can name, with the api-version `reference()` defaults to. */
type Referable = Instance;

/**
 * `reference(nameOrId, apiVersion, full)` for expressions of `from`: a template resource (by
 * name, id or `type/name`, conditioned-out ones included) or, by full id, any resource.
 *
 * @throws {AppError} "The template reference '…' is not valid" for a name that is not in the
 *   template; "… requires an API version" for an outside resource asked for without one.
 */
export function referenceHook(
  index: ResourceIndex<Referable>,
  runtime: TemplateRuntime,
  from: { readonly at: Located; readonly name: string },
): ReferenceHook {
  return (nameOrId, apiVersion, full) => {
    const [first] = index.find(nameOrId);
    const target = first === undefined ? undefined : index.resources[first];
    if (target === undefined && !nameOrId.startsWith('/'))
      throw templateReferenceNotFound(nameOrId);
    const version = apiVersion ?? target?.apiVersion;
    if (version === undefined) throw referenceNeedsApiVersion(from.at, from.name, nameOrId);
    return runtime.reference(target?.id ?? nameOrId, version, full);
  };
}

function child(at: Located, key: string): Located {
  return { source: at.source, path: [...at.path, key] };
}

/**
 * Whether `instance` is a nested deployment whose template is evaluated in its own scope
 * (`expressionEvaluationOptions.scope: inner`, linked-templates.md): its `template` is passed on
 * as written, for the nested deployment to evaluate with its own parameters.
 */
function innerScoped(instance: Instance, properties: TemplateValue): boolean {
  if (instance.type.toLowerCase() !== 'microsoft.resources/deployments') return false;
  if (!isObject(properties)) return false;
  const key = Object.keys(properties).find(
    (k) => k.toLowerCase() === 'expressionevaluationoptions',
  );
  const options = key === undefined ? null : (properties[key] ?? null);
  if (!isObject(options)) return false;
  const scope = Object.entries(options).find(([k]) => k.toLowerCase() === 'scope')?.[1];
  return typeof scope === 'string' && scope.toLowerCase() === 'inner';
}

/** A nested deployment's `properties`, each member evaluated but the `template` (or left out). */
function nestedProperties(
  properties: TemplateValue,
  evaluate: (member: TemplateValue, name: string) => TemplateValue,
  withoutTemplate = false,
): TemplateValue {
  if (!isObject(properties)) return properties;
  const out: Record<string, TemplateValue> = {};
  for (const [name, member] of Object.entries(properties)) {
    const isTemplate = name.toLowerCase() === 'template';
    if (isTemplate && withoutTemplate) continue;
    const value = isTemplate ? member : evaluate(member, name);
    if (value !== null) out[name] = value;
  }
  return out;
}

/** Evaluates a planned resource's PUT body at run time: location from the plan, null members dropped. */
export function resourceBody(
  instance: Instance,
  index: ResourceIndex<Referable>,
  evaluator: TemplateEvaluator,
  runtime: TemplateRuntime,
): ResourceBody {
  const reference = referenceHook(index, runtime, {
    at: instance.declaration,
    name: instance.name,
  });
  const place: Place = { ...instance.place, reference };
  const body: Record<string, TemplateValue> = {};
  for (const [key, value] of Object.entries(instance.declaration.raw)) {
    const lower = key.toLowerCase();
    if (NOT_IN_BODY.has(lower)) continue;
    if (lower === 'location') {
      if (instance.location !== undefined) body[key] = instance.location;
      continue;
    }
    try {
      const at = child(instance.declaration, key);
      const result =
        lower === 'properties' && innerScoped(instance, value)
          ? nestedProperties(value, (member, name) =>
              evaluator.tree(member, place, child(at, name), { dropNulls: true }),
            )
          : evaluator.tree(value, place, at, { dropNulls: true });
      if (result !== null) body[key] = result;
    } catch (error) {
      if (error instanceof DeferredValue) {
        body[key] = value;
        continue;
      }
      if (!(error instanceof TemplateExpressionError)) throw error;
      throw resourceInvalid(instance.declaration, instance.name, error.message);
    }
  }
  return body;
}

function* expressionsIn(value: TemplateValue): Generator<string> {
  if (typeof value === 'string') {
    if (isExpression(value)) yield value;
  } else if (isArray(value)) {
    for (const item of value) yield* expressionsIn(item);
  } else if (isObject(value)) {
    for (const [key, member] of Object.entries(value)) {
      if (isExpression(key)) yield key;
      yield* expressionsIn(member);
    }
  }
}

/** The expressions of a resource's body (an inner-scoped nested template's own left out). */
function bodyExpressions(instance: Instance): string[] {
  const { raw } = instance.declaration;
  return Object.entries(raw)
    .filter(([key]) => !NOT_IN_BODY.has(key.toLowerCase()))
    .flatMap(([key, value]) =>
      key.toLowerCase() === 'properties' && innerScoped(instance, value)
        ? [...expressionsIn(nestedProperties(value, (member) => member, true))]
        : [...expressionsIn(value)],
    );
}

/**
 * The template resources `instance`'s body reaches through `reference()` or `list*()`: each
 * call's first argument is evaluated now, with the instance's copy index; an argument that cannot
 * be evaluated yet (a property loop's `copyIndex`, a nested `reference()`) is skipped.
 *
 * @throws {AppError} "The template reference '…' is not valid" for a name (not an id) that no
 *   template resource has.
 */
export function implicitTargets(
  instance: Instance,
  index: ResourceIndex<Referable>,
  evaluator: TemplateEvaluator,
): number[] {
  const ctx = evaluator.context(instance.place);
  const found: number[] = [];
  for (const expression of bodyExpressions(instance)) {
    for (const argument of referenceArguments(expression.slice(1, -1))) {
      let target: TemplateValue;
      try {
        // An expression's root must be a call; string() returns a string argument unchanged.
        target = evaluateTemplateString(`[string(${argument})]`, ctx);
      } catch (error) {
        if (error instanceof TemplateExpressionError) continue;
        throw error;
      }
      if (typeof target !== 'string') continue;
      const matches = index.find(target);
      if (matches.length === 0 && !target.startsWith('/')) throw templateReferenceNotFound(target);
      found.push(...matches.filter((m) => index.resources[m]?.skipped !== true));
    }
  }
  return found;
}
