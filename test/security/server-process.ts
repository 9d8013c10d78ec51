// `tessera server` as a child process with settings of the test's choosing, for the security suites.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  closeAll,
  field,
  spawnTessera,
  stopTessera,
  type TesseraProcess,
  untilReady,
} from '../compat/tessera-cli.js';

/** A running `tessera server` on a fresh SQLite data directory. */
export interface SecurityServer {
  readonly url: string;
  readonly dataDir: string;
  readonly tenantId: string;
  readonly adminClientId: string;
  /** The administrator's secret, read from the file `admin.json` names. */
  readonly adminSecret: string;
  readonly process: TesseraProcess;
  /** SIGTERM and wait for the exit (counted refusals are written on the way out); keeps the data. */
  stop(): Promise<void>;
  /** Stops the server if it runs and removes its data directory. */
  close(): Promise<void>;
}

/** Starts `tessera server` with `--set` for each of `settings` (`key=value`). */
export async function startServerProcess(
  settings: readonly string[] = [],
): Promise<SecurityServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tessera-security-'));
  const proc = spawnTessera('tessera server', [
    'server',
    '--data-dir',
    dataDir,
    '--set',
    'server.port=0',
    '--set',
    'server.httpsPort=0',
    '--set',
    'log.level=warn',
    ...settings.flatMap((s) => ['--set', s]),
  ]);
  const stop = () => stopTessera(proc);
  const close = () => closeAll(stop, () => rm(dataDir, { recursive: true, force: true }));
  try {
    const banner = await untilReady(proc, /^tessera server: ready at \S+/m);
    const adminFile = field(banner, /^\s+administrator:\s+client id \S+ \((.+)\)$/m, 'admin.json');
    const admin = JSON.parse(await readFile(adminFile, 'utf8')) as {
      clientId: string;
      secretFile: string;
    };
    return {
      url: field(banner, /^tessera server: ready at (\S+)/m, 'server URL'),
      dataDir,
      tenantId: field(banner, /^\s+tenant:\s+(\S+)$/m, 'tenant'),
      adminClientId: admin.clientId,
      adminSecret: (await readFile(admin.secretFile, 'utf8')).trim(),
      process: proc,
      stop,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** A token request's answer. */
export interface TokenAnswer {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly body: Record<string, unknown>;
}

/** POSTs `form` to the tenant's v1 or v2 token endpoint. */
export async function postTokenForm(
  server: { readonly url: string; readonly tenantId: string },
  version: 'v1' | 'v2',
  form: Record<string, string>,
): Promise<TokenAnswer> {
  const path = version === 'v1' ? 'oauth2/token' : 'oauth2/v2.0/token';
  const response = await fetch(`${server.url}/${server.tenantId}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as Record<string, unknown>,
  };
}

/** A management token for the administrator, from the v2 endpoint. */
export async function adminToken(server: SecurityServer): Promise<string> {
  const answer = await postTokenForm(server, 'v2', {
    grant_type: 'client_credentials',
    client_id: server.adminClientId,
    client_secret: server.adminSecret,
    scope: 'https://management.azure.com/.default',
  });
  const token = answer.body.access_token;
  if (typeof token !== 'string') throw new Error(`no admin token: ${JSON.stringify(answer)}`);
  return token;
}
