// Who the clients are: the administrator's login files in a data directory, or AZURE_* variables; tokens per scope.
import { chmod, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { decodeJwt } from 'jose';
import { ClientError, errorFromAnswer } from './errors.js';
import type { HttpSend } from './http.js';

/** The file in a data directory naming the administrator's login (the server writes it). */
export const ADMIN_LOGIN_FILE = 'admin.json';

/** The file in a data directory where `tessera login` keeps the signed-in application. */
export const LOGIN_PROFILE_FILE = 'login.json';

/** What `tessera login` records: the application, its secret, and the server it signed in to. */
export interface LoginProfile {
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The server's base URL the login was made against. */
  readonly server?: string | undefined;
  /** A CA file to trust for that server. */
  readonly ca?: string | undefined;
}

/** An application's client-credentials login. The secret is never logged nor printed. */
export interface ClientCredentials {
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Where they came from, for messages: `environment` or the login file's path. */
  readonly source: string;
}

const ENV_NAMES = ['AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_TENANT_ID'] as const;

const unavailable = (message: string): ClientError =>
  new ClientError('CredentialUnavailable', message);

/** The text of `path`; a missing file is `missing`'s message, any other failure says why. */
async function readText(path: string, what: string, missing?: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    if (code === 'ENOENT' && missing !== undefined) throw unavailable(missing);
    throw new ClientError('CredentialUnavailable', `cannot read ${what} ${path}: ${code}`, {
      cause: error,
    });
  }
}

/** The credentials in `<dataDir>/admin.json` and the secret file it names. */
async function fromDataDir(dataDir: string): Promise<ClientCredentials> {
  const file = join(dataDir, ADMIN_LOGIN_FILE);
  const text = await readText(
    file,
    'the login file',
    `no credentials: ${file} does not exist (start the server once on this data directory, or pass --data-dir) and ${ENV_NAMES.join(', ')} are not set`,
  );
  let login: unknown;
  try {
    login = JSON.parse(text);
  } catch {
    login = undefined;
  }
  const { tenantId, clientId, secretFile } = (login ?? {}) as Record<string, unknown>;
  if (
    typeof tenantId !== 'string' ||
    typeof clientId !== 'string' ||
    typeof secretFile !== 'string'
  ) {
    throw unavailable(`${file} is not a login file: expected {"tenantId","clientId","secretFile"}`);
  }
  // A relative path is relative to the login file, not to the working directory.
  const secretPath = resolve(dirname(file), secretFile);
  const clientSecret = (await readText(secretPath, 'the client secret file')).trim();
  if (clientSecret === '') throw unavailable(`the client secret file ${secretPath} is empty`);
  return { tenantId, clientId, clientSecret, source: file };
}

const nonEmpty = (value: unknown): value is string => typeof value === 'string' && value !== '';

/**
 * The profile `tessera login` wrote in `dataDir`, or undefined when nobody is signed in. A file
 * that is there but unreadable or malformed fails with `CredentialUnavailable`.
 */
export async function readLoginProfile(dataDir: string): Promise<LoginProfile | undefined> {
  const file = join(dataDir, LOGIN_PROFILE_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw unavailable(`cannot read ${file}: ${String((error as NodeJS.ErrnoException).code)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const { tenantId, clientId, clientSecret, server, ca } = (parsed ?? {}) as Record<
    string,
    unknown
  >;
  if (!nonEmpty(tenantId) || !nonEmpty(clientId) || !nonEmpty(clientSecret)) {
    throw unavailable(`${file} is not a login profile: run tessera login again`);
  }
  return {
    tenantId,
    clientId,
    clientSecret,
    server: nonEmpty(server) ? server : undefined,
    ca: nonEmpty(ca) ? ca : undefined,
  };
}

/** Writes the profile readable by its owner only, replacing any earlier one in one step. */
export async function writeLoginProfile(dataDir: string, profile: LoginProfile): Promise<string> {
  const file = join(dataDir, LOGIN_PROFILE_FILE);
  const temp = `${file}.${String(process.pid)}.tmp`;
  await writeFile(temp, `${JSON.stringify(profile, null, 2)}\n`, { mode: 0o600, flag: 'w' });
  await chmod(temp, 0o600);
  await rename(temp, file);
  return file;
}

/** Forgets the signed-in application; true when there was one. */
export async function removeLoginProfile(dataDir: string): Promise<boolean> {
  const file = join(dataDir, LOGIN_PROFILE_FILE);
  const existed = (await readLoginProfile(dataDir).catch(() => true)) !== undefined;
  await rm(file, { force: true });
  return existed;
}

/**
 * The credentials to use: `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET` and `AZURE_TENANT_ID` when
 * either of the first two is set (all three are then required), else the application `tessera
 * login` recorded in `<dataDir>/login.json`, else the administrator's login in
 * `<dataDir>/admin.json` (the dev default). Fails with `CredentialUnavailable`, saying what is missing.
 */
export async function loadCredentials(options: {
  readonly dataDir: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}): Promise<ClientCredentials> {
  const { env } = options;
  const clientId = env.AZURE_CLIENT_ID;
  const clientSecret = env.AZURE_CLIENT_SECRET;
  const tenantId = env.AZURE_TENANT_ID;
  if (clientId === undefined && clientSecret === undefined) {
    const profile = await readLoginProfile(options.dataDir);
    if (profile !== undefined) {
      const { tenantId: tid, clientId: cid, clientSecret: secret } = profile;
      return { tenantId: tid, clientId: cid, clientSecret: secret, source: LOGIN_PROFILE_FILE };
    }
    return fromDataDir(options.dataDir);
  }
  const missing = ENV_NAMES.filter((name) => (env[name] ?? '') === '');
  if (
    clientId === undefined ||
    clientSecret === undefined ||
    tenantId === undefined ||
    missing.length > 0
  ) {
    throw unavailable(`${missing.join(', ')} not set: set all of ${ENV_NAMES.join(', ')}, or none`);
  }
  return { tenantId, clientId, clientSecret, source: 'environment' };
}

/** Access tokens for the credentials, one per scope, reused until shortly before they expire. */
export interface TokenProvider {
  /** A token for `scope` (e.g. `https://management.azure.com/.default`). */
  getToken(scope: string): Promise<string>;
  /** The caller's object id (`oid` of its token for `scope`): whom a role assignment names. */
  objectId(scope: string): Promise<string>;
  /** The caller's application id (`appid`, or `azp` in a v2 token, of its token for `scope`). */
  clientId(scope: string): Promise<string>;
}

/** A cached token is renewed this long before it expires. */
const REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * Gets tokens with the client-credentials grant from `{serverUrl}/{tenantId}/oauth2/v2.0/token`.
 * An error answer becomes a {@link ClientError} with the OAuth error code (`invalid_client`).
 */
export function createTokenProvider(options: {
  readonly serverUrl: string;
  readonly credentials: ClientCredentials;
  readonly send: HttpSend;
  readonly now?: () => number;
}): TokenProvider {
  const { serverUrl, credentials, send } = options;
  const now = options.now ?? (() => Date.now());
  const cache = new Map<string, Promise<{ token: string; expiresAt: number }>>();
  const endpoint = `${serverUrl}/${encodeURIComponent(credentials.tenantId)}/oauth2/v2.0/token`;

  const fetchToken = async (scope: string): Promise<{ token: string; expiresAt: number }> => {
    const answer = await send({
      method: 'POST',
      url: endpoint,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      // Asking twice only mints a second token.
      repeatable: true,
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: credentials.clientId,
        client_secret: credentials.clientSecret,
        scope,
      }).toString(),
    });
    if (answer.status >= 400)
      throw errorFromAnswer(answer.status, answer.text, 'the token endpoint');
    let body: unknown;
    try {
      body = JSON.parse(answer.text);
    } catch {
      body = undefined;
    }
    const { access_token: token, expires_in: expiresIn } = (body ?? {}) as Record<string, unknown>;
    if (answer.status !== 200 || typeof token !== 'string' || token === '') {
      throw new ClientError('UnexpectedResponse', `no access token from ${endpoint}`, {
        status: answer.status,
      });
    }
    const seconds = Number(expiresIn);
    return { token, expiresAt: now() + (Number.isFinite(seconds) ? seconds * 1000 : 0) };
  };

  const getToken = async (scope: string): Promise<string> => {
    // Concurrent callers share one request; a failed one is not remembered.
    const entry = await cache.get(scope)?.catch(() => undefined);
    if (entry !== undefined && entry.expiresAt - REFRESH_MARGIN_MS > now()) return entry.token;
    const fresh = fetchToken(scope);
    cache.set(scope, fresh);
    fresh.catch(() => {
      if (cache.get(scope) === fresh) cache.delete(scope);
    });
    return (await fresh).token;
  };

  return {
    getToken,
    async objectId(scope) {
      const { oid } = decodeJwt(await getToken(scope));
      if (typeof oid !== 'string')
        throw new ClientError('UnexpectedResponse', 'the token has no oid');
      return oid;
    },
    async clientId(scope) {
      const { appid, azp } = decodeJwt(await getToken(scope));
      const id = appid ?? azp;
      if (typeof id !== 'string')
        throw new ClientError('UnexpectedResponse', 'the token has no appid');
      return id;
    },
  };
}
