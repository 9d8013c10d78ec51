// Key Vault's own errors for the secrets data plane: codes, messages and inner codes as Azure sends them.
import { AppError, type ErrorCode } from '../../core/errors.js';
import { type SecretProblem, SecretProblemError } from '../../core/keyvault/secret-errors.js';

/** Inner error codes (`innererror.code`) carried by errors made here. */
const innerCodes = new WeakMap<AppError, string>();

/** The `innererror.code` an error made here carries, if any. */
export function keyVaultInnerCode(error: unknown): string | undefined {
  return error instanceof AppError ? innerCodes.get(error) : undefined;
}

function keyVaultError(
  code: ErrorCode,
  status: number,
  wireCode: string,
  message: string,
  inner?: string,
): AppError {
  const error = new AppError(code, message, { status, wire: { keyvault: wireCode } });
  if (inner !== undefined) innerCodes.set(error, inner);
  return error;
}

const NOT_FOUND_HINT =
  'If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182';

/** 404 `SecretNotFound` for `name` (or `name/version`). */
export function secretNotFound(nameOrId: string): AppError {
  return keyVaultError(
    'NotFound',
    404,
    'SecretNotFound',
    `A secret with (name/id) ${nameOrId} was not found in this key vault. ${NOT_FOUND_HINT}`,
  );
}

/** 404 for a deleted-secret operation on a name that is not deleted. */
export function deletedSecretNotFound(name: string): AppError {
  return keyVaultError('NotFound', 404, 'SecretNotFound', `Deleted Secret not found: ${name}`);
}

/** 409: the name is held by a deleted secret that can still be recovered. */
export function secretDeletedButRecoverable(name: string): AppError {
  return keyVaultError(
    'Conflict',
    409,
    'Conflict',
    `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
    'ObjectIsDeletedButRecoverable',
  );
}

/**
 * 403: the value of a disabled secret cannot be read (Azure's recorded answer). Key Vault serves
 * not-yet-valid and expired secrets: `nbf`/`exp` are informational for secrets.
 */
export function secretDisabled(): AppError {
  return keyVaultError(
    'Forbidden',
    403,
    'Forbidden',
    'Operation get is not allowed on a disabled secret.',
    'SecretDisabled',
  );
}

/** 400: a value longer than Key Vault's 25,600 characters. */
export function secretTooLarge(maxCharacters: number): AppError {
  return keyVaultError(
    'InvalidParameter',
    400,
    'BadParameter',
    `Secret is beyond the maximum permitted length of ${maxCharacters} characters.`,
    'SecretTooLarge',
  );
}

/** 401 `Unauthorized` with Key Vault's text (`AKV10022` audience, `AKV10032` issuer, expiry). */
export function keyVaultUnauthorized(message: string): AppError {
  return keyVaultError('InvalidToken', 401, 'Unauthorized', message);
}

/** 400 `BadParameter` with Key Vault's text. */
export function badParameter(message: string): AppError {
  return keyVaultError('InvalidParameter', 400, 'BadParameter', message);
}

/** The Key Vault error for a problem of the secret service: Key Vault's code, text and inner code. */
export function keyVaultProblem(problem: SecretProblem): AppError {
  switch (problem.reason) {
    case 'secret_not_found':
      return secretNotFound(problem.nameOrId);
    case 'deleted_secret_not_found':
      return deletedSecretNotFound(problem.name);
    case 'secret_deleted_but_recoverable':
      return secretDeletedButRecoverable(problem.name);
    case 'secret_disabled':
      return secretDisabled();
  }
}

/**
 * `error` as Key Vault sends it: a {@link SecretProblemError} becomes its Key Vault error
 * ({@link keyVaultProblem}); anything else is returned unchanged.
 */
export function asKeyVaultError(error: unknown): unknown {
  return error instanceof SecretProblemError ? keyVaultProblem(error.problem) : error;
}
