// Child process of azurite.test.ts: a program that gets a storage token from Tessera's token
// endpoint and uses it on Azurite's Blob REST API with Node's own `fetch`, no SDK; prints each
// answer's status, error code and body as JSON.
//
// Inputs (client-kit.ts): TESSERA_COMPAT_{URL,TENANT_ID,CLIENT_ID,SECRET_FILE} (the administrator
// at Tessera), TESSERA_COMPAT_BLOB_URL (`https://127.0.0.1:{port}/devstoreaccount1`) and
// TESSERA_COMPAT_CONTAINER (a container name to create, use and delete) and TESSERA_COMPAT_CONTENT
// (the blob's text). NODE_EXTRA_CA_CERTS
// trusts the CA of Azurite's certificate (and of Tessera's, when its URL is HTTPS).
import { readFile } from 'node:fs/promises';
import { input, report } from './client-kit.js';

/** What Azure's documentation names for Azure Storage: the token's `aud` is its resource. */
const STORAGE_SCOPE = 'https://storage.azure.com/.default';
/** A Blob service version Azurite 3.35 serves (any current one would do). */
const BLOB_API_VERSION = '2021-12-02';

/** A Blob service answer: status, `x-ms-error-code`, body text. */
interface BlobAnswer {
  readonly status: number;
  readonly errorCode: string | null;
  readonly body: string;
}

const container = `${input('BLOB_URL')}/${input('CONTAINER')}`;

/** The administrator's client-credentials token for Azure Storage, from Tessera's v2 endpoint. */
async function tokenFromTessera(): Promise<string> {
  const answer = await fetch(`${input('URL')}/${input('TENANT_ID')}/oauth2/v2.0/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: input('CLIENT_ID'),
      client_secret: (await readFile(input('SECRET_FILE'), 'utf8')).trim(),
      scope: STORAGE_SCOPE,
    }),
  });
  const body = (await answer.json()) as { access_token?: string };
  if (body.access_token === undefined) {
    throw new Error(`no token (${answer.status}): ${JSON.stringify(body)}`);
  }
  return body.access_token;
}

/** One Blob REST call with bearer `token`, as the REST reference writes it. */
async function blob(
  token: string,
  method: string,
  url: string,
  extra: { headers?: Record<string, string>; body?: string } = {},
): Promise<BlobAnswer> {
  const answer = await fetch(url, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      'x-ms-version': BLOB_API_VERSION,
      'x-ms-date': new Date().toUTCString(),
      ...extra.headers,
    },
    ...(extra.body === undefined ? {} : { body: extra.body }),
  });
  return {
    status: answer.status,
    errorCode: answer.headers.get('x-ms-error-code'),
    body: await answer.text(),
  };
}

await report(async (step) => {
  const token = await step('token', tokenFromTessera);
  await step('createContainer', () => blob(token, 'PUT', `${container}?restype=container`));
  await step('putBlob', () =>
    blob(token, 'PUT', `${container}/hello.txt`, {
      headers: { 'x-ms-blob-type': 'BlockBlob', 'content-type': 'text/plain; charset=utf-8' },
      body: input('CONTENT'),
    }),
  );
  await step('getBlob', () => blob(token, 'GET', `${container}/hello.txt`));
  await step('deleteBlob', () => blob(token, 'DELETE', `${container}/hello.txt`));
  await step('getDeletedBlob', () => blob(token, 'GET', `${container}/hello.txt`));
  await step('deleteContainer', () => blob(token, 'DELETE', `${container}?restype=container`));
});
