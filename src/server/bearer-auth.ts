// Bearer-token authentication for the resource surfaces (ARM, Key Vault): header in, identity out.
import { authenticationRequired } from '../core/errors.js';
import type { AccessTokenVerifier, VerifiedAccessToken } from '../core/tokens/index.js';

/** Longest `Authorization` header accepted: far above any real token, far below a memory risk. */
const MAX_HEADER_LENGTH = 16 * 1024;

/**
 * Reads `Authorization: Bearer <token>` (RFC 6750 section 2.1; the scheme is case-insensitive)
 * and verifies the token. A missing or non-Bearer header fails with `AuthenticationRequired`
 * (ARM: `AuthenticationFailed`); a bad token with the verifier's `InvalidToken` error. Both are
 * 401s; the surface adds its own `WWW-Authenticate` challenge.
 */
export async function authenticateBearer(
  header: string | string[] | undefined,
  verifier: AccessTokenVerifier,
): Promise<VerifiedAccessToken> {
  if (header === undefined || header === '') {
    throw authenticationRequired("Authentication failed. The 'Authorization' header is missing.");
  }
  if (Array.isArray(header) || header.length > MAX_HEADER_LENGTH) {
    throw authenticationRequired(
      "Authentication failed. The 'Authorization' header is provided in an invalid format.",
    );
  }
  const match = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(header);
  if (match?.[1] === undefined) {
    throw authenticationRequired(
      "Authentication failed. The 'Authorization' header is provided in an invalid format.",
    );
  }
  return verifier.verify(match[1]);
}

/**
 * The RFC 6750 section 3 challenge a 401 carries: where to get a token and, for a bad token,
 * `error="invalid_token"`. Quotes and backslashes in the description are dropped.
 */
export function bearerChallenge(options: {
  authorizationUri: string;
  error?: 'invalid_token' | undefined;
  description?: string | undefined;
}): string {
  const clean = (s: string): string => s.replace(/["\\\r\n]/g, '');
  const parts = [`authorization_uri="${clean(options.authorizationUri)}"`];
  if (options.error !== undefined) parts.push(`error="${options.error}"`);
  if (options.description !== undefined) {
    parts.push(`error_description="${clean(options.description)}"`);
  }
  return `Bearer ${parts.join(', ')}`;
}
