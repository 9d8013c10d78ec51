// Golden tests of the four error dialects: every ErrorCode, overrides, and what must never leak.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { format, resolveConfig } from 'prettier';
import { describe, expect, it } from 'vitest';

import {
  AppError,
  ERROR_CODES,
  authenticationRequired,
  conflict,
  configInvalid,
  forbidden,
  forwardedRequestRefused,
  identityNotFound,
  internalError,
  invalidApiVersion,
  invalidParameter,
  invalidRequest,
  invalidToken,
  metadataHeaderMissing,
  methodNotAllowed,
  missingApiVersion,
  missingParameter,
  multipleUserAssignedIdentities,
  notFound,
  serviceUnavailable,
  tooManyRequests,
  type ErrorCode,
} from '../../src/core/errors.js';
import {
  renderArmError,
  renderImdsError,
  renderKeyVaultError,
  renderOAuthError,
  type OAuthErrorContext,
  type RenderedError,
} from '../../src/wire/errors/index.js';

const SECRET = 'hunter2-s3cr3t-do-not-send';

/** One representative error per code; the Record type makes a missing code a compile error. */
const representative: Record<ErrorCode, () => AppError> = {
  InvalidRequest: () =>
    invalidRequest('The request content was invalid and could not be deserialized.'),
  InvalidParameter: () =>
    invalidParameter('client_id', "The value of 'client_id' is not a valid GUID."),
  MissingParameter: () => missingParameter('resource'),
  MethodNotAllowed: () => methodNotAllowed('POST'),
  UnsupportedMediaType: () =>
    new AppError(
      'UnsupportedMediaType',
      "The content media type 'text/plain' is not supported. Only 'application/json' is supported.",
      { status: 415 },
    ),
  PayloadTooLarge: () =>
    new AppError('PayloadTooLarge', 'The request body exceeds 1048576 bytes.', { status: 413 }),
  MissingApiVersion: missingApiVersion,
  InvalidApiVersion: () => invalidApiVersion('2099-01-01', ['2024-11-30', '2023-01-31']),
  MetadataHeaderMissing: metadataHeaderMissing,
  ForwardedRequestRefused: forwardedRequestRefused,
  IdentityNotFound: identityNotFound,
  MultipleUserAssignedIdentities: multipleUserAssignedIdentities,
  UnknownCaller: () =>
    new AppError('UnknownCaller', 'The calling address is not a virtual machine on this host.', {
      status: 400,
    }),
  AuthenticationRequired: () =>
    authenticationRequired("Authentication failed. The 'Authorization' header is missing."),
  InvalidToken: () => invalidToken('The access token is invalid.', new Error(SECRET)),
  Forbidden: () =>
    forbidden(
      "The client '6b5a9f34-0000-4000-8000-000000000001' does not have authorization to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/read' over scope '/subscriptions/00000000-0000-0000-0000-000000000000'.",
    ),
  InvalidClient: () =>
    new AppError(
      'InvalidClient',
      "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app 'b84e06d3-aba1-4bcc-9626-2e0d76cba2ce'.",
      { status: 401, errorCodes: [7000215] },
    ),
  InvalidGrant: () =>
    new AppError('InvalidGrant', 'The provided grant is not valid.', { status: 400 }),
  UnauthorizedClient: () =>
    new AppError(
      'UnauthorizedClient',
      "Application with identifier 'b84e06d3-aba1-4bcc-9626-2e0d76cba2ce' was not found in the directory 'Tessera'.",
      { status: 400 },
    ),
  UnsupportedGrantType: () =>
    new AppError(
      'UnsupportedGrantType',
      "The app requested an unsupported grant type 'password'.",
      { status: 400 },
    ),
  InvalidScope: () =>
    new AppError(
      'InvalidScope',
      "The provided value for the input parameter 'scope' is not valid. The scope https://example.contoso.com/activity.read is not valid.",
      { status: 400 },
    ),
  InvalidResource: () =>
    new AppError(
      'InvalidResource',
      'The resource principal named https://unknown.example was not found in the tenant named Tessera. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.',
      { status: 400, errorCodes: [500011] },
    ),
  NotFound: () =>
    notFound(
      "The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/xUAMI4' under resource group 'ContosoLab' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    ),
  Conflict: () => conflict("A role assignment with the name 'x' already exists."),
  PreconditionFailed: () =>
    new AppError('PreconditionFailed', 'The ETag given in If-Match does not match.', {
      status: 412,
    }),
  TooManyRequests: () =>
    tooManyRequests(
      "Number of 'read' requests for subscription '00000000-0000-0000-0000-000000000000' actor '6b5a9f34-0000-4000-8000-000000000001' exceeded. Please try again after '1' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling for additional information.",
    ),
  ServiceUnavailable: () => serviceUnavailable('The store is not reachable.', new Error(SECRET)),
  ConfigInvalid: () => configInvalid(`store.postgres.url: postgres://tessera:${SECRET}@db is bad`),
  Internal: () => internalError(new Error(SECRET)),
};

/** Cases every dialect renders besides one per code. */
const common: Record<string, () => unknown> = {
  'wire-override': () =>
    notFound("Resource group 'missing-rg' could not be found.", {
      target: 'missing-rg',
      wire: {
        arm: 'ResourceGroupNotFound',
        oauth: 'AADSTS90002',
        imds: 'bad_request_102',
        keyvault: 'KeyNotFound',
      },
    }),
  target: () => invalidRequest("The property 'location' is required.", 'location'),
  'retry-after': () => tooManyRequests('Too many requests; retry later.', 17.2),
  'unexposed-4xx': () =>
    new AppError('Forbidden', `denied because ${SECRET}`, { status: 403, expose: false }),
  'status-out-of-range': () => new AppError('InvalidRequest', SECRET, { status: 200 }),
  'non-app-error': () => new Error(`connect failed: password=${SECRET}`),
  'thrown-string': () => SECRET,
  'thrown-undefined': () => undefined,
};

const OAUTH_CTX: OAuthErrorContext = {
  traceId: '0000aaaa-11bb-cccc-dd22-eeeeee333333',
  correlationId: 'aaaa0000-bb11-2222-33cc-444444dddddd',
  now: Date.UTC(2016, 0, 9, 2, 2, 12, 345),
};

interface Dialect {
  readonly render: (error: unknown) => RenderedError;
  /** Cases only this dialect has. */
  readonly extra: Record<string, () => RenderedError>;
}

const dialects: Record<string, Dialect> = {
  imds: {
    render: (error) => renderImdsError(error),
    extra: {
      'metadata-route-header': () =>
        renderImdsError(metadataHeaderMissing(), { route: 'metadata' }),
      'metadata-route-api-version': () =>
        renderImdsError(missingApiVersion(), {
          route: 'metadata',
          newestVersions: ['2023-07-01', '2021-12-13', '2021-11-15'],
        }),
      'metadata-route-not-found': () =>
        renderImdsError(notFound('Not found'), { route: 'metadata' }),
      'server-header': () =>
        renderImdsError(identityNotFound(), { headers: { Server: 'IMDS/150.870.65.1103' } }),
    },
  },
  oauth: {
    render: (error) => renderOAuthError(error, OAUTH_CTX),
    extra: {
      'aadsts-override': () =>
        renderOAuthError(
          new AppError('InvalidClient', 'Client assertion failed signature validation.', {
            status: 401,
            wire: { oauth: 'AADSTS700027' },
            errorCodes: [700027, 50012],
          }),
          OAUTH_CTX,
        ),
      'error-override': () =>
        renderOAuthError(
          new AppError('Forbidden', 'The application is disabled.', {
            status: 400,
            wire: { oauth: 'unauthorized_client' },
            errorCodes: [7000112],
          }),
          OAUTH_CTX,
        ),
      'missing-grant-type': () => renderOAuthError(missingParameter('grant_type'), OAUTH_CTX),
      'custom-error-uri': () =>
        renderOAuthError(representative.InvalidScope(), {
          ...OAUTH_CTX,
          errorUriBase: 'https://tessera.example/error',
        }),
    },
  },
  arm: {
    render: (error) => renderArmError(error),
    extra: {
      'template-violation': () =>
        renderArmError(
          new AppError(
            'InvalidRequest',
            "Deployment template validation failed: 'The template resource 'x' for type 'Microsoft.Compute/virtualMachines/extensions' at line '12' and column '9' has incorrect segment lengths.'.",
            {
              status: 400,
              wire: { arm: 'InvalidTemplate' },
              additionalInfo: [
                {
                  type: 'TemplateViolation',
                  info: {
                    lineNumber: 12,
                    linePosition: 9,
                    path: 'properties.template.resources[0].type',
                  },
                },
              ],
            },
          ),
        ),
      'internal-with-correlation-id': () =>
        renderArmError(new TypeError(SECRET), {
          correlationId: '73ac12eb-e450-4b80-a7c3-8d36f9fa218c',
        }),
      'challenge-header': () =>
        renderArmError(invalidToken('The access token is invalid.'), {
          headers: {
            'WWW-Authenticate':
              'Bearer authorization_uri="https://login.windows.net/", error="invalid_token", error_description="The access token is invalid."',
          },
        }),
    },
  },
  keyvault: {
    render: (error) => renderKeyVaultError(error),
    extra: {
      challenge: () =>
        renderKeyVaultError(authenticationRequired('No bearer token.'), {
          headers: {
            'WWW-Authenticate':
              'Bearer authorization="https://login.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47", resource="https://vault.azure.net"',
          },
        }),
      'secret-not-found': () =>
        renderKeyVaultError(
          notFound(
            'A secret with (name/id) db-password was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182',
          ),
        ),
      'deleted-but-recoverable': () =>
        renderKeyVaultError(
          conflict(
            'Secret db-password is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.',
          ),
          { innerErrorCode: 'ObjectIsDeletedButRecoverable' },
        ),
      throttled: () =>
        renderKeyVaultError(
          tooManyRequests(
            'Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached',
            1,
          ),
        ),
    },
  },
};

interface GoldenEntry {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

/** The two golden files of a dialect: one case per ErrorCode, and everything else. */
function renderAll(dialect: Dialect): Record<'codes' | 'cases', Record<string, RenderedError>> {
  const codes: Record<string, RenderedError> = {};
  for (const code of ERROR_CODES) codes[code] = dialect.render(representative[code]());
  const cases: Record<string, RenderedError> = {};
  for (const [name, make] of Object.entries(common)) cases[name] = dialect.render(make());
  for (const [name, make] of Object.entries(dialect.extra)) cases[name] = make();
  return { codes, cases };
}

function toGolden(rendered: Record<string, RenderedError>): Record<string, GoldenEntry> {
  return Object.fromEntries(
    Object.entries(rendered).map(([name, r]) => [
      name,
      { status: r.status, headers: r.headers, body: JSON.parse(r.body) as unknown },
    ]),
  );
}

/** `<dialect>.json` for the codes, `<dialect>.cases.json` for the rest (each under 450 lines). */
const goldenPath = (dialect: string, part: 'codes' | 'cases'): string =>
  fileURLToPath(
    new URL(`../golden/errors/${dialect}${part === 'codes' ? '' : '.cases'}.json`, import.meta.url),
  );

describe.each(Object.entries(dialects))('%s error dialect', (name, dialect) => {
  const groups = renderAll(dialect);
  const rendered = { ...groups.codes, ...groups.cases };

  it.each(['codes', 'cases'] as const)('matches the golden file (%s)', async (part) => {
    const actual = toGolden(groups[part]);
    const path = goldenPath(name, part);
    if (process.env['UPDATE_GOLDEN'] === '1') {
      const options = (await resolveConfig(path)) ?? {};
      const text = await format(JSON.stringify(actual), { ...options, parser: 'json' });
      await writeFile(path, text);
    }
    const golden = JSON.parse(await readFile(path, 'utf8')) as Record<string, GoldenEntry>;
    expect(Object.keys(actual)).toEqual(Object.keys(golden));
    for (const key of Object.keys(golden)) {
      // Stringified so that member order, which clients and captures see, is pinned too.
      expect(JSON.stringify(actual[key], null, 2), key).toBe(JSON.stringify(golden[key], null, 2));
    }
  });

  it('never sends a secret, a stack or a cause', () => {
    for (const [key, r] of Object.entries(rendered)) {
      const wire = JSON.stringify(r);
      expect(wire, key).not.toContain('hunter2');
      expect(wire, key).not.toContain('    at ');
    }
  });

  it('answers 500 for anything that was not raised on purpose', () => {
    for (const key of ['Internal', 'ConfigInvalid', 'non-app-error', 'thrown-string']) {
      expect(rendered[key]?.status, key).toBe(500);
    }
  });

  it('sends JSON with a retry-after header when the error carries one', () => {
    for (const r of Object.values(rendered)) {
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    }
    expect(rendered['retry-after']?.headers['retry-after']).toBe('18');
    expect(rendered['NotFound']?.headers['retry-after']).toBeUndefined();
  });
});

describe('IMDS texts clients depend on', () => {
  it('sends the throttling body byte for byte as Azure does (Content-Length 90)', () => {
    const r = renderImdsError(tooManyRequests('slow down'));
    expect(Buffer.byteLength(r.body)).toBe(90);
  });

  it('says "Identity not found" so the Azure.Identity .NET probe treats the credential as unavailable', () => {
    expect(renderImdsError(identityNotFound()).body).toContain('Identity not found');
    expect(renderImdsError(metadataHeaderMissing()).body).not.toContain('Identity not found');
  });
});
