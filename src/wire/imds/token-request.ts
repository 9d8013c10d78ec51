// The IMDS token request: query validation and the choice of identity (PROTOCOL.md 1.1 and 1.3).
import {
  identityNotFound,
  invalidParameter,
  invalidRequest,
  missingParameter,
  multipleUserAssignedIdentities,
} from '../../core/errors.js';
import type { AgentIdentity, AgentVm } from '../agent-api.js';
import { hasControlCharacter } from '../control-characters.js';
import { checkApiVersion } from './api-versions.js';
import type { ImdsQuery } from './query.js';

/** How the caller named the identity: by client id, object id or ARM resource id. */
export type IdentitySelectorKind = 'clientId' | 'objectId' | 'resourceId';

/** A user-assigned (or system-assigned) identity named by the request. */
export interface IdentitySelector {
  readonly kind: IdentitySelectorKind;
  readonly value: string;
}

/** A validated `GET /metadata/identity/oauth2/token` query. */
export interface TokenRequest {
  readonly apiVersion: string;
  /** The `resource` value, decoded but otherwise verbatim (echoed in the response). */
  readonly resource: string;
  /** Absent: the VM's default identity (PROTOCOL.md 1.3). */
  readonly selector: IdentitySelector | undefined;
  /** `bypass_cache=true`: a fresh token instead of the cached one. */
  readonly bypassCache: boolean;
}

/**
 * Selector parameters. `mi_res_id` is not in IMDS's swagger, but older MSAL sent it to IMDS and
 * Microsoft's emulator accepts it as a fallback for `msi_res_id` (PROTOCOL.md 1.1).
 */
const SELECTORS: readonly (readonly [string, IdentitySelectorKind])[] = [
  ['client_id', 'clientId'],
  ['object_id', 'objectId'],
  ['msi_res_id', 'resourceId'],
  ['mi_res_id', 'resourceId'],
];

/** The longest `resource` IMDS takes: what the agent API accepts (src/server/agent-api/token.ts). */
export const MAX_RESOURCE_CHARS = 2048;

/**
 * `InvalidParameter` (IMDS's 400 `invalid_request`) for a value with a control character: IMDS
 * refuses it itself, before any Entra lookup, as it refuses a missing `resource`
 * (docs/compatibility.md, "IMDS resource validation").
 */
function checkText(name: string, value: string): void {
  if (hasControlCharacter(value)) {
    throw invalidParameter(
      name,
      `Bad request. Query parameter '${name}' must not contain control characters.`,
    );
  }
}

/**
 * Validates a token query in IMDS's order: `api-version` (identity category, 2018-02-01 or
 * later), `resource` (present and non-empty, at most {@link MAX_RESOURCE_CHARS} characters), at
 * most one selector, `bypass_cache` (only `true`). `resource` and the selectors must not contain
 * control characters (CR/LF would reach the token's `aud`). Empty selector values count as
 * absent; other parameters (`authority`, ...) are ignored. Throws
 * `MissingApiVersion`/`InvalidApiVersion`, `MissingParameter` ("Required query variable
 * 'resource' is missing"), `InvalidRequest` (two selectors) or `InvalidParameter`.
 */
export function parseTokenRequest(query: ImdsQuery): TokenRequest {
  const apiVersion = checkApiVersion('identity', query.get('api-version'));
  const resource = query.get('resource');
  if (resource === undefined || resource === '') throw missingParameter('resource');
  checkText('resource', resource);
  if (resource.length > MAX_RESOURCE_CHARS) {
    throw invalidParameter(
      'resource',
      `Bad request. Query parameter 'resource' must be at most ${MAX_RESOURCE_CHARS} characters long.`,
    );
  }
  let selector: IdentitySelector | undefined;
  // Most requests carry two or three parameters: skip the selector scan when there is no room.
  if (query.size > 2) {
    for (const [name, kind] of SELECTORS) {
      const value = query.get(name);
      if (value === undefined || value === '') continue;
      checkText(name, value);
      if (selector !== undefined) {
        throw invalidRequest(
          'Bad request. Only one of client_id, object_id and msi_res_id may be specified.',
        );
      }
      selector = { kind, value };
    }
  }
  const bypass = query.get('bypass_cache');
  if (bypass !== undefined && bypass !== 'true') {
    throw invalidParameter('bypass_cache', "Bad request. bypass_cache must be 'true' when given.");
  }
  return { apiVersion, resource, selector, bypassCache: bypass === 'true' };
}

/** Lower-cased lookups of a VM's identities, built once per VM record. */
interface IdentityIndex {
  readonly clientId: ReadonlyMap<string, AgentIdentity>;
  readonly objectId: ReadonlyMap<string, AgentIdentity>;
  readonly resourceId: ReadonlyMap<string, AgentIdentity>;
}

const indexes = new WeakMap<AgentVm, IdentityIndex>();

function indexOf(vm: AgentVm): IdentityIndex {
  let index = indexes.get(vm);
  if (index === undefined) {
    const clientId = new Map<string, AgentIdentity>();
    const objectId = new Map<string, AgentIdentity>();
    const resourceId = new Map<string, AgentIdentity>();
    for (const identity of vm.identities) {
      clientId.set(identity.clientId.toLowerCase(), identity);
      objectId.set(identity.principalId.toLowerCase(), identity);
      resourceId.set(identity.resourceId.toLowerCase(), identity);
    }
    index = { clientId, objectId, resourceId };
    indexes.set(vm, index);
  }
  return index;
}

/**
 * The identity a token request is for. With a selector: the VM's identity whose client id,
 * object id or ARM id matches, compared case-insensitively (GUIDs and ARM ids are); the VM's
 * system-assigned identity can be named too. Without one, Azure's default rules (MIFAQ, "What
 * identity will IMDS default to"): the system-assigned identity, else the only user-assigned
 * one. Throws `IdentityNotFound` ("Identity not found") when nothing matches or the VM has no
 * identity, and `MultipleUserAssignedIdentities` when there are several user-assigned
 * identities, no system-assigned one and no selector.
 */
export function resolveIdentity(
  vm: AgentVm,
  selector: IdentitySelector | undefined,
): AgentIdentity {
  const identities = vm.identities;
  if (selector === undefined) {
    const first = identities[0];
    if (first === undefined) throw identityNotFound();
    if (first.kind === 'SystemAssigned' || identities.length === 1) return first;
    // The system-assigned identity comes first when there is one (AgentVm), but do not rely on it.
    const system = identities.find((i) => i.kind === 'SystemAssigned');
    if (system !== undefined) return system;
    throw multipleUserAssignedIdentities();
  }
  const found = indexOf(vm)[selector.kind].get(selector.value.toLowerCase());
  if (found === undefined) throw identityNotFound();
  return found;
}

/**
 * The identity whose tenant `GET /metadata/identity/info` reports: the default identity of
 * {@link resolveIdentity}, or with several user-assigned identities and no system-assigned one
 * the first attached (every identity of a VM is in the VM's tenant). Throws `IdentityNotFound`
 * for a VM without identities.
 */
export function infoIdentity(vm: AgentVm): AgentIdentity {
  const system = vm.identities.find((i) => i.kind === 'SystemAssigned');
  const identity = system ?? vm.identities[0];
  if (identity === undefined) throw identityNotFound();
  return identity;
}
