// Who may do what on the data plane: api-version, the caller's token and tenant, and RBAC data actions.
import { decodeJwt } from 'jose';
import { AppError } from '../../core/errors.js';
import type { RbacEvaluator } from '../../core/rbac/index.js';
import {
  type AccessTokenVerifier,
  InvalidAccessTokenError,
  type VerifiedAccessToken,
} from '../../core/tokens/index.js';
import { badParameter, keyVaultUnauthorized } from '../../wire/keyvault/errors.js';
import { authenticateBearer } from '../bearer-auth.js';
import type { VaultRef } from './vaults.js';

/** The data-plane api-versions Tessera answers (Key Vault's GA versions). */
export const KEY_VAULT_API_VERSIONS: readonly string[] = [
  '2015-06-01',
  '2016-10-01',
  '7.0',
  '7.1',
  '7.2',
  '7.3',
  '7.4',
  '7.5',
  '7.6',
  '2025-06-01',
  '2025-07-01',
];

/** `api-version` (the SDK sends it as `api%2Dversion`, which arrives decoded) must be one of ours. */
export function checkKeyVaultApiVersion(query: unknown): void {
  const raw = (query as Record<string, unknown> | undefined)?.['api-version'];
  // A `nextLink` followed by a client that appends its own api-version repeats the same value.
  const value = Array.isArray(raw) && new Set(raw).size === 1 ? (raw[0] as unknown) : raw;
  if (value === undefined || value === '') {
    throw badParameter('The request is missing the required parameter api-version.');
  }
  if (typeof value !== 'string' || !KEY_VAULT_API_VERSIONS.includes(value)) {
    throw badParameter(
      `The specified version (${typeof value === 'string' ? value : ''}) is not recognized. Consider using the latest supported version (${KEY_VAULT_API_VERSIONS.at(-1) ?? ''}).`,
    );
  }
}

/**
 * Verifies the bearer token for `vault`: Key Vault's words for a wrong audience (`AKV10022`,
 * naming `resource`, the audience the request's challenge asks for), a wrong issuer or a token from
 * another tenant than the vault's (`AKV10032`) and an expired token; the verifier's for anything
 * else (all 401 `Unauthorized`).
 */
export async function authenticateForVault(
  header: string | string[] | undefined,
  services: { readonly verifier: AccessTokenVerifier },
  vault: VaultRef,
  resource: string,
): Promise<VerifiedAccessToken> {
  let caller: VerifiedAccessToken;
  try {
    caller = await authenticateBearer(header, services.verifier);
  } catch (error) {
    if (!(error instanceof InvalidAccessTokenError)) throw error;
    const claims = unverifiedClaims(typeof header === 'string' ? header : '');
    const { reason } = error;
    if (reason === 'expired' || reason === 'too_old') {
      throw keyVaultUnauthorized("[TokenExpired] Error validating token: 'S2S12086'.");
    }
    if (reason === 'wrong_audience') {
      throw keyVaultUnauthorized(
        `AKV10022: Invalid audience. Expected ${resource}, found: ${claimText(claims.aud)}.`,
      );
    }
    if (reason === 'wrong_issuer') {
      throw keyVaultUnauthorized(
        `AKV10032: Invalid issuer. Expected one of the issuers of tenant ${vault.tenantId}, found ${claimText(claims.iss)}.`,
      );
    }
    throw keyVaultUnauthorized(error.message);
  }
  if (caller.tenantId.toLowerCase() !== vault.tenantId.toLowerCase()) {
    throw keyVaultUnauthorized(
      `AKV10032: Invalid issuer. Expected one of the issuers of tenant ${vault.tenantId}, found ${caller.issuer}.`,
    );
  }
  return caller;
}

const claimText = (value: unknown): string =>
  typeof value === 'string' ? value : Array.isArray(value) ? value.join(',') : '';

/** The claims of a bearer token that failed verification (for the error message only). */
function unverifiedClaims(header: string): Record<string, unknown> {
  try {
    return decodeJwt(header.replace(/^Bearer +/i, '').trim());
  } catch {
    return {};
  }
}

/** The data actions of the secrets operations. */
export const SECRET_ACTIONS = {
  get: 'Microsoft.KeyVault/vaults/secrets/getSecret/action',
  readMetadata: 'Microsoft.KeyVault/vaults/secrets/readMetadata/action',
  set: 'Microsoft.KeyVault/vaults/secrets/setSecret/action',
  update: 'Microsoft.KeyVault/vaults/secrets/update/action',
  delete: 'Microsoft.KeyVault/vaults/secrets/delete',
  recover: 'Microsoft.KeyVault/vaults/secrets/recover/action',
  purge: 'Microsoft.KeyVault/vaults/secrets/purge/action',
} as const;

/**
 * Checks that the caller holds `action` (a data action) at `scope` (the vault, or one of its
 * secrets: `{vaultId}/secrets/{name}`); else 403 `Forbidden` / `ForbiddenByRbac` in Azure's words.
 * Returns the id of the assignment that granted it (`x-ms-keyvault-rbac-assignment-id`).
 */
export async function authorizeData(
  rbac: Pick<RbacEvaluator, 'check'>,
  caller: VerifiedAccessToken,
  vault: VaultRef,
  action: string,
  scope: string,
): Promise<string | undefined> {
  const { allowed, matchedAssignmentId } = await rbac.check({
    principalId: caller.objectId,
    action,
    scope,
    dataAction: true,
  });
  if (allowed) return matchedAssignmentId;
  throw new AppError(
    'Forbidden',
    [
      'Caller is not authorized to perform action on resource.',
      'If role assignments, deny assignments or role definitions were changed recently, please observe propagation time.',
      `Caller: appid=${caller.appId ?? ''};oid=${caller.objectId};iss=${caller.issuer}`,
      `Action: '${action}'`,
      `Resource: '${scope.toLowerCase()}'`,
      'Assignment: (not found)',
      'DenyAssignmentId: null',
      'DecisionReason: null ',
      `Vault: ${vault.name};location=${vault.location}`,
      '',
    ].join('\r\n'),
    { status: 403, wire: { keyvault: 'Forbidden' } },
  );
}
