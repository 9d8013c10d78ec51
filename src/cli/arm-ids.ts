// ARM ids, paths and `az`'s result shapes for `tessera group|identity|role`: building, parsing, flattening.
import { isRecord } from '../core/guards.js';
import { RESOURCE_TYPES } from '../core/resource-types.js';

/**
 * The api-versions the commands send: the newest the real `az` sends that Tessera serves
 * (azure-cli's `latest` profile: resources 2024-11-01, MSI 2024-11-30; azure-mgmt-authorization's
 * latest profile: assignments 2022-04-01, definitions 2022-05-01-preview).
 */
export const AZ_API_VERSIONS = {
  resourceGroups: '2024-11-01',
  identities: '2024-11-30',
  roleAssignments: '2022-04-01',
  roleDefinitions: '2022-05-01-preview',
} as const;

/** The type of user-assigned identities. */
export const IDENTITY_TYPE = RESOURCE_TYPES.userAssignedIdentities;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `value` is a GUID in the 8-4-4-4-12 hex form. */
export const isGuid = (value: string): boolean => GUID.test(value);

/** A path segment, percent-encoded. */
const segment = (value: string): string => encodeURIComponent(value);

/** `/subscriptions/{sub}/resourceGroups/{group}`, each name percent-encoded. */
export const groupPath = (subscriptionId: string, group: string): string =>
  `/subscriptions/${segment(subscriptionId)}/resourceGroups/${segment(group)}`;

/** The path of a user-assigned identity; without `name`, its group's collection. */
export const identityPath = (subscriptionId: string, group: string, name?: string): string =>
  `${groupPath(subscriptionId, group)}/providers/${IDENTITY_TYPE}${name === undefined ? '' : `/${segment(name)}`}`;

/** A scope (`/subscriptions/…`) as a request path: every segment percent-encoded, once. */
export const scopePath = (scope: string): string =>
  scope.replace(/\/+$/, '').split('/').map(segment).join('/');

/** `path` with its `api-version` query. */
export const withApiVersion = (path: string, apiVersion: string): string =>
  `${path}${path.includes('?') ? '&' : '?'}api-version=${apiVersion}`;

/** What {@link parseArmId} finds in an id; names keep their case. */
export interface ArmIdParts {
  readonly subscriptionId: string;
  readonly resourceGroup?: string;
  /** `Microsoft.ManagedIdentity/userAssignedIdentities` for a top-level resource. */
  readonly type?: string;
  readonly name?: string;
}

/**
 * Parses a subscription, resource-group or top-level resource id
 * (`/subscriptions/{s}[/resourceGroups/{g}[/providers/{ns}/{type}/{name}]]`, keywords in any
 * case). Undefined for anything else (child resources, tenant-level ids, empty segments).
 */
export function parseArmId(id: string): ArmIdParts | undefined {
  const parts = id.split('/');
  if (parts[0] !== '' || parts.slice(1).some((part) => part === '')) return undefined;
  const [, subs, subscriptionId, groups, resourceGroup, providers, namespace, type, name] = parts;
  if (subs?.toLowerCase() !== 'subscriptions' || subscriptionId === undefined) return undefined;
  if (parts.length === 3) return { subscriptionId };
  if (groups?.toLowerCase() !== 'resourcegroups' || resourceGroup === undefined) return undefined;
  if (parts.length === 5) return { subscriptionId, resourceGroup };
  if (parts.length !== 9 || providers?.toLowerCase() !== 'providers') return undefined;
  if (namespace === undefined || type === undefined || name === undefined) return undefined;
  return { subscriptionId, resourceGroup, type: `${namespace}/${type}`, name };
}

/** The GUID a role definition id (`…/roleDefinitions/{guid}`, any scope) names, or undefined. */
export function roleDefinitionGuid(id: string): string | undefined {
  const match = /\/providers\/Microsoft\.Authorization\/roleDefinitions\/([^/]+)$/i.exec(id);
  const guid = match?.[1];
  return guid !== undefined && isGuid(guid) ? guid.toLowerCase() : undefined;
}

/**
 * An ARM body as the Python SDKs behind `az` show it: `properties` merged into the top level.
 * `renames` gives properties a new name first (a role definition's `type` is `roleType`).
 */
export function flattenProperties(
  body: Record<string, unknown>,
  renames: Readonly<Record<string, string>> = {},
): Record<string, unknown> {
  const { properties, ...rest } = body;
  if (!isRecord(properties)) return rest;
  const moved = Object.entries(properties).map(([key, value]): [string, unknown] => [
    renames[key] ?? key,
    value,
  ]);
  return { ...rest, ...Object.fromEntries(moved) };
}

/**
 * `--tags` as `az` reads it: `k=v` pairs, `k` alone for an empty value, `""` for none.
 * Undefined when the flag was not given. Splits at the first `=`.
 */
export function parseTags(
  given: readonly string[] | undefined,
): Record<string, string> | undefined {
  if (given === undefined) return undefined;
  const tags: Record<string, string> = {};
  for (const pair of given) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq === -1) tags[pair] = '';
    else tags[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return tags;
}
