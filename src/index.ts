// The `tessera` package's public API: verify Tessera-issued access tokens in your own services.
export {
  ACCESS_TOKEN_ALGORITHM,
  DEFAULT_CLOCK_SKEW_SECONDS,
  InvalidAccessTokenError,
  createAccessTokenVerifier,
  localJwksResolver,
  remoteJwksResolver,
  type AccessTokenFailure,
  type AccessTokenVerifier,
  type AccessTokenVerifierOptions,
  type KeyResolver,
  type RemoteJwksOptions,
  type VerifiedAccessToken,
} from './core/tokens/index.js';
export { AppError, isAppError, type ErrorCode } from './core/errors.js';
export type { Clock } from './core/ports.js';
