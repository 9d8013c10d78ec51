// A deployment's what-if `changes[]`: what it creates, changes, leaves or deletes, and how.
import { isRecord } from '../guards.js';

/** One resource the what-if looks at. */
export interface WhatIfSubject {
  /** The full ARM id, in the case the template or ARM gives it. */
  readonly resourceId: string;
  /** The resource as ARM's GET returns it now, plus `apiVersion`; absent when it does not exist. */
  readonly before?: Readonly<Record<string, unknown>>;
  /**
   * What the deployment will PUT, as an envelope (`id`, `name`, `type`, `apiVersion`, then the
   * template body's members); absent when the template does not deploy it.
   */
  readonly after?: Readonly<Record<string, unknown>>;
  /** Set when Tessera does not serve the type: the change is `Unsupported` with this reason. */
  readonly unsupportedReason?: string;
}

/** `WhatIfChange.changeType` (Microsoft.Resources 2021-04-01 `ChangeType`). */
export type WhatIfChangeType =
  'Create' | 'Delete' | 'Ignore' | 'Deploy' | 'NoChange' | 'Modify' | 'Unsupported';

/** `WhatIfPropertyChange.propertyChangeType` (Microsoft.Resources 2021-04-01). */
export type PropertyChangeType = 'Create' | 'Delete' | 'Modify' | 'Array' | 'NoEffect';

/** One predicted change to a property (`WhatIfPropertyChange`). */
export interface WhatIfPropertyChange {
  path: string;
  propertyChangeType: PropertyChangeType;
  before?: unknown;
  after?: unknown;
  children?: WhatIfPropertyChange[];
}

/** One predicted change to a resource (`WhatIfChange`). */
export interface WhatIfChange {
  resourceId: string;
  changeType: WhatIfChangeType;
  unsupportedReason?: string;
  before?: unknown;
  after?: unknown;
  delta?: WhatIfPropertyChange[];
}

/** How {@link whatIfChanges} compares. */
export interface WhatIfOptions {
  /** The deployment's mode: a resource the template leaves out is `Ignore`d or `Delete`d. */
  readonly mode: 'Incremental' | 'Complete';
  /** `whatIfSettings.resultFormat`. */
  readonly resultFormat: 'FullResourcePayloads' | 'ResourceIdOnly';
  /**
   * Read-only path patterns (grammar at {@link TESSERA_READ_ONLY_PATHS}); default
   * {@link TESSERA_READ_ONLY_PATHS}. A list given replaces the default: spread it to extend it.
   */
  readonly readOnly?: readonly string[];
}

/**
 * The members Tessera's resource providers set themselves, as patterns for
 * {@link WhatIfOptions.readOnly}. A pattern is a dotted path from the resource body's root whose
 * segments match member names in any case, `*` matching any one segment (a member name or an
 * array index; a member name holding a dot, such as an identity id, is matched by `*` only); it
 * may start with a resource type and a colon, and then applies to that type only
 * (`properties.tenantId` is computed for an identity but written for a vault).
 *
 * Sources: the render functions of `src/wire/arm` (user-assigned-identity.ts, identity.ts,
 * compute-body.ts, vm-body.ts, scale-set-body.ts, vm-extension-body.ts, key-vault-body.ts,
 * authorization.ts) and the providers that fill in `vmId` and `uniqueId`
 * (src/server/arm/providers/virtual-machines.ts, scale-sets.ts, scale-set-instances.ts).
 */
export const TESSERA_READ_ONLY_PATHS: readonly string[] = [
  // Every type: ARM common types' provisioning state and managed-service-identity principals.
  'properties.provisioningState',
  'identity.principalId',
  'identity.tenantId',
  'identity.userAssignedIdentities.*.principalId',
  'identity.userAssignedIdentities.*.clientId',
  'Microsoft.ManagedIdentity/userAssignedIdentities:properties.tenantId',
  'Microsoft.ManagedIdentity/userAssignedIdentities:properties.principalId',
  'Microsoft.ManagedIdentity/userAssignedIdentities:properties.clientId',
  'Microsoft.Compute/virtualMachines:properties.vmId',
  'Microsoft.Compute/virtualMachineScaleSets:properties.uniqueId',
  'Microsoft.Compute/virtualMachineScaleSets:properties.timeCreated',
  // An instance's id, sku and identities are its scale set's; a PUT's are ignored.
  'Microsoft.Compute/virtualMachineScaleSets/virtualMachines:instanceId',
  'Microsoft.Compute/virtualMachineScaleSets/virtualMachines:sku',
  'Microsoft.Compute/virtualMachineScaleSets/virtualMachines:identity',
  'Microsoft.Compute/virtualMachineScaleSets/virtualMachines:properties.vmId',
  'Microsoft.Compute/virtualMachines/extensions:properties.instanceView',
  'Microsoft.KeyVault/vaults:properties.vaultUri',
  // Tessera's vaults always use RBAC: these two are fixed, whatever a template says.
  'Microsoft.KeyVault/vaults:properties.accessPolicies',
  'Microsoft.KeyVault/vaults:properties.enableRbacAuthorization',
  'Microsoft.Authorization/roleAssignments:properties.scope',
  'Microsoft.Authorization/roleAssignments:properties.createdOn',
  'Microsoft.Authorization/roleAssignments:properties.updatedOn',
  'Microsoft.Authorization/roleAssignments:properties.createdBy',
  'Microsoft.Authorization/roleAssignments:properties.updatedBy',
  'Microsoft.Authorization/roleDefinitions:properties.createdOn',
  'Microsoft.Authorization/roleDefinitions:properties.updatedOn',
  'Microsoft.Authorization/roleDefinitions:properties.createdBy',
  'Microsoft.Authorization/roleDefinitions:properties.updatedBy',
];

// Envelope members no template sets (ARM common types: read-only on every resource).
const ENVELOPE_READ_ONLY = ['etag', 'systemData', 'managedBy'];

// Envelope members whose strings ARM compares in any case.
const CASE_INSENSITIVE_MEMBERS = new Set(['id', 'name', 'type']);

/**
 * Azure's what-if `changes[]` for `subjects` (deploy-what-if.md "Change types"; Microsoft.Resources
 * 2021-04-01 `WhatIfChange`, example PostDeploymentWhatIfOnResourceGroup.json), sorted by
 * resource id in any case. Never throws; a subject with neither `before`, `after` nor
 * `unsupportedReason` is left out (nothing exists and nothing is deployed).
 *
 * - `unsupportedReason` set: `Unsupported` with the reason, in either format.
 * - `ResourceIdOnly`: only `resourceId` and `changeType`; `Deploy` for what the template
 *   deploys, else `Ignore` (Incremental) or `Delete` (Complete).
 * - `FullResourcePayloads`: `after` only is `Create` (with `after`); both are `Modify` with
 *   `delta` when a property changes, else `NoChange` (with both, and a `delta` holding only
 *   `NoEffect` entries if the template sets read-only members); `before` only is `Ignore` or
 *   `Delete` (with `before`). `before` and `after` are passed on as given.
 *
 * The delta (`propertyDelta` below) follows what ARM shows: dotted paths, arrays compared index
 * by index with elements as children of an `Array` change.
 */
export function whatIfChanges(
  subjects: readonly WhatIfSubject[],
  options: WhatIfOptions,
): WhatIfChange[] {
  const patterns = (options.readOnly ?? TESSERA_READ_ONLY_PATHS).map(compilePattern);
  return subjects
    .flatMap((subject) => changeOf(subject, options, patterns))
    .sort((a, b) => compareText(a.resourceId, b.resourceId));
}

function changeOf(
  subject: WhatIfSubject,
  options: WhatIfOptions,
  patterns: readonly ReadOnlyPattern[],
): WhatIfChange[] {
  const { resourceId, before, after, unsupportedReason } = subject;
  if (unsupportedReason !== undefined) {
    return [{ resourceId, changeType: 'Unsupported', unsupportedReason }];
  }
  const leftOut = options.mode === 'Complete' ? 'Delete' : 'Ignore';
  if (options.resultFormat === 'ResourceIdOnly') {
    if (after !== undefined) return [{ resourceId, changeType: 'Deploy' }];
    return before === undefined ? [] : [{ resourceId, changeType: leftOut }];
  }
  if (after === undefined) {
    return before === undefined ? [] : [{ resourceId, changeType: leftOut, before }];
  }
  if (before === undefined) return [{ resourceId, changeType: 'Create', after }];
  const delta = propertyDelta(before, after, readOnlyFor(subject, patterns));
  const changeType = delta.some((c) => c.propertyChangeType !== 'NoEffect') ? 'Modify' : 'NoChange';
  return [{ resourceId, changeType, before, after, ...(delta.length > 0 ? { delta } : {}) }];
}

/** A compiled read-only pattern: the type it is limited to (lower case), its segments. */
interface ReadOnlyPattern {
  readonly type: string | undefined;
  readonly segments: readonly string[];
}

function compilePattern(pattern: string): ReadOnlyPattern {
  const colon = pattern.indexOf(':');
  const type = colon < 0 ? undefined : pattern.slice(0, colon).toLowerCase();
  const path = colon < 0 ? pattern : pattern.slice(colon + 1);
  return { type, segments: path.toLowerCase().split('.') };
}

/** Tells whether a path (segments from the body's root) is read-only for one resource. */
type ReadOnlyTest = (segments: readonly string[]) => boolean;

// The patterns for the subject's `type` (after's, else before's), plus the envelope's.
function readOnlyFor(subject: WhatIfSubject, patterns: readonly ReadOnlyPattern[]): ReadOnlyTest {
  const declared = subject.after?.type ?? subject.before?.type;
  const type = typeof declared === 'string' ? declared.toLowerCase() : undefined;
  const applying = [
    ...ENVELOPE_READ_ONLY.map(compilePattern),
    ...patterns.filter((p) => p.type === undefined || p.type === type),
  ];
  return (segments) => applying.some((p) => matches(p.segments, segments));
}

function matches(pattern: readonly string[], segments: readonly string[]): boolean {
  return (
    pattern.length === segments.length &&
    pattern.every((part, i) => part === '*' || part === segments[i]?.toLowerCase())
  );
}

/** Where the comparison is: segments from the body's root, and the path shown from its base. */
interface Place {
  readonly absolute: readonly string[];
  readonly shown: readonly string[];
}

/**
 * The property changes from `before` to `after`, two resource bodies, sorted by path:
 *
 * - Members match by name in any case (ARM's property names are case-insensitive); the path is
 *   dotted (`properties.settings.port`) in the after's spelling. A `null` member is an absent one.
 * - A member only in `after` is `Create` (with `after`), only in `before` `Delete` (with
 *   `before`); an object is listed member by member, as the swagger example's `tags.myNewTag`
 *   (its before has no `tags`), an array whole, an object holding only read-only members whole
 *   as `{}` (a user-assigned identity removed from `identity.userAssignedIdentities`). Two
 *   values of another kind or two different primitives are `Modify` (with both).
 * - Two arrays with a difference are one `Array` change whose `children` are paths of indices
 *   (`"0"`), compared index by index: an element only in one is `Delete` or `Create`, two
 *   objects that differ are `Modify` with `children` (paths relative to the element), two arrays
 *   `Array`, anything else `Delete` plus `Create` at the same index, as deploy-what-if.md's
 *   example shows `- 0: "10.0.0.0/16"` and `+ 0: "10.0.0.0/15"`. Children come by index,
 *   `Delete` first (the order az's `_formatters.py` prints).
 * - Read-only paths (`readOnly`) are not compared; when the template sets one that the resource
 *   has with another value the change is `NoEffect` (with `after`): the provider ignores it.
 *   Values shown leave read-only and `null` members out.
 * - In the envelope: `id`, `name` and `type` compare in any case, `location` in any case and
 *   without spaces (`West US` is `westus`), and a member on one side only that is `{}` once
 *   its read-only members are left out (`tags: {}`, an identity's computed `properties`) is no
 *   change.
 */
function propertyDelta(
  before: Readonly<Record<string, unknown>>,
  after: Readonly<Record<string, unknown>>,
  readOnly: ReadOnlyTest,
): WhatIfPropertyChange[] {
  return objectDelta(before, after, { absolute: [], shown: [] }, readOnly);
}

function objectDelta(
  before: Readonly<Record<string, unknown>>,
  after: Readonly<Record<string, unknown>>,
  at: Place,
  readOnly: ReadOnlyTest,
): WhatIfPropertyChange[] {
  const changes: WhatIfPropertyChange[] = [];
  for (const pair of pairMembers(before, after)) {
    const { name } = pair;
    const child = { absolute: [...at.absolute, name], shown: [...at.shown, name] };
    changes.push(...memberDelta(pair.before, pair.after, child, readOnly));
  }
  return changes.sort((a, b) => compareText(a.path, b.path));
}

// Members of both objects matched by name in any case, named as in `after` (else `before`);
// `null` counts as absent.
function pairMembers(
  before: Readonly<Record<string, unknown>>,
  after: Readonly<Record<string, unknown>>,
): { name: string; before?: unknown; after?: unknown }[] {
  const byKey = new Map<string, { name: string; before?: unknown; after?: unknown }>();
  for (const [name, value] of Object.entries(after)) {
    if (value !== null) byKey.set(name.toLowerCase(), { name, after: value });
  }
  for (const [name, value] of Object.entries(before)) {
    if (value === null) continue;
    const found = byKey.get(name.toLowerCase());
    byKey.set(name.toLowerCase(), { ...(found ?? { name }), before: value });
  }
  return [...byKey.values()];
}

function memberDelta(
  before: unknown,
  after: unknown,
  at: Place,
  readOnly: ReadOnlyTest,
): WhatIfPropertyChange[] {
  const path = at.shown.join('.');
  if (readOnly(at.absolute)) return noEffect(before, after, path);
  if (before === undefined || after === undefined) return oneSided(before, after, at, readOnly);
  if (isRecord(before) && isRecord(after)) return objectDelta(before, after, at, readOnly);
  if (Array.isArray(before) && Array.isArray(after)) {
    const children = arrayDelta(before, after, at.absolute, readOnly);
    return children.length === 0 ? [] : [{ path, propertyChangeType: 'Array', children }];
  }
  if (sameLeaf(before, after, at.absolute)) return [];
  return [
    {
      path,
      propertyChangeType: 'Modify',
      before: shown(before, at.absolute, readOnly),
      after: shown(after, at.absolute, readOnly),
    },
  ];
}

// A member on one side only. ARM lists an object that appears or goes member by member
// (`tags.myNewTag` in the swagger example, whose before has no `tags`); one that holds nothing
// but read-only members is shown whole (`{}`), except in the envelope, where it is absent
// (`tags: {}`, an identity's computed `properties`): a PUT without it changes nothing.
function oneSided(
  before: unknown,
  after: unknown,
  at: Place,
  readOnly: ReadOnlyTest,
): WhatIfPropertyChange[] {
  const value = shown(before ?? after, at.absolute, readOnly);
  if (value === undefined) return [];
  if (isRecord(value) && Object.keys(value).length > 0) {
    return before === undefined
      ? objectDelta({}, value, at, readOnly)
      : objectDelta(value, {}, at, readOnly);
  }
  if (isRecord(value) && at.absolute.length === 1) return [];
  const path = at.shown.join('.');
  return before === undefined
    ? [{ path, propertyChangeType: 'Create', after: value }]
    : [{ path, propertyChangeType: 'Delete', before: value }];
}

function noEffect(before: unknown, after: unknown, path: string): WhatIfPropertyChange[] {
  if (before === undefined || after === undefined || sameJson(before, after)) return [];
  return [{ path, propertyChangeType: 'NoEffect', after }];
}

function arrayDelta(
  before: readonly unknown[],
  after: readonly unknown[],
  absolute: readonly string[],
  readOnly: ReadOnlyTest,
): WhatIfPropertyChange[] {
  const changes: WhatIfPropertyChange[] = [];
  for (let i = 0; i < Math.max(before.length, after.length); i += 1) {
    const was = i < before.length ? { value: before[i] } : undefined;
    const is = i < after.length ? { value: after[i] } : undefined;
    changes.push(...elementDelta(was, is, [...absolute, String(i)], readOnly));
  }
  return changes;
}

// One index of two arrays; `was` or `is` undefined where that array is shorter (elements may
// be `null`, so presence is boxed).
function elementDelta(
  was: { readonly value: unknown } | undefined,
  is: { readonly value: unknown } | undefined,
  absolute: readonly string[],
  readOnly: ReadOnlyTest,
): WhatIfPropertyChange[] {
  const path = absolute.at(-1) ?? '';
  const deleted = (value: unknown): WhatIfPropertyChange => ({
    path,
    propertyChangeType: 'Delete',
    before: shown(value, absolute, readOnly),
  });
  const created = (value: unknown): WhatIfPropertyChange => ({
    path,
    propertyChangeType: 'Create',
    after: shown(value, absolute, readOnly),
  });
  if (was === undefined) return is === undefined ? [] : [created(is.value)];
  if (is === undefined) return [deleted(was.value)];
  if (readOnly(absolute)) return noEffect(was.value, is.value, path);
  const nested = nestedDelta(was.value, is.value, absolute, readOnly);
  return nested ?? [deleted(was.value), created(is.value)];
}

// The change of an element holding two objects or two arrays (children relative to it), none
// for equal values; undefined for other values that differ.
function nestedDelta(
  was: unknown,
  is: unknown,
  absolute: readonly string[],
  readOnly: ReadOnlyTest,
): WhatIfPropertyChange[] | undefined {
  const path = absolute.at(-1) ?? '';
  if (isRecord(was) && isRecord(is)) {
    const children = objectDelta(was, is, { absolute, shown: [] }, readOnly);
    return children.length === 0 ? [] : [{ path, propertyChangeType: 'Modify', children }];
  }
  if (Array.isArray(was) && Array.isArray(is)) {
    const children = arrayDelta(was, is, absolute, readOnly);
    return children.length === 0 ? [] : [{ path, propertyChangeType: 'Array', children }];
  }
  return sameJson(was, is) ? [] : undefined;
}

// Two primitives (or values of different kinds) alike, with the envelope's string rules.
function sameLeaf(before: unknown, after: unknown, absolute: readonly string[]): boolean {
  if (absolute.length === 1 && typeof before === 'string' && typeof after === 'string') {
    const member = absolute[0]?.toLowerCase() ?? '';
    if (CASE_INSENSITIVE_MEMBERS.has(member)) return before.toLowerCase() === after.toLowerCase();
    if (member === 'location') return normaliseLocation(before) === normaliseLocation(after);
  }
  return sameJson(before, after);
}

// ARM normalises locations: `West Europe` is `westeurope`.
const normaliseLocation = (location: string): string => location.toLowerCase().replaceAll(' ', '');

// Structural equality of JSON values: member order does not matter, names and strings do.
function sameJson(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  }
  if (isRecord(a) && isRecord(b)) {
    const names = Object.keys(a);
    return (
      names.length === Object.keys(b).length &&
      names.every((name) => Object.hasOwn(b, name) && sameJson(a[name], b[name]))
    );
  }
  return a === b;
}

// A value as a change shows it: read-only and `null` members left out, arrays kept whole.
function shown(value: unknown, absolute: readonly string[], readOnly: ReadOnlyTest): unknown {
  if (Array.isArray(value)) {
    return value.map((item, i) => shown(item, [...absolute, String(i)], readOnly));
  }
  if (!isRecord(value)) return value;
  const kept: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(value)) {
    const at = [...absolute, name];
    if (member !== null && !readOnly(at)) kept[name] = shown(member, at, readOnly);
  }
  return kept;
}

// Sorts in any case, then exactly, so the order is total and stable across runs.
function compareText(a: string, b: string): number {
  const lowerA = a.toLowerCase();
  const lowerB = b.toLowerCase();
  if (lowerA !== lowerB) return lowerA < lowerB ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
