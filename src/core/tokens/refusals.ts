// Why the token service refuses a client: a closed set of reasons, each with the facts it names, raised as neutral AppErrors.
import { AppError, type ErrorCode } from '../errors.js';

/** The facts of a refusal that names nothing but its reason: none (`{}` is passed). */
type NoFacts = object;

/**
 * The facts each refusal names, by reason: what a surface needs to word it in its own dialect
 * (the login surface renders Entra's AADSTS text from them). Names and tenants are as the
 * caller sent them; times are epoch ms.
 */
export interface TokenRefusalFacts {
  readonly tenant_not_found: { readonly tenant: string };
  readonly principal_not_found: { readonly clientId: string; readonly tenant: string };
  readonly principal_disabled: { readonly clientId: string; readonly displayName: string };
  readonly assertion_malformed: NoFacts;
  readonly assertion_alg_not_allowed: { readonly alg: string };
  readonly unknown_certificate: { readonly thumbprint: string; readonly clientId: string };
  readonly certificate_revoked: { readonly thumbprint: string };
  readonly certificate_expired: {
    readonly thumbprint: string;
    readonly notBefore: number;
    readonly notAfter: number;
  };
  readonly assertion_expired: NoFacts;
  readonly assertion_not_yet_valid: NoFacts;
  readonly invalid_assertion_signature: { readonly thumbprint: string };
  readonly assertion_audience: NoFacts;
  readonly assertion_subject_not_issuer: NoFacts;
  readonly assertion_issuer_subject: NoFacts;
  readonly assertion_lifetime_too_long: { readonly maxSeconds: number };
  readonly assertion_replayed: NoFacts;
  readonly secret_not_allowed_for_managed_identity: { readonly clientId: string };
  readonly secret_invalid: { readonly clientId: string };
  readonly secret_expired: { readonly clientId: string };
  readonly federated_no_credential: FederatedFacts;
  readonly federated_issuer: { readonly issuer: string };
  readonly federated_audience: { readonly audience: string };
  readonly federated_subject: { readonly subject: string };
  readonly federated_subject_case: { readonly subject: string };
  readonly federated_entra_issuer: { readonly issuer: string };
  readonly federated_time_range: {
    readonly now: number;
    readonly notBefore: number | undefined;
    readonly expiresAt: number | undefined;
  };
  readonly federated_lifetime: { readonly issuedAt: number; readonly expiresAt: number };
  readonly federated_issuer_unreachable: { readonly issuer: string };
  readonly federated_signature: { readonly issuer: string };
}

/** What a foreign (federated) assertion presented: its `iss`, `sub` and `aud` as sent. */
export interface FederatedFacts {
  readonly issuer: string;
  readonly subject: string;
  /** The `aud` claim, its members joined with `,` when it is an array. */
  readonly audience: string;
}

/** A reason the token service refuses a client for. */
export type TokenRefusalReason = keyof TokenRefusalFacts;

/** One refusal: its reason and the facts that reason names. */
export type TokenRefusal = {
  readonly [R in TokenRefusalReason]: { readonly reason: R } & TokenRefusalFacts[R];
}[TokenRefusalReason];

interface RefusalSpec<R extends TokenRefusalReason> {
  readonly code: ErrorCode;
  /** 401 when the client's credentials are at fault, 400 otherwise (RFC 6749 section 5.2). */
  readonly status: 400 | 401;
  /** Tessera's own words; a surface replaces them with its dialect's. */
  readonly message: (facts: TokenRefusalFacts[R]) => string;
}

const REFUSALS: { readonly [R in TokenRefusalReason]: RefusalSpec<R> } = {
  tenant_not_found: {
    code: 'NotFound',
    status: 400,
    message: ({ tenant }) => `Tenant '${tenant}' was not found.`,
  },
  principal_not_found: {
    code: 'UnauthorizedClient',
    status: 400,
    message: ({ clientId, tenant }) =>
      `Application '${clientId}' was not found in tenant '${tenant}'.`,
  },
  principal_disabled: {
    code: 'UnauthorizedClient',
    status: 400,
    message: ({ clientId, displayName }) =>
      `Application '${clientId}' (${displayName}) is disabled.`,
  },
  assertion_malformed: {
    code: 'InvalidRequest',
    status: 400,
    message: () => 'The client assertion is not a well-formed JWT.',
  },
  assertion_alg_not_allowed: {
    code: 'InvalidClient',
    status: 401,
    message: ({ alg }) => `The client assertion's algorithm '${alg}' is not allowed.`,
  },
  unknown_certificate: {
    code: 'InvalidClient',
    status: 401,
    message: ({ thumbprint, clientId }) =>
      `Application '${clientId}' has no certificate with thumbprint '${thumbprint}'.`,
  },
  certificate_revoked: {
    code: 'InvalidClient',
    status: 401,
    message: ({ thumbprint }) => `The certificate with thumbprint '${thumbprint}' is revoked.`,
  },
  certificate_expired: {
    code: 'InvalidClient',
    status: 401,
    message: ({ thumbprint }) =>
      `The certificate with thumbprint '${thumbprint}' is outside its validity period.`,
  },
  assertion_expired: {
    code: 'InvalidClient',
    status: 401,
    message: () => 'The client assertion has expired.',
  },
  assertion_not_yet_valid: {
    code: 'InvalidClient',
    status: 401,
    message: () => 'The client assertion is not valid yet.',
  },
  invalid_assertion_signature: {
    code: 'InvalidClient',
    status: 401,
    message: ({ thumbprint }) =>
      `The client assertion's signature does not verify with certificate '${thumbprint}'.`,
  },
  assertion_audience: {
    code: 'InvalidClient',
    status: 401,
    message: () => "The client assertion's audience is not this token endpoint.",
  },
  assertion_subject_not_issuer: {
    code: 'InvalidClient',
    status: 401,
    message: () => "The client assertion's subject is not its issuer.",
  },
  assertion_issuer_subject: {
    code: 'InvalidClient',
    status: 401,
    message: () => "The client assertion's issuer is not the client.",
  },
  assertion_lifetime_too_long: {
    code: 'InvalidClient',
    status: 401,
    message: ({ maxSeconds }) =>
      `The client assertion lives longer than the allowed ${maxSeconds} seconds.`,
  },
  assertion_replayed: {
    code: 'InvalidClient',
    status: 401,
    message: () => 'The client assertion has already been used.',
  },
  secret_not_allowed_for_managed_identity: {
    code: 'InvalidClient',
    status: 401,
    message: ({ clientId }) => `Managed identity '${clientId}' has no client secrets.`,
  },
  secret_invalid: {
    code: 'InvalidClient',
    status: 401,
    message: ({ clientId }) => `The client secret is not valid for application '${clientId}'.`,
  },
  secret_expired: {
    code: 'InvalidClient',
    status: 401,
    message: ({ clientId }) => `The client secrets of application '${clientId}' have expired.`,
  },
  federated_no_credential: {
    code: 'InvalidClient',
    status: 401,
    message: ({ issuer, subject, audience }) =>
      `No federated identity credential of the client trusts issuer '${issuer}', subject '${subject}' and audience '${audience}'.`,
  },
  federated_issuer: {
    code: 'InvalidClient',
    status: 401,
    message: ({ issuer }) =>
      `No federated identity credential of the client trusts issuer '${issuer}'.`,
  },
  federated_audience: {
    code: 'InvalidClient',
    status: 401,
    message: ({ audience }) =>
      `No federated identity credential of the client accepts audience '${audience}'.`,
  },
  federated_subject: {
    code: 'InvalidClient',
    status: 401,
    message: ({ subject }) =>
      `No federated identity credential of the client trusts subject '${subject}'.`,
  },
  federated_subject_case: {
    code: 'InvalidClient',
    status: 401,
    message: ({ subject }) =>
      `No federated identity credential of the client trusts subject '${subject}'; one differs only in case.`,
  },
  federated_entra_issuer: {
    code: 'InvalidClient',
    status: 401,
    message: ({ issuer }) => `Tokens of the Entra issuer '${issuer}' cannot be federated.`,
  },
  federated_time_range: {
    code: 'InvalidClient',
    status: 401,
    message: () => 'The federated token is expired or not valid yet.',
  },
  federated_lifetime: {
    code: 'InvalidClient',
    status: 401,
    message: () => 'The federated token lives longer than 25 hours.',
  },
  federated_issuer_unreachable: {
    code: 'InvalidRequest',
    status: 400,
    message: ({ issuer }) => `The signing keys of issuer '${issuer}' could not be fetched.`,
  },
  federated_signature: {
    code: 'InvalidClient',
    status: 401,
    message: ({ issuer }) =>
      `The federated token's signature does not verify with the keys of issuer '${issuer}'.`,
  },
};

/**
 * A client the token service refused: an {@link AppError} with a neutral code, status and
 * message, whose `refusal` says why with the facts a surface words its own dialect from.
 */
export class TokenRefusedError extends AppError {
  readonly refusal: TokenRefusal;

  constructor(refusal: TokenRefusal, code: ErrorCode, status: number, message: string) {
    super(code, message, { status });
    this.refusal = refusal;
  }
}

/** Builds the {@link TokenRefusedError} for `reason` with the facts it names. */
export function tokenRefused<R extends TokenRefusalReason>(
  reason: R,
  facts: TokenRefusalFacts[R],
): TokenRefusedError {
  const spec = REFUSALS[reason];
  // `{ reason, ...facts }` is the member of the union for R; TypeScript cannot see it generically.
  const refusal = { reason, ...facts } as TokenRefusal;
  return new TokenRefusedError(refusal, spec.code, spec.status, spec.message(facts));
}

/** What repeated refusals are counted under: a refusal's reason, or a throttle's. */
export type RefusalReason = TokenRefusalReason | 'secret_failures_throttled' | 'secret_checks_busy';

/**
 * A refusal on its way out of the token service: its reason, the error the caller gets, the
 * principal it concerns, and what its audit row adds to the error's words (`auditDetails`: for
 * the operator only, e.g. why an issuer's keys could not be fetched).
 */
export class Refusal extends Error {
  constructor(
    readonly reason: RefusalReason,
    readonly error: AppError,
    readonly principalId: string | null,
    readonly auditDetails: Readonly<Record<string, string>> = {},
  ) {
    super(error.message);
  }
}

/** Throws the {@link Refusal} for `reason` with the facts it names. */
export function refuse<R extends TokenRefusalReason>(
  reason: R,
  principalId: string | null,
  facts: TokenRefusalFacts[R],
  auditDetails?: Readonly<Record<string, string>>,
): never {
  throw new Refusal(reason, tokenRefused(reason, facts), principalId, auditDetails);
}
