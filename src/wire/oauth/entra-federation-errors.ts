// Entra's token-endpoint errors for workload identity federation: a foreign token that no federated identity credential trusts, or that fails its checks.
import { timeRange } from './entra-texts.js';

/** Where Entra's no-match errors of 2022-2024 point. */
const FEDERATION_DOC_2023 =
  'https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation';
/** Where they point since 2025. */
const FEDERATION_DOC = 'https://learn.microsoft.com/entra/workload-id/workload-identity-federation';
/** Where Entra's AADSTS700024 for a federated token points (2024 capture). */
const FEDERATED_TIME_DOC =
  'https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials';
const CHECK_FIELDS =
  'Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.';
const NO_MATCH = 'No matching federated identity record found for presented assertion';

/**
 * The rows of `ENTRA_ERRORS` for federated tokens (PROTOCOL-TOOLS.md B.2.5, where each text's
 * capture is cited). The no-match family names the first field no credential matched, in the
 * order issuer, audience, subject; 70021 is kept for an identity with no credential at all.
 */
export const FEDERATION_ERRORS = {
  // Azure/azure-workload-identity#616 text; 401 invalid_client as in external-secrets#2783 (2023)
  federated_no_credential: {
    code: 'InvalidClient',
    status: 401,
    aadsts: 70021,
    error: 'invalid_client',
    message: (issuer: string, subject: string, audience: string) =>
      `${NO_MATCH}. Assertion Issuer: '${issuer}'. Assertion Subject: '${subject}'. Assertion Audience: '${audience}'. ${FEDERATION_DOC_2023}`,
  },
  // Azure/azure-workload-identity#1200 (2024-03), Azure/login#360
  federated_issuer: {
    code: 'InvalidClient',
    status: 401,
    aadsts: 700211,
    error: 'invalid_client',
    message: (issuer: string) =>
      `${NO_MATCH} issuer '${issuer}'. ${CHECK_FIELDS} ${FEDERATION_DOC_2023}`,
  },
  // A public Java test fixture and runbooks (PROTOCOL-TOOLS.md B.2.5)
  federated_audience: {
    code: 'InvalidClient',
    status: 401,
    aadsts: 700212,
    error: 'invalid_client',
    message: (audience: string) =>
      `${NO_MATCH} audience '${audience}'. ${CHECK_FIELDS} ${FEDERATION_DOC_2023}`,
  },
  // Azure/azure-workload-identity#1200 (2025-04 text), dotnet/maui#31978
  federated_subject: {
    code: 'InvalidClient',
    status: 401,
    aadsts: 700213,
    error: 'invalid_client',
    message: (subject: string) =>
      `${NO_MATCH} subject '${subject}'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. ${FEDERATION_DOC}`,
  },
  // Azure/login#515, #497, #573 (`error` not shown: invalid_client as its family)
  federated_subject_case: {
    code: 'InvalidClient',
    status: 401,
    aadsts: 7002138,
    error: 'invalid_client',
    message: (subject: string) =>
      `${NO_MATCH} subject '${subject}'. The subject matches with case-insensitive comparison, but not with case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. See documentation at: ${FEDERATION_DOC}. See breaking change notification and remediation at: https://learn.microsoft.com/en-us/entra/identity-platform/reference-breaking-changes#august-2024.`,
  },
  // MicrosoftDocs/azure-docs PR #90321 (the note behind code 700222); status and `error` assumed
  federated_entra_issuer: {
    code: 'InvalidClient',
    status: 401,
    aadsts: 700222,
    error: 'invalid_client',
    message: () => 'AAD-issued tokens may not be used for federated identity flows.',
  },
  // Azure/azure-cli#28708 (2024 text, a federated Azure DevOps token)
  federated_time_range: {
    code: 'InvalidClient',
    status: 401,
    aadsts: 700024,
    error: 'invalid_client',
    message: (now: number, notBefore: number | undefined, expiresAt: number | undefined) =>
      timeRange(now, notBefore, expiresAt, FEDERATED_TIME_DOC),
  },
  // MicrosoftDocs/azure-docs#86916, Azure/azure-sdk-for-python#32124 (2023: invalid_client)
  federated_lifetime: {
    code: 'InvalidClient',
    status: 401,
    aadsts: 70023,
    error: 'invalid_client',
    message: (issuedAt: number, expiresAt: number) =>
      `External OIDC Provider token must have a lifetime of less than or equal to 1.01:00:00. Token issued at ${issuedAt}. Token expires on ${expiresAt}.`,
  },
  // Azure/azure-workload-identity troubleshooting ("AADSTS90061"), Azure/AKS#4029 (400)
  federated_issuer_unreachable: {
    code: 'InvalidRequest',
    status: 400,
    aadsts: 90061,
    error: 'invalid_request',
    message: () => 'Request to External OIDC endpoint failed.',
  },
  // UNCONFIRMED: no capture of Entra refusing a federated token's signature was found; Entra's
  // error reference lists "External ID token from issuer failed signature verification." under
  // AADSTS50027 (InvalidJwtToken).
  federated_signature: {
    code: 'InvalidClient',
    status: 401,
    aadsts: 50027,
    error: 'invalid_client',
    message: (issuer: string) =>
      `Invalid JWT token. External ID token from issuer '${issuer}' failed signature verification.`,
  },
} as const;
