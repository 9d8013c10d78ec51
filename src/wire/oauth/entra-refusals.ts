// The token service's refusals in Entra's words: each neutral reason as the AADSTS error Entra sends for it.
import type { AppError } from '../../core/errors.js';
import { type TokenRefusal, TokenRefusedError } from '../../core/tokens/refusals.js';
import { entraError } from './entra-errors.js';

/**
 * The Entra error (ENTRA_ERRORS row, message and AADSTS number) for a refusal of the token
 * service: the same reason, worded from the facts it names.
 */
export function entraRefusal(refusal: TokenRefusal): AppError {
  switch (refusal.reason) {
    case 'tenant_not_found':
      return entraError(refusal.reason, refusal.tenant);
    case 'principal_not_found':
      return entraError(refusal.reason, refusal.clientId, refusal.tenant);
    case 'principal_disabled':
      return entraError(refusal.reason, refusal.clientId, refusal.displayName);
    case 'assertion_alg_not_allowed':
      return entraError(refusal.reason, refusal.alg);
    case 'unknown_certificate':
      return entraError(refusal.reason, refusal.thumbprint, refusal.clientId);
    case 'certificate_revoked':
    case 'invalid_assertion_signature':
      return entraError(refusal.reason, refusal.thumbprint);
    case 'certificate_expired':
      return entraError(refusal.reason, refusal.thumbprint, refusal.notBefore, refusal.notAfter);
    case 'assertion_lifetime_too_long':
      return entraError(refusal.reason, refusal.maxSeconds);
    case 'secret_not_allowed_for_managed_identity':
    case 'secret_invalid':
    case 'secret_expired':
      return entraError(refusal.reason, refusal.clientId);
    case 'federated_no_credential':
      return entraError(refusal.reason, refusal.issuer, refusal.subject, refusal.audience);
    case 'federated_issuer':
    case 'federated_issuer_unreachable':
    case 'federated_signature':
      return entraError(refusal.reason, refusal.issuer);
    case 'federated_audience':
      return entraError(refusal.reason, refusal.audience);
    case 'federated_subject':
    case 'federated_subject_case':
      return entraError(refusal.reason, refusal.subject);
    case 'federated_time_range':
      return entraError(refusal.reason, refusal.now, refusal.notBefore, refusal.expiresAt);
    case 'federated_lifetime':
      return entraError(refusal.reason, refusal.issuedAt, refusal.expiresAt);
    case 'federated_entra_issuer':
    case 'assertion_malformed':
    case 'assertion_expired':
    case 'assertion_not_yet_valid':
    case 'assertion_audience':
    case 'assertion_subject_not_issuer':
    case 'assertion_issuer_subject':
    case 'assertion_replayed':
      return entraError(refusal.reason);
  }
}

/**
 * `error` as Entra's token endpoint sends it: a {@link TokenRefusedError} becomes its Entra error
 * ({@link entraRefusal}); anything else is returned unchanged.
 */
export function asEntraError(error: unknown): unknown {
  return error instanceof TokenRefusedError ? entraRefusal(error.refusal) : error;
}
