// The IMDS identity info body (`GET /metadata/identity/info`, IMDS swagger `IdentityInfoResponse`).
import type { AgentVm } from '../agent-api.js';
import { infoIdentity } from './token-request.js';

/**
 * `{"tenantId":"..."}` for `vm`: the tenant of its default identity (see `infoIdentity`), as in
 * the swagger example `GetIdentityInfo.json` (azure-rest-api-specs, IMDS 2023-07-01). Throws
 * `IdentityNotFound` for a VM without identities.
 */
export function renderIdentityInfo(vm: AgentVm): string {
  return JSON.stringify({ tenantId: infoIdentity(vm).tenantId });
}
