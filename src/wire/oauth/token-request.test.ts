// Tests of token-request parsing: what MSAL sends is accepted, and each broken rule fails as Entra's.
import { describe, expect, it } from 'vitest';

import { AppError } from '../../core/errors.js';
import { renderOAuthError } from '../errors/oauth.js';
import {
  JWT_BEARER_ASSERTION_TYPE,
  parseTokenRequest,
  type TokenRequestInput,
} from './token-request.js';

const CLIENT = '22222222-2222-2222-2222-222222222222';
const ASSERTION = 'eyJhbGciOiJQUzI1NiJ9.e30.c2ln';

/** The body msal-node sends for acquireTokenByClientCredential with a certificate (CCFLOW). */
function v2Assertion(extra: TokenRequestInput['body'] = {}): TokenRequestInput {
  return {
    version: 'v2',
    body: {
      client_id: CLIENT,
      scope: 'https://management.azure.com//.default',
      grant_type: 'client_credentials',
      client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
      client_assertion: ASSERTION,
      ...extra,
    },
  };
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** Runs the parser and returns the AppError it throws. */
function failure(input: TokenRequestInput): AppError {
  try {
    parseTokenRequest(input);
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected parseTokenRequest to throw');
}

function expectFailure(
  input: TokenRequestInput,
  expected: { code: string; aadsts: number; error: string; status: number; message?: string },
): void {
  const error = failure(input);
  expect({
    code: error.code,
    aadsts: error.errorCodes[0],
    error: error.wire.oauth,
    status: error.status,
    ...(expected.message === undefined ? {} : { message: error.message }),
  }).toEqual(expected);
}

describe('parseTokenRequest: accepted requests', () => {
  it('parses a v2 certificate request and strips /.default from the scope', () => {
    expect(parseTokenRequest(v2Assertion())).toEqual({
      version: 'v2',
      grantType: 'client_credentials',
      clientId: CLIENT,
      resource: 'https://management.azure.com/',
      scope: 'https://management.azure.com//.default',
      auth: { kind: 'assertion', assertion: ASSERTION },
    });
  });

  it('keeps a v1 resource verbatim', () => {
    const request = parseTokenRequest({
      version: 'v1',
      body: {
        grant_type: 'client_credentials',
        client_id: CLIENT,
        client_secret: 's3cret',
        resource: 'https://vault.azure.net',
      },
    });
    expect(request).toEqual({
      version: 'v1',
      grantType: 'client_credentials',
      clientId: CLIENT,
      resource: 'https://vault.azure.net',
      auth: { kind: 'secret', secret: 's3cret', method: 'post' },
    });
  });

  it('takes client_id and secret from HTTP Basic, form-urldecoded (RFC 6749 2.3.1)', () => {
    const request = parseTokenRequest({
      version: 'v2',
      body: { grant_type: 'client_credentials', scope: 'api://x/.default' },
      authorization: basic(CLIENT, 'a%2Bb+c%3Ad'),
    });
    expect(request.clientId).toBe(CLIENT);
    expect(request.auth).toEqual({ kind: 'secret', secret: 'a+b c:d', method: 'basic' });
  });

  it('accepts the same client_id in the body and in Basic', () => {
    const request = parseTokenRequest({
      version: 'v2',
      body: { grant_type: 'client_credentials', scope: 'api://x/.default', client_id: CLIENT },
      authorization: basic(CLIENT, 'pw'),
    });
    expect(request.auth).toMatchObject({ method: 'basic' });
  });

  it('reads one-element arrays as values and ignores other Authorization schemes', () => {
    const request = parseTokenRequest({
      ...v2Assertion({ grant_type: ['client_credentials'] }),
      authorization: 'Bearer abc',
    });
    expect(request.grantType).toBe('client_credentials');
  });
});

describe('parseTokenRequest: refused requests', () => {
  it('requires grant_type with AADSTS900144', () => {
    expectFailure(v2Assertion({ grant_type: undefined }), {
      code: 'MissingParameter',
      aadsts: 900144,
      error: 'invalid_request',
      status: 400,
      message: "The request body must contain the following parameter: 'grant_type'.",
    });
  });

  it('refuses other grant types with AADSTS70003 unsupported_grant_type', () => {
    expectFailure(v2Assertion({ grant_type: 'authorization_code' }), {
      code: 'UnsupportedGrantType',
      aadsts: 70003,
      error: 'unsupported_grant_type',
      status: 400,
      message: "The app requested an unsupported grant type 'authorization_code'.",
    });
  });

  it('refuses a repeated parameter with AADSTS9000411', () => {
    expectFailure(v2Assertion({ scope: ['api://a/.default', 'api://b/.default'] }), {
      code: 'InvalidRequest',
      aadsts: 9000411,
      error: 'invalid_request',
      status: 400,
      message: "The request is not properly formatted. The parameter 'scope' is duplicated.",
    });
  });

  it('requires client_id when Basic does not give it', () => {
    expect(failure(v2Assertion({ client_id: '' })).message).toBe(
      "The request body must contain the following parameter: 'client_id'.",
    );
  });

  it('refuses a client_id that differs from the Basic one', () => {
    const error = failure({
      version: 'v2',
      body: { grant_type: 'client_credentials', scope: 'api://x/.default', client_id: 'other' },
      authorization: basic(CLIENT, 'pw'),
    });
    expect([error.code, error.wire.oauth, error.target]).toEqual([
      'InvalidRequest',
      'invalid_request',
      'client_id',
    ]);
  });

  it('refuses more than one client authentication method (RFC 6749 2.3)', () => {
    for (const input of [
      v2Assertion({ client_secret: 'pw' }),
      { ...v2Assertion(), authorization: basic(CLIENT, 'pw') },
      {
        version: 'v2' as const,
        body: { grant_type: 'client_credentials', scope: 'a/.default', client_secret: 'pw' },
        authorization: basic(CLIENT, 'pw'),
      },
    ]) {
      expect([failure(input).code, failure(input).wire.oauth]).toEqual([
        'InvalidRequest',
        'invalid_request',
      ]);
    }
  });

  it('refuses a request without credentials with 401 AADSTS7000216', () => {
    expectFailure(v2Assertion({ client_assertion: undefined, client_assertion_type: undefined }), {
      code: 'InvalidClient',
      aadsts: 7000216,
      error: 'invalid_client',
      status: 401,
    });
  });

  it('requires the jwt-bearer client_assertion_type with an assertion', () => {
    expect(failure(v2Assertion({ client_assertion_type: undefined })).target).toBe(
      'client_assertion_type',
    );
    expectFailure(v2Assertion({ client_assertion_type: 'urn:x:saml' }), {
      code: 'InvalidRequest',
      aadsts: 90011,
      error: 'invalid_request',
      status: 400,
      message: 'Unexpected client assertion type.',
    });
    expect(failure(v2Assertion({ client_assertion: undefined })).target).toBe('client_assertion');
  });

  it('refuses a malformed Basic header with 401 invalid_client', () => {
    for (const authorization of [
      'Basic',
      'Basic !!!',
      `Basic ${Buffer.from('no-colon').toString('base64')}`,
      basic(CLIENT, ''),
      basic('', 'pw'),
      basic(CLIENT, '%zz'),
      `Basic ${Buffer.from([0x61, 0x3a, 0xff]).toString('base64')}`,
    ]) {
      const error = failure({
        version: 'v2',
        body: { grant_type: 'client_credentials', scope: 'api://x/.default' },
        authorization,
      });
      expect([authorization, error.code, error.status]).toEqual([
        authorization,
        'InvalidClient',
        401,
      ]);
    }
  });

  it('requires resource on v1 with AADSTS500013', () => {
    expectFailure(
      {
        version: 'v1',
        body: { grant_type: 'client_credentials', client_id: CLIENT, client_secret: 'pw' },
      },
      {
        code: 'InvalidResource',
        aadsts: 500013,
        error: 'invalid_resource',
        status: 400,
        message: 'Resource identifier is not provided.',
      },
    );
  });

  it('requires scope on v2', () => {
    expect(failure(v2Assertion({ scope: undefined })).message).toBe(
      "The request body must contain the following parameter: 'scope'.",
    );
  });

  it('refuses a scope without /.default with AADSTS1002012', () => {
    expectFailure(v2Assertion({ scope: 'https://graph.microsoft.com/User.Read' }), {
      code: 'InvalidScope',
      aadsts: 1002012,
      error: 'invalid_scope',
      status: 400,
      message:
        'The provided value for scope https://graph.microsoft.com/User.Read is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).',
    });
  });

  it('refuses several scopes with AADSTS70011', () => {
    expectFailure(
      v2Assertion({
        scope: 'https://graph.microsoft.com/.default https://x.sharepoint.com/.default',
      }),
      {
        code: 'InvalidScope',
        aadsts: 70011,
        error: 'invalid_scope',
        status: 400,
        message:
          "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope https://graph.microsoft.com/.default https://x.sharepoint.com/.default is not valid.",
      },
    );
    expect(failure(v2Assertion({ scope: '/.default' })).errorCodes).toEqual([70011]);
  });

  it('refuses control characters and over-long resources with invalid_request AADSTS90100', () => {
    const rendered = (input: TokenRequestInput) => {
      const body = JSON.parse(
        renderOAuthError(failure(input), { traceId: 't', correlationId: 'c', now: 0 }).body,
      ) as { error: string; error_codes: number[]; error_description: string };
      return { error: body.error, codes: body.error_codes, text: body.error_description };
    };
    const v1 = (resource: string): TokenRequestInput => ({
      version: 'v1',
      body: { grant_type: 'client_credentials', client_id: CLIENT, client_secret: 'pw', resource },
    });
    for (const bad of ['\r\n', '\n', '\0', '\t', '\x7f', '\x85']) {
      expect(rendered(v1(`https://management.azure.com/${bad}X-Injected: 1`))).toMatchObject({
        error: 'invalid_request',
        codes: [90100],
        text: expect.stringMatching(
          /^AADSTS90100: The provided value for the input parameter 'resource' is not valid\. It must not contain control characters\.\r\n/,
        ) as string,
      });
      expect(rendered(v2Assertion({ scope: `https://x${bad}y/.default` }))).toMatchObject({
        error: 'invalid_request',
        codes: [90100],
      });
    }
    // RFC 6749 section 3.3 separates scopes with spaces only.
    expect(rendered(v2Assertion({ scope: 'https://x/.default\n' })).codes).toEqual([90100]);
    expect(parseTokenRequest(v1(`https://x/${'r'.repeat(2038)}`)).resource).toHaveLength(2048);
    expect(rendered(v1(`https://x/${'r'.repeat(2039)}`))).toMatchObject({
      error: 'invalid_request',
      codes: [90100],
    });
    expect(
      rendered(v2Assertion({ scope: `https://x/${'r'.repeat(2039)}/.default` })).codes,
    ).toEqual([90100]);
  });

  it('never puts a secret or an assertion in an error message', () => {
    const errors = [
      failure(v2Assertion({ client_secret: 'TOP-SECRET' })),
      failure(v2Assertion({ scope: 'x' })),
      failure({ ...v2Assertion({ grant_type: 'password' }), authorization: basic(CLIENT, 'TOP') }),
    ];
    for (const error of errors) {
      expect(error.message).not.toContain('TOP');
      expect(error.message).not.toContain(ASSERTION);
    }
  });
});
