// ARM resource ids and scopes: parse, format, compare and validate (PROTOCOL.md section 4.1).
import type { AppError } from '../../core/errors.js';
import { RESOURCE_TYPES } from '../../core/resource-types.js';
import {
  invalidResourceGroup,
  invalidResourceName,
  invalidSubscriptionId,
  linkedInvalidPropertyId,
} from './arm-errors.js';

/** What an id names: the root scope `/`, a subscription, a resource group or a resource. */
export type ResourceIdKind = 'tenant' | 'subscription' | 'resourceGroup' | 'resource';

/** A parsed ARM id. Every string keeps the case it had in the id. */
export interface ResourceId {
  /** The id as given. */
  readonly id: string;
  readonly kind: ResourceIdKind;
  /** Absent for the root scope and tenant-level ids (`/providers/...`). */
  readonly subscriptionId?: string;
  readonly resourceGroup?: string;
  /** The namespace of a resource (`Microsoft.Compute`); absent for scopes. */
  readonly provider?: string;
  /** Type segments below the namespace: `['virtualMachines', 'extensions']`. */
  readonly types: readonly string[];
  /** One name per type segment: `['vm1', 'ext1']`. */
  readonly names: readonly string[];
  /**
   * `Microsoft.Compute/virtualMachines/extensions`; `Microsoft.Resources/resourceGroups` and
   * `Microsoft.Resources/subscriptions` for those scopes; empty for the root scope.
   */
  readonly fullType: string;
  /** The last name (the resource group's or the subscription's for those scopes). */
  readonly name: string;
  /**
   * What contains it: a child's parent resource, an extension resource's target, a top-level
   * resource's resource group or subscription, a resource group's subscription.
   */
  readonly parent?: ResourceId;
  /** True when a provider segment sits on a resource (`{vm}/providers/Microsoft.X/...`). */
  readonly extension: boolean;
}

/** Options for {@link parseResourceId} and {@link parseScope}. */
export interface ParseResourceIdOptions {
  /**
   * Where the id came from in the request body (`properties.scope`); a malformed id is then
   * ARM's `LinkedInvalidPropertyId` naming this path. Default `''`, as ARM says for a top-level id.
   */
  readonly path?: string;
  /** Check resource-group and known resource-type names (default true). */
  readonly validateNames?: boolean;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `value` is a GUID in the 8-4-4-4-12 hex form. */
export function isGuid(value: string): boolean {
  return GUID.test(value);
}

/**
 * Parses any ARM scope: the root `/`, a subscription, a resource group, or a resource (top-level,
 * child, extension, tenant-level such as `/providers/Microsoft.Authorization/roleDefinitions/x`
 * or a management group). Keywords (`subscriptions`, `resourceGroups`, `providers`) match in any
 * case; names keep theirs.
 *
 * Throws `LinkedInvalidPropertyId` for a structural fault, `InvalidSubscriptionId` for a
 * subscription that is not a GUID, and (unless `validateNames` is false) `InvalidResourceGroup`
 * or `InvalidResourceName` for a name outside its rules ({@link validateResourceGroupName},
 * {@link validateResourceName}).
 */
export function parseScope(id: string, options: ParseResourceIdOptions = {}): ResourceId {
  const path = options.path ?? '';
  const malformed = (): AppError => linkedInvalidPropertyId(id, path);
  if (id === '/') {
    return { id, kind: 'tenant', types: [], names: [], fullType: '', name: '', extension: false };
  }
  if (!id.startsWith('/') || id.endsWith('/')) throw malformed();
  const segments = id.slice(1).split('/');
  if (segments.some((segment) => segment === '')) throw malformed();

  let current: ResourceId | undefined;
  let index = 0;
  const take = (): string => {
    const segment = segments[index++];
    if (segment === undefined) throw malformed();
    return segment;
  };

  if (isKeyword(segments[0], 'subscriptions')) {
    index = 1;
    const subscriptionId = take();
    if (!isGuid(subscriptionId)) throw invalidSubscriptionId(subscriptionId);
    current = scopeNode(segments, index, subscriptionId);
    if (isKeyword(segments[index], 'resourceGroups')) {
      index++;
      const resourceGroup = take();
      if (options.validateNames !== false) validateResourceGroupName(resourceGroup);
      current = scopeNode(segments, index, subscriptionId, resourceGroup, current);
    }
  }
  while (index < segments.length) {
    if (!isKeyword(segments[index], 'providers')) throw malformed();
    index++;
    const provider = take();
    const types: string[] = [];
    const names: string[] = [];
    const extension = current?.kind === 'resource';
    do {
      types.push(take());
      names.push(take());
      current = resourceNode(segments, index, provider, types, names, extension, current);
      if (options.validateNames !== false) validateResourceName(current.fullType, current.name);
    } while (index < segments.length && !isKeyword(segments[index], 'providers'));
  }
  if (current === undefined) throw malformed();
  return current;
}

/**
 * Parses the id of something that exists under a scope: a subscription, a resource group or a
 * resource, never the root `/`. Fails as {@link parseScope} does.
 */
export function parseResourceId(id: string, options: ParseResourceIdOptions = {}): ResourceId {
  const parsed = parseScope(id, options);
  if (parsed.kind === 'tenant') throw linkedInvalidPropertyId(id, options.path ?? '');
  return parsed;
}

function isKeyword(segment: string | undefined, keyword: string): boolean {
  return segment?.toLowerCase() === keyword.toLowerCase();
}

// The id text up to the segment at `end` (exclusive), so every ancestor keeps the original case.
function prefix(segments: readonly string[], end: number): string {
  return `/${segments.slice(0, end).join('/')}`;
}

function scopeNode(
  segments: readonly string[],
  end: number,
  subscriptionId: string,
  resourceGroup?: string,
  parent?: ResourceId,
): ResourceId {
  const isGroup = resourceGroup !== undefined;
  const name = resourceGroup ?? subscriptionId;
  return {
    id: prefix(segments, end),
    kind: isGroup ? 'resourceGroup' : 'subscription',
    subscriptionId,
    ...(isGroup ? { resourceGroup } : {}),
    types: [isGroup ? 'resourceGroups' : 'subscriptions'],
    names: [name],
    fullType: isGroup ? RESOURCE_TYPES.resourceGroups : RESOURCE_TYPES.subscriptions,
    name,
    ...(parent === undefined ? {} : { parent }),
    extension: false,
  };
}

function resourceNode(
  segments: readonly string[],
  end: number,
  provider: string,
  types: readonly string[],
  names: readonly string[],
  extension: boolean,
  parent: ResourceId | undefined,
): ResourceId {
  return {
    id: prefix(segments, end),
    kind: 'resource',
    ...(parent?.subscriptionId === undefined ? {} : { subscriptionId: parent.subscriptionId }),
    ...(parent?.resourceGroup === undefined ? {} : { resourceGroup: parent.resourceGroup }),
    provider,
    types: [...types],
    names: [...names],
    fullType: [provider, ...types].join('/'),
    name: names[names.length - 1] ?? '',
    ...(parent === undefined ? {} : { parent }),
    extension,
  };
}

/** What {@link formatResourceId} builds. */
export type ResourceIdSpec =
  | { readonly kind: 'subscription'; readonly subscriptionId: string }
  | {
      readonly kind: 'resourceGroup';
      readonly subscriptionId: string;
      readonly resourceGroup: string;
    }
  | {
      readonly kind: 'resource';
      /** The scope it lives in: `/`, a subscription, a resource group or a resource id. */
      readonly scope: string;
      readonly provider: string;
      readonly types: readonly string[];
      readonly names: readonly string[];
    };

/**
 * Builds an id with ARM's canonical keywords (`/subscriptions/{s}/resourceGroups/{g}/providers/
 * {ns}/{type}/{name}[/{type}/{name}...]`), names as given. Throws a plain `Error` (a programming
 * fault, not a request fault) when `types` and `names` differ in length or are empty.
 */
export function formatResourceId(spec: ResourceIdSpec): string {
  switch (spec.kind) {
    case 'subscription':
      return `/subscriptions/${spec.subscriptionId}`;
    case 'resourceGroup':
      return `/subscriptions/${spec.subscriptionId}/resourceGroups/${spec.resourceGroup}`;
    case 'resource': {
      if (spec.types.length === 0 || spec.types.length !== spec.names.length) {
        throw new Error('formatResourceId: types and names must be non-empty and of equal length');
      }
      const pairs = spec.types.map((type, i) => `${type}/${spec.names[i] ?? ''}`).join('/');
      const scope = spec.scope === '/' ? '' : spec.scope;
      return `${scope}/providers/${spec.provider}/${pairs}`;
    }
  }
}

/** The id rebuilt with canonical keywords (`resourcegroups` becomes `resourceGroups`). */
export function canonicalResourceId(id: ResourceId): string {
  switch (id.kind) {
    case 'tenant':
      return '/';
    case 'subscription':
      return formatResourceId({ kind: 'subscription', subscriptionId: id.name });
    case 'resourceGroup':
      return formatResourceId({
        kind: 'resourceGroup',
        subscriptionId: id.subscriptionId ?? '',
        resourceGroup: id.name,
      });
    case 'resource': {
      // A child's parent shares its provider segment; the scope is what precedes that segment.
      let scopeOwner = id.parent;
      for (let n = id.types.length; n > 1; n--) scopeOwner = scopeOwner?.parent;
      const scope = scopeOwner === undefined ? '/' : canonicalResourceId(scopeOwner);
      return formatResourceId({
        kind: 'resource',
        scope,
        provider: id.provider ?? '',
        types: id.types,
        names: id.names,
      });
    }
  }
}

/**
 * The key under which an id is stored and compared: canonical keywords, then lower-cased, so
 * ids differing only in case map to one key. Throws as {@link parseScope} for a malformed id.
 */
export function resourceIdKey(id: string | ResourceId): string {
  const parsed = typeof id === 'string' ? parseScope(id, { validateNames: false }) : id;
  return canonicalResourceId(parsed).toLowerCase();
}

/** True when two ids name the same thing; ARM compares ids case-insensitively. Never throws. */
export function sameResourceId(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

// Resource group names: letters and digits as .NET's Char.IsLetterOrDigit sees them, plus
// `_ ( ) - .`; 1-90 characters; no trailing period.
// See resource-name-rules#microsoftresources:
// https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules
const RESOURCE_GROUP_CHAR = /[\p{L}\p{Nd}_().-]/u;

/**
 * Checks a resource group name: 1-90 characters of letters, digits, `_`, `(`, `)`, `-` and `.`,
 * not ending in `.`. Throws ARM's `InvalidResourceGroup`.
 */
export function validateResourceGroupName(name: string): void {
  const invalid = Array.from(name)
    .filter((char) => !RESOURCE_GROUP_CHAR.test(char))
    .join('');
  if (invalid !== '') throw invalidResourceGroup(name, invalid);
  // Lengths count UTF-16 units, as .NET's string.Length does.
  if (name.length < 1 || name.length > 90 || name.endsWith('.')) throw invalidResourceGroup(name);
}

/** A name rule: a test and the sentence that explains it in the error. */
interface NameRule {
  readonly valid: (name: string) => boolean;
  readonly rule: string;
}

// Sources: resource-name-rules (Microsoft.ManagedIdentity, Microsoft.Compute); a VM's resource
// name is 1-64 characters whatever its OS (the 15-character Windows limit is the host name's).
// https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules
const VM_FORBIDDEN = /[\\/"[\]:|<>+=;,?*@&#]/;
const vmNameRule: NameRule = {
  valid: (name) =>
    name.length >= 1 &&
    name.length <= 64 &&
    !VM_FORBIDDEN.test(name) &&
    !name.startsWith('_') &&
    !name.endsWith('.') &&
    !name.endsWith('-'),
  rule: "The name can be up to 64 characters long, can't contain \\/\"[]:|<>+=;,?*@&#, can't start with '_' and can't end with '.' or '-'.",
};

const NAME_RULES: Readonly<Record<string, NameRule>> = {
  'microsoft.managedidentity/userassignedidentities': {
    valid: (name) => /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$/.test(name),
    rule: 'The name can be 3 to 128 characters long, must begin with a letter or a number and may contain letters, numbers, hyphens and underscores.',
  },
  'microsoft.compute/virtualmachines': vmNameRule,
  'microsoft.compute/virtualmachinescalesets': vmNameRule,
};

/**
 * Checks a resource name against its type's rules where Tessera knows them (user-assigned
 * identities: `^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$`; VMs and scale sets: 1-64 characters without
 * `\/"[]:|<>+=;,?*@&#`, not starting with `_`, not ending with `.` or `-`). Other
 * types pass. Throws `InvalidResourceName`.
 */
export function validateResourceName(fullType: string, name: string): void {
  const rule = NAME_RULES[fullType.toLowerCase()];
  if (rule !== undefined && !rule.valid(name)) throw invalidResourceName(name, rule.rule);
}
