// Entra ID's token-endpoint errors by Tessera reason: AADSTS number, OAuth `error` and message text.
import { AppError } from '../../core/errors.js';
import { FEDERATION_ERRORS } from './entra-federation-errors.js';
import {
  CERTIFICATE_CREDENTIALS_DOC,
  type EntraErrorSpec,
  foundKey,
  timeRange,
} from './entra-texts.js';

export { CERTIFICATE_CREDENTIALS_DOC, type EntraErrorSpec } from './entra-texts.js';

const INVALID_SCOPE_PREFIX =
  "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid.";

/**
 * Every error the token endpoint raises on purpose, by reason. Texts are Entra's as captured in
 * public issues and Microsoft's own test fixtures (source above each row); where no capture was
 * found the row says so and the text is Tessera's, in Entra's style.
 *
 * Sources abbreviated below: [MSALNET] = AzureAD/microsoft-authentication-library-for-dotnet
 * `tests/Microsoft.Identity.Test.Common/Core/Mocks/MockHelpers.cs` (real responses recorded by
 * the MSAL team, 2023-12); [CODES] = MicrosoftDocs/entra-docs
 * `docs/identity-platform/reference-error-codes.md`.
 */
export const ENTRA_ERRORS = {
  // ---- request parsing --------------------------------------------------------------------------
  // https://github.com/MicrosoftDocs/azure-docs/issues/43780 (grant_type), [CODES] AADSTS900144
  missing_parameter: {
    code: 'MissingParameter',
    status: 400,
    aadsts: 900144,
    error: 'invalid_request',
    message: (name: string) => `The request body must contain the following parameter: '${name}'.`,
    target: (name: string) => name,
  },
  // https://github.com/MicrosoftDocs/azure-dev-docs/issues/934 (AADSTS9000411, 'scope' duplicated)
  duplicated_parameter: {
    code: 'InvalidRequest',
    status: 400,
    aadsts: 9000411,
    error: 'invalid_request',
    message: (name: string) =>
      `The request is not properly formatted. The parameter '${name}' is duplicated.`,
    target: (name: string) => name,
  },
  // https://github.com/AzureAD/microsoft-authentication-library-for-dotnet/pull/3023 (2021 text;
  // error value from https://github.com/AzureAD/azure-activedirectory-library-for-android/issues/132)
  unsupported_grant_type: {
    code: 'UnsupportedGrantType',
    status: 400,
    aadsts: 70003,
    error: 'unsupported_grant_type',
    message: (grantType: string) => `The app requested an unsupported grant type '${grantType}'.`,
    target: () => 'grant_type',
  },
  // https://github.com/AzureAD/azure-activedirectory-library-for-ruby/pull/53 (2016 capture)
  invalid_client_assertion_type: {
    code: 'InvalidRequest',
    status: 400,
    aadsts: 90011,
    error: 'invalid_request',
    message: () => 'Unexpected client assertion type.',
    target: () => 'client_assertion_type',
  },
  // https://github.com/MicrosoftDocs/azure-docs/issues/30777 (AADSTS7000216; `error` not shown:
  // invalid_client assumed, as for AADSTS7000218 in [MSALNET] CreateInvalidClientResponseMessage)
  no_client_credentials: {
    code: 'InvalidClient',
    status: 401,
    aadsts: 7000216,
    error: 'invalid_client',
    message: () =>
      "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
  },
  // UNCONFIRMED: no Entra capture found; RFC 6749 section 5.2 names invalid_request for this.
  multiple_client_authentication: {
    code: 'InvalidRequest',
    status: 400,
    aadsts: 90023,
    error: 'invalid_request',
    message: () =>
      'The request uses more than one client authentication method. Use exactly one of client_assertion, client_secret or HTTP Basic authentication.',
  },
  // UNCONFIRMED: no Entra capture found.
  client_id_mismatch: {
    code: 'InvalidRequest',
    status: 400,
    aadsts: 90023,
    error: 'invalid_request',
    message: () =>
      "The 'client_id' parameter does not match the client identifier in the Authorization header.",
    target: () => 'client_id',
  },
  // UNCONFIRMED: no Entra capture found; RFC 6749 section 5.2 names invalid_client (401).
  basic_auth_malformed: {
    code: 'InvalidClient',
    status: 401,
    aadsts: 70002,
    error: 'invalid_client',
    message: () =>
      "The Authorization header is not valid 'Basic' client authentication (RFC 6749 section 2.3.1).",
  },
  // https://github.com/MicrosoftDocs/powerapps-docs/issues/1161 (AADSTS500013, 2020); the `error`
  // value is from https://github.com/laardee/serverless-authentication/pull/7 (AADSTS50001, 2016)
  resource_missing: {
    code: 'InvalidResource',
    status: 400,
    aadsts: 500013,
    error: 'invalid_resource',
    message: () => 'Resource identifier is not provided.',
    target: () => 'resource',
  },
  // https://github.com/AzureAD/microsoft-authentication-library-for-js/issues/6069 (several
  // scopes with client credentials) and [MSALNET] GetMtlsInvalidScopeError70011
  invalid_scope: {
    code: 'InvalidScope',
    status: 400,
    aadsts: 70011,
    error: 'invalid_scope',
    message: (scope: string) => `${INVALID_SCOPE_PREFIX} The scope ${scope} is not valid.`,
    target: () => 'scope',
  },
  // [MSALNET] GetMtlsInvalidScopeError1002012
  scope_not_default: {
    code: 'InvalidScope',
    status: 400,
    aadsts: 1002012,
    error: 'invalid_scope',
    message: (scope: string) =>
      `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    target: () => 'scope',
  },

  // ---- directory lookups ------------------------------------------------------------------------
  // https://github.com/Azure/azure-cli/issues/22145
  tenant_not_found: {
    code: 'NotFound',
    status: 400,
    aadsts: 90002,
    error: 'invalid_tenant',
    message: (tenant: string) =>
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
  },
  // [MSALNET] WrongTenantError700016
  principal_not_found: {
    code: 'UnauthorizedClient',
    status: 400,
    aadsts: 700016,
    error: 'unauthorized_client',
    message: (appId: string, tenant: string) =>
      `Application with identifier '${appId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
  },
  // https://github.com/Worklytics/psoxy/pull/74 (with error unauthorized_client)
  principal_disabled: {
    code: 'UnauthorizedClient',
    status: 400,
    aadsts: 7000112,
    error: 'unauthorized_client',
    message: (appId: string, displayName?: string) =>
      `Application '${appId}'(${displayName ?? appId}) is disabled.`,
  },
  // [MSALNET] GetMtlsInvalidResourceError / GetMsiImdsErrorResponse
  resource_not_found: {
    code: 'InvalidResource',
    status: 400,
    aadsts: 500011,
    error: 'invalid_resource',
    message: (resource: string, tenant: string) =>
      `The resource principal named ${resource} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
  },

  // ---- client secrets ---------------------------------------------------------------------------
  // https://github.com/OfficeDev/microsoft-365-agents-toolkit/issues/8621 (2023 text, 401)
  secret_invalid: {
    code: 'InvalidClient',
    status: 401,
    aadsts: 7000215,
    error: 'invalid_client',
    message: (appId: string) =>
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${appId}'.`,
  },
  // https://github.com/dotnet/sign/issues/849 (2025 text)
  secret_expired: {
    code: 'InvalidClient',
    status: 401,
    aadsts: 7000222,
    error: 'invalid_client',
    message: (appId: string) =>
      `The provided client secret keys for app '${appId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
  },
  // No Entra text of its own: a managed identity has no secrets, so Entra can only say the secret
  // is invalid. Same number and text as secret_invalid on purpose.
  secret_not_allowed_for_managed_identity: {
    code: 'InvalidClient',
    status: 401,
    aadsts: 7000215,
    error: 'invalid_client',
    message: (appId: string) =>
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${appId}'.`,
  },

  // ---- client assertions (RFC 7523) -------------------------------------------------------------
  // [MSALNET] SendTenantIdInCredentialValueError50027
  assertion_malformed: {
    code: 'InvalidRequest',
    status: 400,
    aadsts: 50027,
    error: 'invalid_request',
    message: () => 'JWT token is invalid or malformed.',
    target: () => 'client_assertion',
  },
  // [MSALNET] BadCredNoIssError90014 / BadCredNoAudError90014
  assertion_missing_claim: {
    code: 'InvalidRequest',
    status: 400,
    aadsts: 90014,
    error: 'invalid_request',
    message: (claim: string) =>
      `The required field '${claim}' is missing from the credential. Ensure that you have all the necessary parameters for the login request.`,
    target: () => 'client_assertion',
  },
  // [MSALNET] BadCredMissingSha1Error5002723
  assertion_missing_key_id: {
    code: 'InvalidClient',
    status: 401,
    aadsts: 5002723,
    error: 'invalid_client',
    message: () =>
      'Invalid JWT token. No certificate SHA-1 thumbprint, certificate SHA-256 thumbprint, nor keyId specified in token header.',
  },
  // [MSALNET] BadCredBadAlgError5002738 (Entra ends this one without a full stop)
  assertion_alg_not_allowed: {
    code: 'InvalidClient',
    status: 401,
    aadsts: 5002738,
    error: 'invalid_client',
    message: (alg: string, supported?: readonly string[]) =>
      `Invalid JWT token. '${alg}' is not a supported signature algorithm.` +
      (supported === undefined
        ? ''
        : ` Supported signing algorithms are: '${supported.join(',')}'`),
  },
  // https://github.com/AzureAD/microsoft-authentication-library-for-js/issues/8339 (2026 text);
  // Entra then points at the Azure portal and Graph, which Tessera replaces with its own pointer.
  unknown_certificate: {
    code: 'InvalidClient',
    status: 401,
    aadsts: 700027,
    error: 'invalid_client',
    message: (thumbprint: string, appId: string) =>
      `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${thumbprint}', Please check the keys configured for app Id '${appId}'.]`,
  },
  // 700027 prefix: https://github.com/microsoft/azure-tools-for-java/issues/2785; the reason text:
  // https://github.com/Azure/azure-sdk-for-java/issues/25109 (the same check, AADSTS50013)
  invalid_assertion_signature: {
    code: 'InvalidClient',
    status: 401,
    aadsts: 700027,
    error: 'invalid_client',
    message: (thumbprint: string, notBefore?: number, notAfter?: number) =>
      `Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: '${thumbprint}'${foundKey(notBefore, notAfter)}]`,
  },
  // https://github.com/microsoft/azure-tools-for-java/issues/2785
  certificate_expired: {
    code: 'InvalidClient',
    status: 401,
    aadsts: 700027,
    error: 'invalid_client',
    message: (thumbprint: string, notBefore?: number, notAfter?: number) =>
      `Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: '${thumbprint}'${foundKey(notBefore, notAfter)}]`,
  },
  // UNCONFIRMED reason text ("The key was revoked."); prefix as certificate_expired.
  certificate_revoked: {
    code: 'InvalidClient',
    status: 401,
    aadsts: 700027,
    error: 'invalid_client',
    message: (thumbprint: string) =>
      `Client assertion contains an invalid signature. [Reason - The key was revoked., Thumbprint of key used by client: '${thumbprint}']`,
  },
  // https://github.com/AzureAD/microsoft-authentication-library-for-java/issues/984 (2025 text);
  // a missing nbf/exp reads 1970-01-01T00:00:00.0000000Z there ([MSALNET] BadTimeRangeError700024)
  assertion_expired: {
    code: 'InvalidClient',
    status: 401,
    aadsts: 700024,
    error: 'invalid_client',
    message: timeRange,
  },
  // Same check and text as assertion_expired.
  assertion_not_yet_valid: {
    code: 'InvalidClient',
    status: 401,
    aadsts: 700024,
    error: 'invalid_client',
    message: timeRange,
  },
  // https://github.com/AzureAD/microsoft-authentication-library-for-dotnet/issues/2746
  assertion_audience: {
    code: 'InvalidClient',
    status: 401,
    aadsts: 700023,
    error: 'invalid_client',
    message: () =>
      `Client assertion audience claim does not match Realm issuer. Review the documentation at ${CERTIFICATE_CREDENTIALS_DOC} .`,
  },
  // [MSALNET] IdentifierMismatchError700021 (iss and sub equal, but not the client_id)
  assertion_issuer_subject: {
    code: 'InvalidClient',
    status: 401,
    aadsts: 700021,
    error: 'invalid_client',
    message: () =>
      `Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at ${CERTIFICATE_CREDENTIALS_DOC} .`,
  },
  // https://github.com/AzureAD/microsoft-authentication-library-for-java/issues/430 (`error` not
  // shown: invalid_client assumed, like the other assertion checks)
  assertion_subject_not_issuer: {
    code: 'InvalidClient',
    status: 401,
    aadsts: 50048,
    error: 'invalid_client',
    message: () => 'Subject must match the issuer claim in the client assertion.',
  },
  // UNCONFIRMED: Entra is not known to refuse a replayed jti; AADSTS50013 is its InvalidAssertion.
  assertion_replayed: {
    code: 'InvalidClient',
    status: 401,
    aadsts: 50013,
    error: 'invalid_client',
    message: () =>
      `Client assertion has already been used. Each assertion must carry a new 'jti' (RFC 7523 section 3). Review the documentation at ${CERTIFICATE_CREDENTIALS_DOC} .`,
  },
  // UNCONFIRMED: Entra documents a 5-10 minute lifetime but is not known to enforce one.
  assertion_lifetime_too_long: {
    code: 'InvalidClient',
    status: 401,
    aadsts: 50013,
    error: 'invalid_client',
    message: (maxSeconds?: number) =>
      `Client assertion lifetime exceeds the allowed maximum${maxSeconds === undefined ? '' : ` of ${maxSeconds} seconds`} between 'nbf' (or 'iat') and 'exp'. Review the documentation at ${CERTIFICATE_CREDENTIALS_DOC} .`,
  },

  // ---- workload identity federation (entra-federation-errors.ts) -------------------------------
  ...FEDERATION_ERRORS,
} as const satisfies Record<string, EntraErrorSpec>;

/** A reason the token endpoint can fail for; a key of {@link ENTRA_ERRORS}. */
export type EntraReason = keyof typeof ENTRA_ERRORS;

/** The arguments a reason's message takes. */
export type EntraErrorArgs<R extends EntraReason> = Parameters<(typeof ENTRA_ERRORS)[R]['message']>;

/**
 * Builds the {@link AppError} for `reason`: Entra's message, its AADSTS number first in
 * `errorCodes`, its `error` value as the `oauth` wire override, and the parameter at fault as
 * `target`. Render it with `renderOAuthError` (src/wire/errors/oauth.ts).
 */
export function entraError<R extends EntraReason>(reason: R, ...args: EntraErrorArgs<R>): AppError {
  const spec: EntraErrorSpec = ENTRA_ERRORS[reason];
  const call = (fn: (...a: never[]) => string): string =>
    (fn as (...a: EntraErrorArgs<R>) => string)(...args);
  const target = spec.target === undefined ? undefined : call(spec.target);
  return new AppError(spec.code, call(spec.message), {
    status: spec.status,
    errorCodes: [spec.aadsts],
    wire: { oauth: spec.error },
    ...(target === undefined ? {} : { target }),
  });
}
