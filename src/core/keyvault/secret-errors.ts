// Why the secret service fails: a closed set of problems with the names they concern, raised as neutral AppErrors.
import { AppError, type ErrorCode } from '../errors.js';

/** A problem of the secret service, with what the surface needs to word it in its dialect. */
export type SecretProblem =
  /** No live secret (or version) by that name; `nameOrId` is `name` or `name/version`. */
  | { readonly reason: 'secret_not_found'; readonly nameOrId: string }
  /** A deleted-secret operation on a name that is not deleted. */
  | { readonly reason: 'deleted_secret_not_found'; readonly name: string }
  /** The name is held by a deleted secret that can still be recovered. */
  | { readonly reason: 'secret_deleted_but_recoverable'; readonly name: string }
  /** The secret is disabled: its value may not be read. */
  | { readonly reason: 'secret_disabled' };

/**
 * A secret operation that failed on purpose: an {@link AppError} with a neutral code, status and
 * message, whose `problem` says why; the Key Vault surface renders it in Key Vault's words.
 */
export class SecretProblemError extends AppError {
  readonly problem: SecretProblem;

  constructor(problem: SecretProblem, code: ErrorCode, status: number, message: string) {
    super(code, message, { status });
    this.problem = problem;
  }
}

/** 404: no live secret `nameOrId` (`name`, or `name/version`). */
export function secretNotFound(nameOrId: string): SecretProblemError {
  return new SecretProblemError(
    { reason: 'secret_not_found', nameOrId },
    'NotFound',
    404,
    `The secret '${nameOrId}' was not found.`,
  );
}

/** 404: `name` is not a deleted secret. */
export function deletedSecretNotFound(name: string): SecretProblemError {
  return new SecretProblemError(
    { reason: 'deleted_secret_not_found', name },
    'NotFound',
    404,
    `The secret '${name}' is not deleted.`,
  );
}

/** 409: `name` is held by a deleted secret that can still be recovered or purged. */
export function secretDeletedButRecoverable(name: string): SecretProblemError {
  return new SecretProblemError(
    { reason: 'secret_deleted_but_recoverable', name },
    'Conflict',
    409,
    `The secret '${name}' is deleted but recoverable: recover or purge it first.`,
  );
}

/** 403: the secret is disabled, so its value may not be read. */
export function secretDisabled(): SecretProblemError {
  return new SecretProblemError(
    { reason: 'secret_disabled' },
    'Forbidden',
    403,
    'The secret is disabled: its value cannot be read.',
  );
}
