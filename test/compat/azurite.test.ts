// Compatibility: Azurite, Microsoft's Azure Storage emulator (`azurite-blob --oauth basic` over
// HTTPS, the command line `tessera up` prints), given Tessera's storage tokens by a program using
// the Blob REST API with plain `fetch`: accepted when `server.tokens.issuer` is Microsoft's v1
// form, refused for its issuer with Tessera's default; and Tessera itself still accepting and
// describing tokens of that issuer (ARM, v1 discovery, its keys).
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Azurite, startAzurite } from '../fixtures/azurite.js';
import { type ClientOutput, killClients, runClient } from './harness.js';
import { closeStarted, startTesseraServer, type TesseraServer } from './processes.js';
import { closeAll } from './tessera-cli.js';
import { installedVersion } from './versions.js';

const AZURITE = `azurite ${installedVersion('azurite')}`;
const JOSE = `jose ${installedVersion('jose')}`;
/** The issuer setting `tessera up --storage-compatible-issuer` applies. */
const STS_ISSUER = 'https://sts.windows.net/{tenantId}/';
const CONTENT = 'Hello from Tessera through Azurite';

/** A Blob service answer as azurite-client.ts reports it. */
interface BlobAnswer {
  readonly status: number;
  readonly errorCode: string | null;
  readonly body: string;
}
type BlobStep =
  'createContainer' | 'putBlob' | 'getBlob' | 'deleteBlob' | 'getDeletedBlob' | 'deleteContainer';
type Results = { token: string } & Record<BlobStep, BlobAnswer>;

const BLOB_STEPS: readonly BlobStep[] = [
  'createContainer',
  'putBlob',
  'getBlob',
  'deleteBlob',
  'getDeletedBlob',
  'deleteContainer',
];

describe(`compatibility: ${AZURITE} (Blob, --oauth basic over HTTPS) with Tessera's storage tokens`, () => {
  let sts: TesseraServer | undefined;
  let plain: TesseraServer | undefined;
  let azurite: Azurite | undefined;
  let accepted: ClientOutput<Results> | undefined;
  let refused: ClientOutput<Results> | undefined;

  beforeAll(async () => {
    [sts, plain] = await Promise.all([
      startTesseraServer({ settings: [`server.tokens.issuer=${STS_ISSUER}`] }),
      startTesseraServer(),
    ]);
    // Served with the sts server's own certificate, as `tessera up` prints Azurite's command.
    azurite = await startAzurite({ tls: { ...sts.tls, caFile: sts.caFile } });
    const client = new URL('./azurite-client.ts', import.meta.url);
    const blobEnv = { TESSERA_COMPAT_BLOB_URL: azurite.blobUrl, TESSERA_COMPAT_CONTENT: CONTENT };
    [accepted, refused] = await Promise.all([
      runClient<Results>(client, {
        ...sts.clientEnv,
        ...blobEnv,
        TESSERA_COMPAT_CONTAINER: 'tessera-sts',
      }),
      // Over plain HTTP to this server: the client trusts one CA, Azurite's.
      runClient<Results>(client, {
        ...plain.clientEnv,
        ...blobEnv,
        NODE_EXTRA_CA_CERTS: azurite.caFile,
        TESSERA_COMPAT_URL: plain.url,
        TESSERA_COMPAT_CONTAINER: 'tessera-default',
      }),
    ]);
  }, 120_000);

  afterAll(async () => {
    killClients();
    await closeAll(() => azurite?.close() ?? Promise.resolve(), closeStarted);
  }, 30_000);

  const ran = (output: ClientOutput<Results> | undefined): Partial<Results> => {
    if (output === undefined) throw new Error('the client did not run');
    expect(output, JSON.stringify(output)).toMatchObject({ ok: true });
    return output.results;
  };

  it(`${AZURITE}: with server.tokens.issuer=${STS_ISSUER}, the administrator's token for https://storage.azure.com/ creates a container, puts, gets and deletes a blob`, () => {
    const results = ran(accepted);
    expect(decodeJwt(results.token ?? '')).toMatchObject({
      iss: `https://sts.windows.net/${sts?.tenantId ?? ''}/`,
      aud: expect.stringMatching(/^https:\/\/storage\.azure\.com\/?$/) as unknown,
    });
    expect(results.createContainer?.status).toBe(201);
    expect(results.putBlob?.status).toBe(201);
    expect(results.getBlob).toMatchObject({ status: 200, body: CONTENT });
    expect(results.deleteBlob?.status).toBe(202);
    expect(results.getDeletedBlob).toMatchObject({ status: 404, errorCode: 'BlobNotFound' });
    expect(results.deleteContainer?.status).toBe(202);
  });

  it(`${AZURITE}: with Tessera's default issuer ({publicUrl}/{tenantId}/) every request is refused: 403 AuthenticationFailed, "Invalid token issuer."`, () => {
    const results = ran(refused);
    expect(decodeJwt(results.token ?? '').iss).toBe(
      `${plain?.url ?? ''}/${plain?.tenantId ?? ''}/`,
    );
    for (const name of BLOB_STEPS) {
      expect(results[name], name).toMatchObject({
        status: 403,
        errorCode: 'AuthenticationFailed',
        body: expect.stringContaining(
          '<AuthenticationErrorDetail>Invalid token issuer.</AuthenticationErrorDetail>',
        ) as unknown,
      });
    }
  });

  it(`${JOSE} jwtVerify: Tessera with that issuer still takes its tokens: ARM answers its administrator, v1 discovery names the issuer, the storage token verifies against its jwks_uri`, async () => {
    const server = sts;
    if (server === undefined) throw new Error('the server did not start');
    expect((await server.arm('GET', '/subscriptions?api-version=2022-12-01')).status).toBe(200);
    const discovery = (await (
      await fetch(`${server.url}/${server.tenantId}/.well-known/openid-configuration`)
    ).json()) as { issuer: string; jwks_uri: string };
    const issuer = `https://sts.windows.net/${server.tenantId}/`;
    expect(discovery.issuer).toBe(issuer);
    expect(discovery.jwks_uri.startsWith(`${server.url}/`)).toBe(true);
    const { payload } = await jwtVerify(
      ran(accepted).token ?? '',
      createRemoteJWKSet(new URL(discovery.jwks_uri)),
      { issuer, audience: ['https://storage.azure.com', 'https://storage.azure.com/'] },
    );
    expect(payload.appid).toBe(server.adminClientId);
  });
});
