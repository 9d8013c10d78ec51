// Tests of the Entra error table: every row renders as Entra's token endpoint would send it.
import { describe, expect, it } from 'vitest';

import { AppError } from '../../core/errors.js';
import { renderOAuthError, type OAuthErrorContext } from '../errors/oauth.js';
import { ENTRA_ERRORS, entraError, type EntraReason } from './entra-errors.js';

const ctx: OAuthErrorContext = {
  traceId: '00000000-0000-0000-0000-00000000000a',
  correlationId: '00000000-0000-0000-0000-00000000000b',
  now: Date.UTC(2024, 3, 25, 11, 14, 3),
};

function render(error: AppError): Record<string, unknown> {
  const rendered = renderOAuthError(error, ctx);
  return { status: rendered.status, ...(JSON.parse(rendered.body) as Record<string, unknown>) };
}

describe('ENTRA_ERRORS', () => {
  it('gives every reason a 401 exactly when its error is invalid_client', () => {
    for (const [reason, spec] of Object.entries(ENTRA_ERRORS)) {
      expect([reason, spec.status]).toEqual([reason, spec.error === 'invalid_client' ? 401 : 400]);
    }
  });

  it('renders every reason with its own AADSTS number and error value', () => {
    const timed = new Set<EntraReason>([
      'assertion_expired',
      'assertion_not_yet_valid',
      'federated_time_range',
      'federated_lifetime',
    ]);
    const build = entraError as (reason: EntraReason, ...args: unknown[]) => AppError;
    for (const reason of Object.keys(ENTRA_ERRORS) as EntraReason[]) {
      // Every other reason's first argument is a string; the time-range ones take numbers.
      const error = timed.has(reason) ? build(reason, 0, 0, 0) : build(reason, 'x');
      const body = render(error);
      const spec = ENTRA_ERRORS[reason];
      expect(body.error).toBe(spec.error);
      expect(body.error_codes).toEqual([spec.aadsts]);
      expect(body.status).toBe(spec.status);
      expect(String(body.error_description)).toMatch(new RegExp(`^AADSTS${spec.aadsts}: `));
    }
  });
});

describe('federated token errors', () => {
  it("words AADSTS70023 and AADSTS700024 with Entra's times", () => {
    const lifetime = render(entraError('federated_lifetime', 1643126692, 1643220292));
    expect(lifetime.error_description).toMatch(
      /^AADSTS70023: External OIDC Provider token must have a lifetime of less than or equal to 1\.01:00:00\. Token issued at 1643126692\. Token expires on 1643220292\./,
    );
    const range = render(
      entraError(
        'federated_time_range',
        Date.UTC(2024, 3, 5, 23, 1, 54, 208),
        undefined,
        1_712_358_000_000,
      ),
    );
    expect(range.error_description).toMatch(
      /^AADSTS700024: Client assertion is not within its valid time range\. Current time: 2024-04-05T23:01:54\.2080000Z, assertion valid from 1970-01-01T00:00:00\.0000000Z, expiry time of assertion 2024-04-05T23:00:00\.0000000Z\. Review the documentation at https:\/\/docs\.microsoft\.com\/azure\/active-directory\/develop\/active-directory-certificate-credentials \./,
    );
  });

  it('names the presented values in the no-match family', () => {
    const none = render(entraError('federated_no_credential', 'https://i/', 'sub-1', 'api://A'));
    expect([none.status, none.error, none.error_codes]).toEqual([401, 'invalid_client', [70021]]);
    expect(none.error_description).toMatch(
      /^AADSTS70021: No matching federated identity record found for presented assertion\. Assertion Issuer: 'https:\/\/i\/'\. Assertion Subject: 'sub-1'\. Assertion Audience: 'api:\/\/A'\./,
    );
    const subject = render(entraError('federated_subject_case', 'Repo:X'));
    expect(subject.error_description).toMatch(
      /^AADSTS7002138: No matching federated identity record found for presented assertion subject 'Repo:X'\. The subject matches with case-insensitive comparison, but not with case-sensitive comparison\./,
    );
  });
});

describe('entraError', () => {
  it("renders a missing parameter as Entra's AADSTS900144", () => {
    const body = render(entraError('missing_parameter', 'grant_type'));
    expect(body).toMatchObject({
      status: 400,
      error: 'invalid_request',
      error_codes: [900144],
      error_uri: 'https://login.microsoftonline.com/error?code=900144',
    });
    expect(body.error_description).toBe(
      "AADSTS900144: The request body must contain the following parameter: 'grant_type'.\r\n" +
        `Trace ID: ${ctx.traceId}\r\nCorrelation ID: ${ctx.correlationId}\r\n` +
        'Timestamp: 2024-04-25 11:14:03Z',
    );
  });

  it('keeps the parameter at fault as the target and the AppError code', () => {
    const error = entraError('duplicated_parameter', 'scope');
    expect(error).toBeInstanceOf(AppError);
    expect(error.code).toBe('InvalidRequest');
    expect(error.target).toBe('scope');
    expect(error.message).toBe(
      "The request is not properly formatted. The parameter 'scope' is duplicated.",
    );
  });

  it('answers an invalid client secret with 401 invalid_client AADSTS7000215', () => {
    const body = render(entraError('secret_invalid', 'b84e06d3-aba1-4bcc-9626-2e0d76cba2ce'));
    expect(body).toMatchObject({ status: 401, error: 'invalid_client', error_codes: [7000215] });
    expect(String(body.error_description)).toContain(
      "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app 'b84e06d3-aba1-4bcc-9626-2e0d76cba2ce'.",
    );
  });

  it('writes times as .NET round-trip strings in AADSTS700024', () => {
    const error = entraError(
      'assertion_expired',
      Date.UTC(2023, 11, 11, 23, 52, 19, 622),
      Date.UTC(2018, 0, 18, 1, 30, 22),
      undefined,
    );
    expect(error.message).toBe(
      'Client assertion is not within its valid time range. Current time: 2023-12-11T23:52:19.6220000Z, assertion valid from 2018-01-18T01:30:22.0000000Z, expiry time of assertion 1970-01-01T00:00:00.0000000Z. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .',
    );
  });

  it("writes a key's validity as Entra does in AADSTS700027", () => {
    const error = entraError(
      'certificate_expired',
      'FEE7837AEDA22B9C13EF27ED6A4A5143F6B8F8E8',
      Date.UTC(2018, 0, 28, 16),
      Date.UTC(2019, 0, 28, 16),
    );
    expect(error.message).toBe(
      "Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: 'FEE7837AEDA22B9C13EF27ED6A4A5143F6B8F8E8', Found key 'Start=01/28/2018 16:00:00, End=01/28/2019 16:00:00']",
    );
    expect(entraError('certificate_expired', 'AB').message).toBe(
      "Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: 'AB']",
    );
  });

  it('lists the supported algorithms when given, without a full stop as Entra does', () => {
    expect(entraError('assertion_alg_not_allowed', 'HS256', ['RS256', 'PS256']).message).toBe(
      "Invalid JWT token. 'HS256' is not a supported signature algorithm. Supported signing algorithms are: 'RS256,PS256'",
    );
  });

  it('sends invalid_tenant for an unknown tenant', () => {
    const body = render(entraError('tenant_not_found', 'secrets'));
    expect(body).toMatchObject({ status: 400, error: 'invalid_tenant', error_codes: [90002] });
    expect(String(body.error_description)).toContain("AADSTS90002: Tenant 'secrets' not found.");
  });
});
