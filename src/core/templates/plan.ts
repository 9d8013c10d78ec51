// Expands a template's resources into the concrete resources of a deployment, with their ids, dependencies and late-evaluated bodies.
import type { TemplateValue } from './context.js';
import { dependsOnTargets, orderWaves, ResourceIndex } from './dependencies.js';
import { tooManyResources, type Located } from './errors.js';
import { TemplateEvaluator, type EvaluatorOptions } from './evaluation.js';
import { Expander, type Instance } from './expansion.js';
import { evaluateOutputs, renderParameters, type DeploymentValue } from './outputs.js';
import { implicitTargets, resourceBody, type TemplateRuntime } from './plan-body.js';
import type { Template } from './template.js';
import { findKey, isArray, isObject } from './values.js';

export { DeferredValue, type TemplateRuntime } from './plan-body.js';
export type { DeploymentValue } from './outputs.js';

/** A resource's PUT body: `location`, `tags`, `sku`, `kind`, `identity`, `properties`, `plan`, … */
export type ResourceBody = { readonly [key: string]: TemplateValue };

/** One concrete resource of a deployment. */
export interface PlannedResource {
  readonly id: string;
  /** Full type as the template declares it: `Microsoft.Compute/virtualMachines/extensions`. */
  readonly type: string;
  /** Full name: `vm1/ManagedIdentityExtensionForWindows`. */
  readonly name: string;
  readonly apiVersion: string;
  /** The type its resource provider serves (legacy `…/providers/roleAssignments` → `Microsoft.Authorization/roleAssignments`). */
  readonly resourceType: string;
  /** Where it is deployed: the resource group (or subscription), or the resource an extension sits on. */
  readonly scope: string;
  /** Evaluated when the plan is made. */
  readonly location?: string;
  /** The copy loop iteration that made it. */
  readonly copy?: { readonly name: string; readonly index: number };
  /** Ids it waits for: explicit `dependsOn`, serial copy batches, implicit `reference()` targets. */
  readonly dependsOn: readonly string[];
  /** Its declaration, for errors. */
  readonly declaration: Located;
  /**
   * Its PUT body (without `type`, `apiVersion`, `name`, `dependsOn`, `condition`, `copy`,
   * `comments`, `scope`, nested `resources`), evaluated when its dependencies have finished so
   * that `reference()` sees them; null members removed.
   *
   * @throws {AppError} `InvalidTemplate` when an expression fails.
   */
  body(runtime: TemplateRuntime): ResourceBody;
}

/** A resource whose `condition` is false: not deployed, but still named (Complete mode, references). */
export interface SkippedResource {
  readonly id: string;
  readonly type: string;
  readonly name: string;
}

/** What a deployment will do, and in which order. */
export interface DeploymentPlan {
  readonly template: Template;
  /** `properties.parameters` of the response: `{name: {type, value}}` (secure values left out). */
  readonly parameters: Readonly<Record<string, DeploymentValue>>;
  /** Template order (parents before their nested children). */
  readonly resources: readonly PlannedResource[];
  readonly skipped: readonly SkippedResource[];
  /** Indexes into `resources`; a wave's resources may run concurrently once earlier waves are done. */
  readonly waves: readonly (readonly number[])[];
  /** The outputs, evaluated at the end (`reference()` answered by `runtime`). */
  outputs(runtime: TemplateRuntime): Readonly<Record<string, DeploymentValue>>;
}

function edgesOf(
  expander: Expander,
  index: ResourceIndex<Instance>,
  evaluator: TemplateEvaluator,
): Set<number>[] {
  const { instances, loops } = expander;
  const edges = instances.map(() => new Set<number>());
  instances.forEach((instance, i) => {
    if (instance.skipped) return;
    const add = (targets: readonly number[]): void => {
      for (const target of targets) edges[i]?.add(target);
    };
    for (const { entry, at } of instance.dependsOn) add(dependsOnTargets(index, entry, at));
    add(implicitTargets(instance, index, evaluator));
  });
  for (const loop of loops.filter((l) => l.serial)) {
    loop.members.forEach((member, position) => {
      // Serial batches: batch n waits for the nearest earlier batch that deploys anything.
      for (let batch = Math.floor(position / loop.batchSize) - 1; batch >= 0; batch--) {
        const previous = loop.members
          .slice(batch * loop.batchSize, (batch + 1) * loop.batchSize)
          .filter((m) => instances[m]?.skipped !== true);
        if (previous.length === 0) continue;
        for (const target of previous) edges[member]?.add(target);
        break;
      }
    });
  }
  return edges;
}

/** The most resources one deployment holds, conditioned-out ones included (ARM's limit). */
export const MAX_RESOURCES = 800;

/** What {@link planDeployment} needs: the scope, the supplied parameters, a clock and GUIDs. */
export type PlanOptions = EvaluatorOptions;

/**
 * Plans a deployment (PROTOCOL-TOOLS Part C sections 2.2-2.8): resolves parameters and
 * variables, expands every resource (`condition`, `copy` with serial batches, nested `resources`
 * flattened under their parent's type and name, `scope` and legacy extension naming), evaluates
 * names, types, locations, conditions and copy counts now (`reference()` there is an error), and
 * leaves bodies and outputs to be evaluated when they run. Dependencies are `dependsOn` (name,
 * id or copy loop) plus implicit ones: the first argument of every `reference()`/`list*()` call
 * in a resource's body is evaluated now, and a template resource it names or identifies becomes a
 * dependency (an argument that needs a property loop's `copyIndex` cannot be evaluated early and
 * adds none).
 *
 * @throws {AppError} `InvalidTemplate` (or `InvalidDeploymentParameterValue`) in ARM's words.
 */
export function planDeployment(template: Template, options: PlanOptions): DeploymentPlan {
  const evaluator = new TemplateEvaluator(template, options);
  const parameters = renderParameters(evaluator.parameters());
  evaluateAllVariables(evaluator, template);
  const { scope } = options;
  const group = scope.resourceGroup;
  const deploymentScope =
    group === undefined
      ? `/subscriptions/${scope.subscriptionId}`
      : `/subscriptions/${scope.subscriptionId}/resourceGroups/${group.name}`;
  const expander = new Expander(
    evaluator,
    deploymentScope,
    scope.subscriptionId,
    group === undefined,
  );
  for (const declaration of template.resources) expander.expand(declaration);
  if (expander.instances.length > MAX_RESOURCES) {
    throw tooManyResources(MAX_RESOURCES, expander.instances.length);
  }
  const index = new ResourceIndex<Instance>(expander.instances);
  const edges = edgesOf(expander, index, evaluator);
  const deployed = expander.instances.flatMap((instance, i) => (instance.skipped ? [] : [i]));
  const position = new Map(deployed.map((original, i) => [original, i]));
  const graph = deployed.map((i) => expander.instances[i] as Instance);
  const waves = orderWaves(
    graph,
    deployed.map((i) => new Set([...(edges[i] ?? [])].map((t) => position.get(t) ?? -1))),
  );
  const resources = graph.map((instance, i): PlannedResource => ({
    id: instance.id,
    type: instance.type,
    name: instance.name,
    apiVersion: instance.apiVersion,
    resourceType: instance.resourceType,
    scope: instance.scope,
    ...(instance.location === undefined ? {} : { location: instance.location }),
    ...(instance.copy === undefined ? {} : { copy: instance.copy }),
    dependsOn: [...(edges[deployed[i] ?? -1] ?? [])]
      .sort((a, b) => a - b)
      .map((t) => expander.instances[t]?.id ?? ''),
    declaration: instance.declaration,
    body: (runtime) => resourceBody(instance, index, evaluator, runtime),
  }));
  return {
    template,
    parameters,
    resources,
    skipped: expander.instances
      .filter((i) => i.skipped)
      .map(({ id, type, name }) => ({ id, type, name })),
    waves,
    outputs: (runtime) => evaluateOutputs(template, evaluator, index, runtime),
  };
}

// ARM evaluates every variable when it validates, used or not.
function evaluateAllVariables(evaluator: TemplateEvaluator, template: Template): void {
  for (const [key, value] of Object.entries(template.variables)) {
    if (key.toLowerCase() !== 'copy') {
      evaluator.variable(key);
      continue;
    }
    if (!isArray(value)) continue;
    for (const loop of value) {
      const name = isObject(loop) ? loop[findKey(loop, 'name') ?? 'name'] : undefined;
      if (typeof name === 'string') evaluator.variable(name);
    }
  }
}
