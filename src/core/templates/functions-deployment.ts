// ARM's deployment, scope and resource functions: parameters, variables, copyIndex, resourceGroup()…, resourceId()…, reference().
import type { TemplateValue } from './context.js';
import {
  argInteger,
  argString,
  eager,
  invalidArgument,
  notExpectedHere,
  typeError,
  usage,
  type Call,
  type FunctionTable,
} from './functions-args.js';
import { fail, toText } from './values.js';

/** `copyIndex()`, `copyIndex(offset)`, `copyIndex('loop')`, `copyIndex('loop', offset)`. */
function copyIndex(args: readonly TemplateValue[], call: Call): TemplateValue {
  const first = args[0];
  if (first === undefined) return call.ctx.copyIndex(undefined);
  if (typeof first === 'number') {
    if (args.length > 1) throw typeError(call, args.length, 0, ['String'], first);
    return call.ctx.copyIndex(undefined) + argInteger(call, args, 0);
  }
  const loop = argString(call, args, 0);
  const offset = args.length > 1 ? argInteger(call, args, 1) : 0;
  return call.ctx.copyIndex(loop) + offset;
}

/** `resourceGroup()`: only in a resource-group deployment (template-functions-scope.md). */
function resourceGroup(_: readonly TemplateValue[], call: Call): TemplateValue {
  const { scope } = call.ctx;
  if (scope.resourceGroup === undefined) throw notExpectedHere(call);
  const group = scope.resourceGroup;
  return {
    id: `/subscriptions/${scope.subscriptionId}/resourceGroups/${group.name}`,
    name: group.name,
    type: 'Microsoft.Resources/resourceGroups',
    location: group.location,
    tags: { ...group.tags },
    properties: { provisioningState: 'Succeeded' },
  };
}

function tenant(_: readonly TemplateValue[], call: Call): TemplateValue {
  const { scope } = call.ctx;
  return {
    ...(scope.tenantCountryCode === undefined ? {} : { countryCode: scope.tenantCountryCode }),
    ...(scope.tenantDisplayName === undefined ? {} : { displayName: scope.tenantDisplayName }),
    id: `/tenants/${scope.tenantId}`,
    tenantId: scope.tenantId,
  };
}

function deployment(_: readonly TemplateValue[], call: Call): TemplateValue {
  const { scope } = call.ctx;
  return {
    name: scope.deploymentName,
    properties: scope.deploymentProperties ?? {},
    ...(scope.deploymentLocation === undefined ? {} : { location: scope.deploymentLocation }),
  };
}

/** The arguments of a resource-id function, all strings, split around the multi-segmented ones. */
interface IdArguments {
  readonly strings: readonly string[];
  /** Indices of the arguments that contain `/`. */
  readonly segmented: readonly number[];
}

function idArguments(args: readonly TemplateValue[], call: Call): IdArguments {
  if (!args.every((arg) => typeof arg === 'string')) {
    throw fail(
      `Unable to evaluate template language function '${call.name}': all function arguments must be string literals.${usage(call)}`,
    );
  }
  const strings = args.filter((arg) => typeof arg === 'string');
  const segmented = strings.flatMap((arg, index) => (arg.includes('/') ? [index] : []));
  return { strings, segmented };
}

/**
 * `{namespace}/{type1}/{name1}/{type2}/{name2}…` from a full type and one name per type segment
 * (a trailing `/` on the type is ignored, as ARM does for `'Microsoft.Network/networkInterfaces/'`).
 */
function providerPath(type: string, names: readonly string[], call: Call): string {
  const normalized = type.replace(/\/+$/, '');
  const [namespace = '', ...types] = normalized.split('/');
  if (names.length !== types.length) {
    throw fail(
      `Unable to evaluate template language function '${call.name}': the type '${normalized}' requires '${types.length}' resource name argument(s).${usage(call)}`,
    );
  }
  return `providers/${namespace}${types.map((t, i) => `/${t}/${names[i] ?? ''}`).join('')}`;
}

/** ARM's error when the type argument cannot be told apart (observed for resourceId). */
function oneSegmentedError(call: Call, strings: readonly string[]): Error {
  return fail(
    `Unable to evaluate template language function '${call.name}': function requires exactly one multi-segmented argument which must be resource type including resource provider namespace. Current function arguments '${strings.join(',')}'.${usage(call)}`,
  );
}

/**
 * `resourceId([subscriptionId], [resourceGroupName], type, name1, …)`. Without a group (given or
 * the deployment's), the id is at subscription level, as at subscription scope.
 */
function resourceId(args: readonly TemplateValue[], call: Call): TemplateValue {
  const { strings, segmented } = idArguments(args, call);
  const typeAt = segmented[0] ?? -1;
  if (segmented.length !== 1 || typeAt > 2) throw oneSegmentedError(call, strings);
  const { scope } = call.ctx;
  const subscription = (typeAt === 2 ? strings[0] : undefined) ?? scope.subscriptionId;
  const group = typeAt === 0 ? scope.resourceGroup?.name : strings[typeAt - 1];
  const path = providerPath(strings[typeAt] ?? '', strings.slice(typeAt + 1), call);
  const container =
    group === undefined
      ? `/subscriptions/${subscription}`
      : `/subscriptions/${subscription}/resourceGroups/${group}`;
  return `${container}/${path}`;
}

/** `subscriptionResourceId([subscriptionId], type, name1, …)`. */
function subscriptionResourceId(args: readonly TemplateValue[], call: Call): TemplateValue {
  const { strings, segmented } = idArguments(args, call);
  const typeAt = segmented[0] ?? -1;
  if (segmented.length !== 1 || typeAt > 1) throw oneSegmentedError(call, strings);
  const subscription = (typeAt === 1 ? strings[0] : undefined) ?? call.ctx.scope.subscriptionId;
  return `/subscriptions/${subscription}/${providerPath(strings[typeAt] ?? '', strings.slice(typeAt + 1), call)}`;
}

/** `tenantResourceId(type, name1, …)`. */
function tenantResourceId(args: readonly TemplateValue[], call: Call): TemplateValue {
  const { strings, segmented } = idArguments(args, call);
  if (segmented.length !== 1 || segmented[0] !== 0) throw oneSegmentedError(call, strings);
  return `/${providerPath(strings[0] ?? '', strings.slice(1), call)}`;
}

/** `extensionResourceId(baseId, type, name1, …)`: the resource under `{baseId}/providers/…`. */
function extensionResourceId(args: readonly TemplateValue[], call: Call): TemplateValue {
  const { strings, segmented } = idArguments(args, call);
  if (segmented.length !== 2 || segmented[0] !== 0 || segmented[1] !== 1) {
    throw fail(
      `Unable to evaluate template language function '${call.name}': function requires exactly two multi-segmented arguments. The first must be the parent resource id while the second must be resource type including resource provider namespace. Current function arguments '${strings.join(',')}'.${usage(call)}`,
    );
  }
  return `${(strings[0] ?? '').replace(/\/+$/, '')}/${providerPath(strings[1] ?? '', strings.slice(2), call)}`;
}

/** `reference(nameOrId, [apiVersion], ['Full'])`, answered by the engine. */
function reference(args: readonly TemplateValue[], call: Call): TemplateValue {
  const target = argString(call, args, 0);
  const apiVersion = args.length > 1 ? argString(call, args, 1) : undefined;
  if (args.length > 2 && argString(call, args, 2).toLowerCase() !== 'full') {
    throw invalidArgument(call, `The third parameter '${toText(args[2] ?? null)}' must be 'Full'.`);
  }
  return call.ctx.reference(target, apiVersion, args.length > 2);
}

/** Deployment, scope and resource functions by documented name. */
export const DEPLOYMENT_FUNCTIONS: FunctionTable = {
  parameters: eager(1, 1, (args, call) => call.ctx.parameter(argString(call, args, 0))),
  variables: eager(1, 1, (args, call) => call.ctx.variable(argString(call, args, 0))),
  copyIndex: eager(0, 2, copyIndex),
  resourceGroup: eager(0, 0, resourceGroup),
  subscription: eager(0, 0, (_, { ctx: { scope } }) => ({
    id: `/subscriptions/${scope.subscriptionId}`,
    subscriptionId: scope.subscriptionId,
    tenantId: scope.tenantId,
    displayName: scope.subscriptionDisplayName,
  })),
  tenant: eager(0, 0, tenant),
  deployment: eager(0, 0, deployment),
  environment: eager(0, 0, (_, call) => call.ctx.scope.environment),
  resourceId: eager(2, Infinity, resourceId),
  subscriptionResourceId: eager(2, Infinity, subscriptionResourceId),
  tenantResourceId: eager(2, Infinity, tenantResourceId),
  extensionResourceId: eager(3, Infinity, extensionResourceId),
  reference: eager(1, 3, reference),
};
