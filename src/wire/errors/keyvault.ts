// Key Vault data-plane errors: {"error":{"code","message","innererror"}} plus x-ms-error-code.
import type { ErrorCode } from '../../core/errors.js';
import type { RenderContext, RenderedError } from './rendered-error.js';
import { finish, prepare, publicMessage, unreachable } from './shared.js';

/** Options for {@link renderKeyVaultError}. */
export interface KeyVaultErrorContext extends RenderContext {
  /**
   * `innererror.code`, e.g. `ObjectIsDeletedButRecoverable` with a 409. A 403 defaults to
   * `ForbiddenByRbac`, as a vault using the RBAC permission model (the only model Tessera has)
   * answers.
   */
  readonly innerErrorCode?: string | undefined;
}

/** Key Vault's `KeyVaultError` body (KVSPEC `common.json`). */
export interface KeyVaultErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly innererror?: { readonly code: string };
  };
}

/** Azure's text for a request without a token (the 401 that starts the SDK's challenge). */
export const KEY_VAULT_MISSING_TOKEN = 'AKV10000: Request is missing a Bearer or PoP token.';

/**
 * Key Vault's code per error code. Tessera's vault serves secrets only, so a `NotFound` is a
 * `SecretNotFound` unless the error carries a `wire.keyvault` override.
 */
function keyVaultCode(code: ErrorCode): string {
  switch (code) {
    case 'InvalidRequest':
    case 'InvalidParameter':
    case 'MissingParameter':
    case 'MethodNotAllowed':
    case 'UnsupportedMediaType':
    case 'PayloadTooLarge':
    case 'MissingApiVersion':
    case 'InvalidApiVersion':
    case 'MetadataHeaderMissing':
    case 'ForwardedRequestRefused':
    case 'IdentityNotFound':
    case 'MultipleUserAssignedIdentities':
    case 'UnsupportedGrantType':
    case 'InvalidScope':
    case 'InvalidResource':
      return 'BadParameter';
    case 'UnknownCaller':
    case 'AuthenticationRequired':
    case 'InvalidToken':
    case 'InvalidClient':
    case 'InvalidGrant':
    case 'UnauthorizedClient':
      return 'Unauthorized';
    case 'Forbidden':
      return 'Forbidden';
    case 'NotFound':
      return 'SecretNotFound';
    case 'Conflict':
      return 'Conflict';
    case 'PreconditionFailed':
      return 'PreconditionFailed';
    case 'TooManyRequests':
      return 'Throttled';
    case 'ServiceUnavailable':
      return 'ServiceUnavailable';
    case 'ConfigInvalid':
    case 'Internal':
      return 'InternalServerError';
    default:
      return unreachable(code);
  }
}

/**
 * Renders an error as the Key Vault data plane does (PROTOCOL.md section 7):
 * `{"error":{"code":"SecretNotFound","message":"...","innererror":{"code":"..."}}}` with an
 * `x-ms-error-code` header repeating the code. A missing token says Azure's
 * "AKV10000: Request is missing a Bearer or PoP token."; the `www-authenticate` challenge that
 * must accompany a 401 is the surface's to pass in `ctx.headers`. A `wire.keyvault` override
 * replaces the code. Anything that is not an exposed `AppError` says only
 * "An internal error occurred.".
 */
export function renderKeyVaultError(error: unknown, ctx?: KeyVaultErrorContext): RenderedError {
  const prepared = prepare(error);
  const { error: appError } = prepared;
  const code = appError.wire.keyvault ?? keyVaultCode(appError.code);
  const message =
    appError.code === 'AuthenticationRequired' ? KEY_VAULT_MISSING_TOKEN : publicMessage(prepared);
  const inner =
    ctx?.innerErrorCode ?? (appError.code === 'Forbidden' ? 'ForbiddenByRbac' : undefined);
  const body: KeyVaultErrorBody = {
    error: { code, message, ...(inner === undefined ? {} : { innererror: { code: inner } }) },
  };
  return finish(prepared, body, { 'x-ms-error-code': code }, ctx);
}
