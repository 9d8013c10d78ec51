// `POST /token`: an access token for an identity of a VM on the calling host, the host's session (or the identity's key) standing for the identity.
import { decodeJwt } from 'jose';
import { AppError, forbidden, invalidParameter, isAppError } from '../../core/errors.js';
import type { Host } from '../../core/model.js';
import type { Store } from '../../core/ports.js';
import type { ClientCredential, TokenService } from '../../core/tokens/token-service.js';
import type { AgentTokenResponse } from '../../wire/agent-api.js';
import { entraErrorCodes, entraErrorName } from '../../wire/errors/oauth.js';
import { entraError } from '../../wire/oauth/entra-errors.js';
import { asEntraError } from '../../wire/oauth/entra-refusals.js';
import { identityHolderOf, isPlacedOn } from './agent-vm.js';
import { bodyObject, stringMember } from './request-body.js';

const MAX_ID_CHARS = 1024;
const MAX_ASSERTION_CHARS = 16 * 1024;
const MAX_RESOURCE_CHARS = 2048;
const MAX_PEER_CHARS = 64;

/**
 * Issues a token for `resource` to the identity the request names, for VM `vmId` on `host`: the
 * VM (or instance) must be placed on the host and have that identity (403 `AuthorizationFailed`
 * otherwise). The identity is named by `clientId`, the host's session standing for its key (the
 * token service checks that the host holds a current certificate for it), or by a client
 * assertion's `iss` (read unverified only to find the identity; the token service verifies the
 * assertion against the identity's certificates, audience the tenant's v1 token endpoint). The
 * token has `xms_az_rid` = the VM and is audited with the VM, host and peer. Its refusals, in
 * Entra's words, keep their status and become `{"error":{"code":"<OAuth error>","message":"AADSTS<n>: …"}}`.
 */
export async function issueAgentToken(
  deps: { readonly store: Store; readonly tokens: TokenService },
  host: Host,
  body: unknown,
): Promise<AgentTokenResponse> {
  const request = bodyObject(body);
  const vmId = stringMember(request, 'vmId', MAX_ID_CHARS);
  const { clientId, auth, target } = identityNamed(request, host);
  const resource = stringMember(request, 'resource', MAX_RESOURCE_CHARS);
  const peer =
    request.peer === undefined || request.peer === null
      ? undefined
      : stringMember(request, 'peer', MAX_PEER_CHARS);

  const vm = await deps.store.resources.get(vmId);
  if (vm === undefined || !isPlacedOn(vm, host.id)) {
    throw forbidden(`The VM '${vmId}' is not placed on host '${host.name}'.`, 'vmId');
  }
  const identity = await attachedIdentity(deps.store, identityHolderOf(vm), clientId);
  if (identity === undefined) {
    throw forbidden(
      `The VM '${vm.id}' has no identity with client id '${clientId.slice(0, 64)}'.`,
      target,
    );
  }
  try {
    const issued = await deps.tokens.issue(
      identity.tenantId,
      { clientId: identity.clientId, resource, auth },
      { vmId: vm.id, hostId: host.id, ...(peer === undefined ? {} : { peer }) },
    );
    return {
      accessToken: issued.accessToken,
      clientId: identity.clientId,
      resource: issued.resource,
      expiresOn: issued.expiresOn,
      notBefore: issued.notBefore,
    };
  } catch (error) {
    throw agentError(asEntraError(error));
  }
}

/** The identity a token request names, how it is proved, and the member a 403 names. */
function identityNamed(
  request: Readonly<Record<string, unknown>>,
  host: Host,
): { clientId: string; auth: ClientCredential; target: 'clientId' | 'clientAssertion' } {
  const absent = (name: string): boolean => request[name] === undefined || request[name] === null;
  if (absent('clientAssertion')) {
    const clientId = stringMember(request, 'clientId', MAX_ID_CHARS);
    return { clientId, auth: { kind: 'host', hostId: host.id }, target: 'clientId' };
  }
  if (!absent('clientId')) {
    throw invalidParameter('clientId', "Give either 'clientId' or 'clientAssertion', not both.");
  }
  const assertion = stringMember(request, 'clientAssertion', MAX_ASSERTION_CHARS);
  const auth = { kind: 'assertion', assertion } as const;
  return { clientId: unverifiedIssuer(assertion), auth, target: 'clientAssertion' };
}

/**
 * The identity with client id `clientId` when it is attached to `holderId` (a VM or scale set):
 * two point reads whatever the number of identities the holder has (a VM may have 1000) or the
 * number of VMs the identity is attached to.
 */
async function attachedIdentity(
  store: Store,
  holderId: string,
  clientId: string,
): Promise<{ readonly clientId: string; readonly tenantId: string } | undefined> {
  const principal = await store.principals.getByAppId(clientId.toLowerCase());
  if (principal === undefined) return undefined;
  return (await store.attachments.isAttached(holderId, principal.objectId))
    ? { clientId: principal.appId, tenantId: principal.tenantId }
    : undefined;
}

/** The assertion's `iss`, unverified; a malformed assertion is Entra's AADSTS50027 (400). */
function unverifiedIssuer(assertion: string): string {
  let iss: unknown;
  try {
    ({ iss } = decodeJwt(assertion));
  } catch {
    throw agentError(entraError('assertion_malformed'));
  }
  if (typeof iss !== 'string' || iss === '') {
    throw agentError(entraError('assertion_missing_claim', 'iss'));
  }
  return iss;
}

/** An Entra error in the agent API's shape, same status; anything else unchanged. */
export function agentError(error: unknown): unknown {
  if (!isAppError(error) || error.wire.oauth === undefined || !error.expose) return error;
  const [aadsts] = entraErrorCodes(error);
  return new AppError(error.code, `AADSTS${aadsts ?? 0}: ${error.message}`, {
    status: error.status,
    wire: { arm: entraErrorName(error) },
    errorCodes: error.errorCodes,
    cause: error,
    ...(error.target === undefined ? {} : { target: error.target }),
  });
}
