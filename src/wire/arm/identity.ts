// The managed-identity property of VMs and scale sets: parse, merge and render (PROTOCOL.md 4.3).
import { AppError, isAppError } from '../../core/errors.js';
import { armError, invalidRequestContent } from './arm-errors.js';
import { parseResourceId, resourceIdKey } from './resource-id.js';
import { isRecord } from '../../core/guards.js';

/** The `identity.type` values, as ARM writes them (comma and space between the two kinds). */
export const IDENTITY_TYPES = [
  'SystemAssigned',
  'UserAssigned',
  'SystemAssigned, UserAssigned',
  'None',
] as const;

/** One of {@link IDENTITY_TYPES}. */
export type IdentityType = (typeof IDENTITY_TYPES)[number];

/** How user-assigned identities travel: the 2017-12-01 array or the later dictionary. */
export type IdentityFormat = 'userAssignedIdentities' | 'identityIds';

/**
 * The format of a Compute api-version: `identityIds` for 2017-12-01 (RESTVM, PROTOCOL.md 4.3),
 * the `userAssignedIdentities` dictionary for every later version Tessera serves.
 */
export function identityFormat(apiVersion: string): IdentityFormat {
  return apiVersion === '2017-12-01' ? 'identityIds' : 'userAssignedIdentities';
}

/** What a request asks of a resource's identities. */
export interface IdentityRequest {
  /** The type as sent, normalised; undefined on a PATCH that did not send one. */
  readonly type: IdentityType | undefined;
  /** Wanted system-assigned identity; undefined on a PATCH that did not say. */
  readonly system: boolean | undefined;
  /** Identity ids to have (case as sent) and to drop (a PATCH's `null` values). */
  readonly userAssigned: { readonly set: readonly string[]; readonly remove: readonly string[] };
  /** True when `set` replaces the current user-assigned identities instead of adding to them. */
  readonly replaceAll: boolean;
}

/** A resource's identities: ids keep the case they were first assigned with. */
export interface IdentityState {
  readonly system: boolean;
  readonly userAssigned: readonly string[];
}

/** A resource with no identity. */
export const NO_IDENTITY: IdentityState = { system: false, userAssigned: [] };

/**
 * Identities assigned or removed in one request, at most: Azure's managed-identity service
 * refuses more (https://github.com/Azure/bicep/issues/16559,
 * https://github.com/Azure/aad-pod-identity/issues/813).
 */
export const MAX_USER_ASSIGNED_PER_REQUEST = 150;

/** User-assigned identities on one resource, at most: Tessera's own bound (Azure states none). */
export const MAX_USER_ASSIGNED_IDENTITIES = 1000;

const UAI_FORMAT =
  '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{resourceName}';

/**
 * `InvalidIdentityId` (400): ids that are not user-assigned identity ids.
 * Source: https://github.com/MicrosoftDocs/azure-docs/pull/48229,
 * https://github.com/Azure/aad-pod-identity/issues/230. Several ids are joined with ', ' (not
 * captured).
 */
function invalidIdentityId(ids: readonly string[]): AppError {
  return armError(
    'InvalidIdentityId',
    `The identity ids '${ids.join(', ')}' are invalid. It must be of the following format: '${UAI_FORMAT}'.`,
  );
}

/**
 * `InvalidIdentityValues` (400): dictionary values other than `{}`, `null` or the read-only members
 * a GET returned. ARM's own check, the same for every resource kind.
 * Source: https://github.com/Azure/terraform-provider-azapi/issues/840 (400, code, text),
 * https://github.com/kubernetes/autoscaler/issues/1592 (a scale set, 400). Several ids are joined
 * with ', ' (not captured).
 */
function invalidIdentityValues(ids: readonly string[]): AppError {
  return armError(
    'InvalidIdentityValues',
    `Invalid value for the identities '${ids.join(', ')}'. The 'UserAssignedIdentities' property keys should only be empty json objects, null or the resource existing property.`,
  );
}

/** The read-only members of a dictionary value, which a client echoing a GET sends back. */
const READ_ONLY_VALUE_MEMBERS = new Set(['principalid', 'clientid']);

const isIdentityValue = (entry: unknown): boolean =>
  entry === null ||
  (isRecord(entry) &&
    Object.keys(entry).every((name) => READ_ONLY_VALUE_MEMBERS.has(name.toLowerCase())));

/**
 * Throws ARM's `LinkedInvalidPropertyId` (path '') for a dictionary key that is not a resource id
 * at all: ARM reads every key as one before the resource provider sees it.
 * Source: https://github.com/MicrosoftDocs/azure-docs/issues/112377 (code and text, path ''),
 * https://github.com/Azure/aad-pod-identity/pull/548 (the same error on VM and scale-set updates).
 */
function requireResourceId(id: string): void {
  try {
    parseResourceId(id, { validateNames: false });
  } catch (error) {
    if (isAppError(error) && error.wire.arm === 'LinkedInvalidPropertyId') throw error;
  }
}

/**
 * The error for a well-formed id of a user-assigned identity that does not exist, for the server
 * to raise once it has looked: the managed-identity provider's 400 "Resource '{id}' was not
 * found.", which ARM reports wrapped for the resource being written (wrap it with
 * {@link failedIdentityOperation}). Source: https://github.com/Azure/azure-policy/issues/1311
 * (2024, a VM).
 */
export function userAssignedIdentityNotFound(id: string): AppError {
  return armError('BadRequest', `Resource '${id}' was not found.`);
}

// prettier-ignore
const STATUS_NAMES: Readonly<Record<number, string>> = {
  400: 'BadRequest', 403: 'Forbidden', 404: 'NotFound', 409: 'Conflict', 429: 'TooManyRequests',
};

/**
 * ARM's `FailedIdentityOperation`: the managed-identity provider refused the identity part of a
 * write to `resourceId`, and ARM passes its answer on inside its own sentence, with the inner
 * status. Sources: https://github.com/Azure/azure-cli/issues/31837 and
 * https://github.com/Azure/bicep-registry-modules/pull/2719 (the wrapper's text),
 * https://github.com/Azure/aad-pod-identity/issues/676 (the inner status passed through).
 */
export function failedIdentityOperation(resourceId: string, inner: AppError): AppError {
  const status = STATUS_NAMES[inner.status] ?? 'BadRequest';
  const response = JSON.stringify({
    error: { code: inner.wire.arm ?? status, message: inner.message },
  });
  return new AppError(
    inner.code,
    `Identity operation for resource '${resourceId}' failed with error 'Failed to perform resource identity operation. Status: '${status}'. Response: '${response}'.'.`,
    { status: inner.status, wire: { arm: 'FailedIdentityOperation' }, cause: inner },
  );
}

/**
 * Compute's `InvalidParameter` when user-assigned identities come with a type that has none.
 * Source (identityIds): https://github.com/Azure/aad-pod-identity/issues/214; the dictionary
 * variant, same sentence with its member name, is not captured.
 */
function notWithType(member: IdentityFormat, type: IdentityType): AppError {
  return armError(
    'InvalidParameter',
    `ResourceIdentity ${member} should not be provided if the type is "${type}".`,
    { target: `resourceIdentity.${member}` },
  );
}

/**
 * A user-assigned type with no identities.
 * Source: https://github.com/microsoft/CromwellOnAzure/pull/765 (Compute's text; code not captured).
 */
function emptyForType(type: IdentityType): AppError {
  return armError(
    'InvalidParameter',
    `The identity ids must not be null or empty for '${type}' identity type.`,
  );
}

/** Options for {@link parseIdentity}. */
export interface ParseIdentityOptions {
  /** PATCH merges user-assigned identities and may omit `type`; PUT replaces them. */
  readonly isPatch: boolean;
  /** From {@link identityFormat}; default the dictionary. */
  readonly format?: IdentityFormat;
}

/**
 * Reads a request's `identity` (PROTOCOL.md 4.3). Undefined when the body has none (or `null`).
 *
 * - `type` is matched case-insensitively, with or without spaces around the comma and in either
 *   order (`systemassigned,userassigned`); required on PUT, optional on PATCH.
 * - `userAssignedIdentities` maps identity ids to `{}` (a GET's read-only `principalId` and
 *   `clientId` are ignored) or, on PATCH, `null` to remove. Ids differing only in case are one
 *   id (the first spelling wins); the same id asked both kept and removed is an error.
 * - 2017-12-01's `identityIds` is an array of ids that replaces the current set.
 * - Member names match in any case, as Json.NET reads them.
 *
 * Errors (400): `InvalidParameter` for a bad type, user-assigned identities with
 * `SystemAssigned`/`None`, or none with a user-assigned type on PUT; `LinkedInvalidPropertyId`
 * for a dictionary key that is not a resource id; `InvalidIdentityValues` for a dictionary value
 * other than `{}`, `null` or read-only members; `InvalidIdentityId` for ids that are not
 * user-assigned identity ids; `InvalidRequestContent` when `identity` or the identity collection
 * has the wrong JSON type, or a PUT has no type (Json.NET's required-member sentence).
 */
export function parseIdentity(
  value: unknown,
  options: ParseIdentityOptions,
): IdentityRequest | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) {
    throw invalidRequestContent("The value of 'identity' must be a JSON object.");
  }
  const format = options.format ?? 'userAssignedIdentities';
  const type = parseType(member(value, 'type'), options.isPatch);
  const rawIds = member(value, format);
  const { set, remove } =
    format === 'identityIds' ? readIdentityIds(rawIds) : readDictionary(rawIds);

  const withUserAssigned = type === 'UserAssigned' || type === 'SystemAssigned, UserAssigned';
  if ((type === 'SystemAssigned' || type === 'None') && set.length > 0) {
    throw notWithType(format, type);
  }
  if (withUserAssigned && set.length === 0 && !options.isPatch) throw emptyForType(type);
  const system =
    type === undefined
      ? undefined
      : type === 'SystemAssigned' || type === 'SystemAssigned, UserAssigned';
  // The 2017-12-01 array cannot say "remove", so when sent it is the whole new set.
  const listsAll = format === 'identityIds' && rawIds !== undefined && rawIds !== null;
  const replaceAll = !options.isPatch || listsAll || (type !== undefined && !withUserAssigned);
  return { type, system, userAssigned: { set, remove }, replaceAll };
}

function parseType(raw: unknown, isPatch: boolean): IdentityType | undefined {
  if (raw === undefined || raw === null) {
    if (isPatch) return undefined;
    // Json.NET's sentence for a required member, as ARM answers a PUT without it:
    // https://github.com/Azure/aad-pod-identity/issues/313 (a VM),
    // https://github.com/Azure/azure-powershell/issues/7556 (a scale set).
    throw invalidRequestContent(
      raw === undefined
        ? "Required property 'type' not found in JSON. Path 'identity'."
        : "Required property 'type' expects a value but got null. Path 'identity'.",
    );
  }
  const parts =
    typeof raw === 'string' ? raw.split(',').map((part) => part.trim().toLowerCase()) : [];
  const kinds = new Set(parts);
  const found =
    kinds.size !== parts.length
      ? undefined
      : IDENTITY_TYPES.find((type) => {
          const wanted = type.toLowerCase().split(', ');
          return wanted.length === kinds.size && wanted.every((kind) => kinds.has(kind));
        });
  if (found !== undefined) return found;
  throw armError(
    'InvalidParameter',
    `The value '${typeof raw === 'string' ? raw : JSON.stringify(raw)}' of parameter 'identity.type' is invalid. Allowed values are '${IDENTITY_TYPES.join("', '")}'.`,
    { target: 'identity.type' },
  );
}

interface UserAssignedLists {
  readonly set: string[];
  readonly remove: string[];
}

function readDictionary(raw: unknown): UserAssignedLists {
  if (raw === undefined || raw === null) return { set: [], remove: [] };
  if (!isRecord(raw)) {
    throw invalidRequestContent(
      "The value of 'identity.userAssignedIdentities' must be a JSON object.",
    );
  }
  for (const id of Object.keys(raw)) requireResourceId(id);
  const badValues = Object.keys(raw).filter((id) => !isIdentityValue(raw[id]));
  if (badValues.length > 0) throw invalidIdentityValues(badValues);
  const wanted = new Map<string, { id: string; keep: boolean }>();
  const invalid: string[] = [];
  for (const [id, entry] of Object.entries(raw)) {
    if (!isUserAssignedIdentityId(id)) {
      invalid.push(id);
      continue;
    }
    const keep = entry !== null;
    const key = resourceIdKey(id);
    const earlier = wanted.get(key);
    if (earlier === undefined) wanted.set(key, { id, keep });
    else if (earlier.keep !== keep) {
      throw armError(
        'InvalidParameter',
        `The user assigned identity '${earlier.id}' is given more than once with different values.`,
        { target: 'identity.userAssignedIdentities' },
      );
    }
  }
  if (invalid.length > 0) throw invalidIdentityId(invalid);
  const entries = [...wanted.values()];
  return {
    set: entries.filter((entry) => entry.keep).map((entry) => entry.id),
    remove: entries.filter((entry) => !entry.keep).map((entry) => entry.id),
  };
}

function readIdentityIds(raw: unknown): UserAssignedLists {
  if (raw === undefined || raw === null) return { set: [], remove: [] };
  if (!Array.isArray(raw) || raw.some((id) => typeof id !== 'string')) {
    throw invalidRequestContent("The value of 'identity.identityIds' must be an array of strings.");
  }
  const ids = raw as string[];
  const invalid = ids.filter((id) => !isUserAssignedIdentityId(id));
  if (invalid.length > 0) throw invalidIdentityId(invalid);
  const seen = new Set<string>();
  const set = ids.filter((id) => {
    const key = resourceIdKey(id);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { set, remove: [] };
}

/**
 * True when `id` is a user-assigned identity's id (any case):
 * `/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{n}`.
 */
export function isUserAssignedIdentityId(id: string): boolean {
  try {
    const parsed = parseResourceId(id, { validateNames: false });
    return (
      parsed.kind === 'resource' &&
      !parsed.extension &&
      parsed.resourceGroup !== undefined &&
      parsed.fullType.toLowerCase() === 'microsoft.managedidentity/userassignedidentities'
    );
  } catch {
    return false;
  }
}

/**
 * The identities after `request` is applied to `current`. `type` decides the system-assigned
 * identity (a PATCH without one keeps it); `SystemAssigned` and `None` drop every user-assigned
 * identity; otherwise `set` replaces (PUT, `identityIds`) or joins (PATCH) the current ones and
 * `remove` leaves. An id already assigned keeps its first spelling.
 *
 * Throws (400) `InvalidParameter` when a user-assigned type ends with none,
 * `BadRequest` "User Assigned Identities Number 'n' Assign exceed limit '150' in one request."
 * when more than {@link MAX_USER_ASSIGNED_PER_REQUEST} are assigned or removed at once (Azure's
 * text; its outer "Failed to perform resource identity operation" wrapper is not reproduced),
 * and `BadRequest` beyond {@link MAX_USER_ASSIGNED_IDENTITIES} on the resource (Tessera's bound).
 */
export function mergeIdentity(
  current: IdentityState,
  request: IdentityRequest,
  isPatch: boolean,
): IdentityState {
  const system = request.system ?? current.system;
  const byKey = new Map(current.userAssigned.map((id) => [resourceIdKey(id), id]));
  const kept = new Map<string, string>();
  if (!request.replaceAll && isPatch) for (const [key, id] of byKey) kept.set(key, id);
  for (const id of request.userAssigned.remove) kept.delete(resourceIdKey(id));
  for (const id of request.userAssigned.set) {
    const key = resourceIdKey(id);
    if (!kept.has(key)) kept.set(key, byKey.get(key) ?? id);
  }
  const userAssigned = [...kept.values()];
  const wantsUserAssigned =
    request.type === 'UserAssigned' || request.type === 'SystemAssigned, UserAssigned';
  if (wantsUserAssigned && userAssigned.length === 0) throw emptyForType(request.type);

  const added = [...kept.keys()].filter((key) => !byKey.has(key)).length;
  const removed = [...byKey.keys()].filter((key) => !kept.has(key)).length;
  const changed = Math.max(added, removed);
  if (changed > MAX_USER_ASSIGNED_PER_REQUEST) {
    throw armError(
      'BadRequest',
      `User Assigned Identities Number '${changed}' Assign exceed limit '${MAX_USER_ASSIGNED_PER_REQUEST}' in one request.`,
    );
  }
  if (userAssigned.length > MAX_USER_ASSIGNED_IDENTITIES) {
    throw armError(
      'BadRequest',
      `User Assigned Identities Number '${userAssigned.length}' exceed limit '${MAX_USER_ASSIGNED_IDENTITIES}' on one resource.`,
    );
  }
  return { system, userAssigned };
}

/** The `identity.type` that describes `state`. */
export function identityTypeOf(state: IdentityState): IdentityType {
  const user = state.userAssigned.length > 0;
  if (state.system) return user ? 'SystemAssigned, UserAssigned' : 'SystemAssigned';
  return user ? 'UserAssigned' : 'None';
}

/** The principals behind a resource's identities, for {@link renderIdentity}. */
export interface IdentityPrincipals {
  readonly system?: { readonly principalId: string; readonly tenantId: string } | undefined;
  /** Looks up a user-assigned identity by id (any case). */
  readonly userAssigned?: (
    id: string,
  ) => { readonly principalId: string; readonly clientId: string } | undefined;
}

/** The `identity` of a response (dictionary format); read-only members filled in. */
export interface ArmIdentity {
  readonly type: IdentityType;
  readonly principalId?: string;
  readonly tenantId?: string;
  readonly userAssignedIdentities?: Readonly<
    Record<string, { principalId?: string; clientId?: string }>
  >;
  readonly identityIds?: readonly string[];
}

/**
 * The response `identity`: `type`, then the system-assigned identity's `principalId` and
 * `tenantId`, then `userAssignedIdentities` keyed by id as assigned, each `{principalId, clientId}`
 * (or 2017-12-01's `identityIds` array). Undefined when the resource has no identity (Compute
 * leaves the member out). A principal the lookup does not know is left out rather than invented.
 */
export function renderIdentity(
  state: IdentityState,
  principals: IdentityPrincipals,
  options: { readonly format?: IdentityFormat } = {},
): ArmIdentity | undefined {
  const type = identityTypeOf(state);
  if (type === 'None') return undefined;
  const system = state.system ? principals.system : undefined;
  const head = {
    type,
    ...(system === undefined ? {} : { principalId: system.principalId, tenantId: system.tenantId }),
  };
  if (state.userAssigned.length === 0) return head;
  if (options.format === 'identityIds') return { ...head, identityIds: [...state.userAssigned] };
  const userAssignedIdentities: Record<string, { principalId?: string; clientId?: string }> = {};
  for (const id of state.userAssigned) {
    const found = principals.userAssigned?.(id);
    userAssignedIdentities[id] =
      found === undefined ? {} : { principalId: found.principalId, clientId: found.clientId };
  }
  return { ...head, userAssignedIdentities };
}

// Json.NET binds members case-insensitively; an exact match wins over a case-folded one.
function member(object: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(object, name)) return object[name];
  const lower = name.toLowerCase();
  const key = Object.keys(object).find((candidate) => candidate.toLowerCase() === lower);
  return key === undefined ? undefined : object[key];
}
