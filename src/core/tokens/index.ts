// The tokens part of the domain: access-token verification (the token service joins it later).
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
