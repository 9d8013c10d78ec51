// The tokens part of the domain: the token issuer and access-token verification.
export {
  ACCESS_TOKEN_ALGORITHM,
  DEFAULT_CLOCK_SKEW_SECONDS,
  InvalidAccessTokenError,
  armUtcTime,
  createAccessTokenVerifier,
  localJwksResolver,
  remoteJwksResolver,
  type AccessTokenFailure,
  type AccessTokenVerifier,
  type AccessTokenVerifierOptions,
  type ArmTokenErrorCode,
  type KeyResolver,
  type RemoteJwksOptions,
  type VerifiedAccessToken,
} from './verifier.js';
export {
  DEFAULT_TOKEN_LIFETIME_SECONDS,
  createTokenService,
  type ClientCredential,
  type ClientCredentialsGrant,
  type IssueContext,
  type IssuedToken,
  type TokenService,
  type TokenServiceOptions,
} from './token-service.js';
export {
  TokenRefusedError,
  tokenRefused,
  type TokenRefusal,
  type TokenRefusalFacts,
  type TokenRefusalReason,
} from './refusals.js';
export { MAX_ASSERTION_LIFETIME_SECONDS } from './certificate-assertion.js';
export {
  FEDERATED_ALGORITHMS,
  MAX_FEDERATED_TOKEN_LIFETIME_SECONDS,
  matchFederatedCredential,
} from './federation.js';
export {
  FederatedKeyError,
  type FederatedKeyHint,
  type FederatedKeySource,
} from './federation-keys.js';
