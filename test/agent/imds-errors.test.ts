// Every IMDS error path of PROTOCOL.md 1.5 and 8, with the exact status, headers and body.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError, serviceUnavailable } from '../../src/core/errors.js';
import { IMDS_SERVER_HEADER } from '../../src/agent/imds/responses.js';
import {
  entraInvalidResource,
  imds,
  startImds,
  STRANGER,
  tokenPath,
  UAI1,
  type Call,
  type Harness,
} from './imds-harness.js';

const API_VERSION_BODY = {
  error:
    'Bad request. api-version is invalid or was not specified in the request. For more information refer to aka.ms/azureimds',
  'newest-versions': ['2025-04-07', '2024-07-17', '2024-03-15'],
};
const invalid = (description: string): object => ({
  error: 'invalid_request',
  error_description: description,
});
const HEADER = invalid('Required metadata header not specified');
const RESOURCE = invalid("Required query variable 'resource' is missing");
const NOT_FOUND_ID = invalid('Identity not found');
const MULTIPLE = invalid(
  'Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request',
);
const XFF = invalid('Requests with an X-Forwarded-For header are not allowed');
const UNKNOWN_CALLER = {
  error: 'unauthorized_client',
  error_description: 'The calling address is not a virtual machine on this host.',
};

interface Case {
  readonly name: string;
  readonly path: string;
  readonly call?: Call;
  /** Makes the backend fail this way first. */
  readonly fail?: () => Error;
  readonly status: number;
  readonly body: object;
  readonly headers?: Readonly<Record<string, string>>;
}

const CASES: readonly Case[] = [
  // Metadata header (PROTOCOL 1.2, 1.5): missing, wrong case, wrong value, and the probes.
  {
    name: 'no Metadata header',
    path: tokenPath(),
    call: { bare: true },
    status: 400,
    body: HEADER,
  },
  {
    name: 'Metadata: True (upper case)',
    path: tokenPath(),
    call: { bare: true, headers: { Metadata: 'True' } },
    status: 400,
    body: HEADER,
  },
  {
    name: 'Metadata: false',
    path: tokenPath(),
    call: { bare: true, headers: { Metadata: 'false' } },
    status: 400,
    body: HEADER,
  },
  {
    name: 'DAC probe: no query, no Metadata',
    path: '/metadata/identity/oauth2/token',
    call: { bare: true, headers: { Accept: 'application/json' } },
    status: 400,
    body: HEADER,
  },
  {
    name: '.NET probe: unknown identity without Metadata gets the header error, not "Identity not found"',
    path: tokenPath(
      '&msi-res-id=%2Fsubscriptions%2Fx&client_id=00000000-0000-0000-0000-000000000000',
    ),
    call: { bare: true },
    status: 400,
    body: HEADER,
  },
  {
    name: 'header error before api-version error',
    path: '/metadata/identity/oauth2/token?resource=x',
    call: { bare: true },
    status: 400,
    body: HEADER,
  },
  {
    name: 'Metadata on an instance route',
    path: '/metadata/instance?api-version=2021-02-01',
    call: { bare: true },
    status: 400,
    body: { error: 'Bad request. Required metadata header not specified' },
  },
  // X-Forwarded-For (PROTOCOL 1.2, 8.1): refused, before the Metadata check.
  {
    name: 'X-Forwarded-For',
    path: tokenPath(),
    call: { headers: { 'X-Forwarded-For': '203.0.113.7' } },
    status: 400,
    body: XFF,
  },
  {
    name: 'X-Forwarded-For without Metadata',
    path: tokenPath(),
    call: { bare: true, headers: { 'x-forwarded-for': '' } },
    status: 400,
    body: XFF,
  },
  // Method (PROTOCOL 1.1): 405, before the header checks.
  {
    name: 'POST',
    path: tokenPath(),
    call: { method: 'POST', bare: true },
    status: 405,
    body: {
      error: 'method_not_allowed',
      error_description: "The HTTP method 'POST' is not supported.",
    },
  },
  {
    name: 'DELETE on an instance route',
    path: '/metadata/instance?api-version=2021-02-01',
    call: { method: 'DELETE' },
    status: 405,
    body: { error: "The HTTP method 'DELETE' is not supported." },
  },
  // Query (PROTOCOL 1.1, 8.1): repeated names, api-version, resource, selectors, bypass_cache.
  {
    name: 'repeated resource',
    path: tokenPath('&resource=https%3A%2F%2Fvault.azure.net'),
    status: 400,
    body: invalid("Bad request. Query parameter 'resource' is specified more than once."),
  },
  {
    name: 'repeated api-version before the api-version check',
    path: '/metadata/identity/oauth2/token?api-version=1&api-version=2&resource=x',
    status: 400,
    body: invalid("Bad request. Query parameter 'api-version' is specified more than once."),
  },
  {
    name: 'malformed percent-encoding',
    path: tokenPath('', 'https%ZZ'),
    status: 400,
    body: invalid('Bad request. The query string is malformed.'),
  },
  {
    name: 'api-version missing',
    path: '/metadata/identity/oauth2/token?resource=x',
    status: 400,
    body: API_VERSION_BODY,
  },
  {
    name: 'api-version empty',
    path: '/metadata/identity/oauth2/token?api-version=&resource=x',
    status: 400,
    body: API_VERSION_BODY,
  },
  {
    name: 'api-version unknown',
    path: '/metadata/identity/oauth2/token?api-version=2018-02-02&resource=x',
    status: 400,
    body: API_VERSION_BODY,
  },
  {
    name: 'api-version older than the identity category',
    path: '/metadata/identity/oauth2/token?api-version=2017-12-01&resource=x',
    status: 400,
    body: API_VERSION_BODY,
  },
  {
    name: 'api-version on the instance route',
    path: '/metadata/instance/compute/location?format=json',
    status: 400,
    body: API_VERSION_BODY,
  },
  {
    name: 'resource missing',
    path: '/metadata/identity/oauth2/token?api-version=2018-02-01',
    status: 400,
    body: RESOURCE,
  },
  {
    name: 'resource empty',
    path: '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=',
    status: 400,
    body: RESOURCE,
  },
  {
    name: 'two selectors',
    path: tokenPath(`&client_id=${UAI1.clientId}&object_id=${UAI1.principalId}`),
    status: 400,
    body: invalid('Bad request. Only one of client_id, object_id and msi_res_id may be specified.'),
  },
  {
    name: 'msi_res_id and mi_res_id',
    path: tokenPath(`&msi_res_id=a&mi_res_id=b`),
    status: 400,
    body: invalid('Bad request. Only one of client_id, object_id and msi_res_id may be specified.'),
  },
  {
    name: 'bypass_cache=false',
    path: tokenPath('&bypass_cache=false'),
    status: 400,
    body: invalid("Bad request. bypass_cache must be 'true' when given."),
  },
  // Caller and identity (PROTOCOL 1.3, 1.5).
  {
    name: 'an address that is no VM',
    path: tokenPath(),
    call: { from: STRANGER },
    status: 400,
    body: UNKNOWN_CALLER,
  },
  {
    name: 'unknown client_id',
    path: tokenPath('&client_id=00000000-0000-0000-0000-000000000000'),
    status: 400,
    body: NOT_FOUND_ID,
  },
  {
    name: 'another VM’s identity',
    path: tokenPath(`&client_id=${UAI1.clientId}`),
    call: { from: '127.0.0.2' },
    status: 400,
    body: NOT_FOUND_ID,
  },
  {
    name: 'a VM without identities',
    path: tokenPath(),
    call: { from: '127.0.0.4' },
    status: 400,
    body: NOT_FOUND_ID,
  },
  {
    name: 'several user-assigned identities, no selector',
    path: tokenPath(),
    call: { from: '127.0.0.2' },
    status: 400,
    body: MULTIPLE,
  },
  {
    name: 'identity info of a VM without identities',
    path: '/metadata/identity/info?api-version=2018-02-01',
    call: { from: '127.0.0.4' },
    status: 400,
    body: NOT_FOUND_ID,
  },
  // Backend failures (PROTOCOL 1.5): Entra passed through, outages retryable, bugs hidden.
  {
    name: 'Entra refuses the resource',
    path: tokenPath('', 'https%3A%2F%2Funknown.example'),
    fail: entraInvalidResource,
    status: 400,
    body: {
      error: 'invalid_resource',
      error_description:
        'AADSTS500011: The resource principal named https://unknown.example was not found in the tenant named Tessera.',
    },
  },
  {
    name: 'server unreachable, nothing cached',
    path: tokenPath(),
    fail: () =>
      new AppError('ServiceUnavailable', 'The token service is unavailable. Retry later.', {
        status: 503,
        expose: true,
        retryAfterSeconds: 5,
      }),
    status: 503,
    headers: { 'retry-after': '5' },
    body: {
      error: 'service_unavailable',
      error_description: 'The token service is unavailable. Retry later.',
    },
  },
  {
    name: 'server unavailable without Retry-After',
    path: tokenPath(),
    fail: () => serviceUnavailable('Down.'),
    status: 503,
    body: { error: 'service_unavailable', error_description: 'Down.' },
  },
  {
    name: 'a bug in the backend',
    path: tokenPath(),
    fail: () => new Error('secret internals'),
    status: 500,
    body: { error: 'server_error', error_description: 'An internal error occurred.' },
  },
  // Paths (PROTOCOL 1.9, 2.1): IMDSv2 probes and unknown paths 404 before any check.
  {
    name: 'IMDSv2 credential probe',
    path: '/metadata/identity/credential?cred-api-version=1.0',
    call: { method: 'POST', bare: true },
    status: 404,
    body: { error: 'not_found', error_description: 'Not found' },
  },
  {
    name: 'IMDSv2 getPlatformMetadata',
    path: '/metadata/identity/getPlatformMetadata?api-version=2025-05-01',
    status: 404,
    body: { error: 'not_found', error_description: 'Not found' },
  },
  {
    name: 'IMDSv2 issuecredential',
    path: '/metadata/identity/issuecredential?cid=x&api-version=2025-05-01',
    call: { method: 'POST' },
    status: 404,
    body: { error: 'not_found', error_description: 'Not found' },
  },
  {
    name: 'unknown path',
    path: '/metadata/scheduledevents?api-version=2020-07-01',
    status: 404,
    body: { error: 'Not found' },
  },
  {
    name: 'not under /metadata',
    path: '/oauth2/token?resource=x',
    status: 404,
    body: { error: 'Not found' },
  },
  {
    name: 'attested document without a signer',
    path: '/metadata/attested/document?api-version=2020-09-01',
    status: 404,
    body: { error: 'Not found' },
  },
  // Instance route filtering (PROTOCOL 2.1).
  {
    name: 'leaf without format=text',
    path: '/metadata/instance/compute/location?api-version=2021-02-01',
    status: 400,
    body: { error: 'Bad request. A leaf node can only be requested with format=text.' },
  },
  {
    name: 'leaf with format=json',
    path: '/metadata/instance/compute/location?api-version=2021-02-01&format=json',
    status: 400,
    body: { error: 'Bad request. A leaf node can only be requested with format=text.' },
  },
  {
    name: 'unknown format',
    path: '/metadata/instance?api-version=2021-02-01&format=xml',
    status: 400,
    body: { error: "Bad request. format must be 'json' or 'text'." },
  },
  {
    name: 'element that does not exist',
    path: '/metadata/instance/compute/nothing?api-version=2021-02-01&format=text',
    status: 404,
    body: { error: 'Not found' },
  },
  {
    name: 'element newer than the api-version',
    path: '/metadata/instance/compute/resourceId?api-version=2019-02-01&format=text',
    status: 404,
    body: { error: 'Not found' },
  },
  {
    name: 'array index out of range',
    path: '/metadata/instance/network/interface/1?api-version=2021-02-01',
    status: 404,
    body: { error: 'Not found' },
  },
  {
    name: 'unknown caller on an instance route',
    path: '/metadata/instance?api-version=2021-02-01',
    call: { from: STRANGER },
    status: 400,
    body: { error: 'The calling address is not a virtual machine on this host.' },
  },
];

describe('IMDS error paths', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startImds();
  });
  afterAll(async () => {
    await h.server.close();
  });
  beforeEach(() => {
    h.backend.failWith = undefined;
  });

  it.each(CASES)('$name → $status', async (c) => {
    if (c.fail !== undefined) h.backend.failWith = c.fail();
    const answer = await imds(h.server.url, c.path, c.call);
    expect(answer.status).toBe(c.status);
    expect(JSON.parse(answer.text)).toEqual(c.body);
    // Exact bytes: Azure's compact JSON, members in the order above.
    expect(answer.text).toBe(JSON.stringify(c.body));
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(answer.headers['content-length']).toBe(String(Buffer.byteLength(answer.text)));
    expect(answer.headers.server).toBe(IMDS_SERVER_HEADER);
    for (const [name, value] of Object.entries(c.headers ?? {})) {
      expect(answer.headers[name]).toBe(value);
    }
    if (c.headers?.['retry-after'] === undefined)
      expect(answer.headers['retry-after']).toBe(undefined);
  });

  it('never asks the backend for a token when a check fails', async () => {
    const before = h.backend.calls.length;
    for (const c of CASES.filter((x) => x.fail === undefined)) {
      await imds(h.server.url, c.path, c.call);
    }
    expect(h.backend.calls.length).toBe(before);
  });

  it('reports unknown callers and forwarded requests to backend.refused', async () => {
    h.backend.refusals.length = 0;
    await imds(h.server.url, tokenPath(), { from: STRANGER });
    await imds(h.server.url, '/metadata/versions', { from: STRANGER });
    await imds(h.server.url, tokenPath(), { headers: { 'X-Forwarded-For': '10.1.1.1' } });
    await imds(h.server.url, tokenPath(), { bare: true });
    expect(h.backend.refusals).toEqual([
      { address: STRANGER, reason: 'no VM has this address' },
      { address: STRANGER, reason: 'no VM has this address' },
      { address: '127.0.0.1', reason: 'X-Forwarded-For header' },
    ]);
  });

  it('claims no IMDS build that turns on MSAL’s IMDSv2 flow (build <= 1324)', () => {
    const build = /^IMDS\/\d+\.\d+\.\d+\.(\d+)$/.exec(IMDS_SERVER_HEADER)?.[1];
    expect(Number(build)).toBeLessThanOrEqual(1324);
  });
});
