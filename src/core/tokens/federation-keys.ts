// The port through which the token issuer gets a foreign OIDC issuer's signing keys (workload identity federation).
import type { KeyObject } from 'node:crypto';

/** The JOSE header members that choose a verification key. */
export interface FederatedKeyHint {
  readonly alg: string;
  readonly kid?: string | undefined;
}

/** Why no key could be had: the issuer's endpoints failed, or it publishes no key for the token. */
export type FederatedKeyFailure = 'endpoint' | 'key_not_found';

/**
 * No verification key for a foreign token. `endpoint`: the issuer may not be fetched from (its
 * URL or address is forbidden), or its discovery document or key set could not be had or read
 * (Entra's "Request to External OIDC endpoint failed."). `key_not_found`: the key set was read but
 * holds no key for the token's `kid` and `alg`. `detail` says what happened in the operator's
 * words: it names URLs and addresses, never a token.
 */
export class FederatedKeyError extends Error {
  override readonly name = 'FederatedKeyError';

  constructor(
    readonly failure: FederatedKeyFailure,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/**
 * Where the signing keys of OIDC issuers come from: their discovery document
 * (`{issuer}/.well-known/openid-configuration`) and its `jwks_uri`, fetched and cached by an
 * adapter (`src/client/oidc-issuer-keys.ts`).
 */
export interface FederatedKeySource {
  /**
   * The public key that verifies a token of `issuer` with this header. Rejects with a
   * {@link FederatedKeyError} when there is none.
   */
  keyFor(issuer: string, hint: FederatedKeyHint): Promise<KeyObject>;
}
