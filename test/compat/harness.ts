// What the compatibility suites share: Tessera in-process over HTTPS, client scripts in a child.
import { type ChildProcess, spawn } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AgentRuntime, startAgentRuntime } from '../../src/agent/runtime.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/config/logger.js';
import type { Principal } from '../../src/core/model.js';
import type { Store } from '../../src/core/ports.js';
import { ensureAdministrator } from '../../src/server/bootstrap.js';
import { type RunningServer, startServer } from '../../src/server/runtime.js';
import { openStore } from '../../src/store/index.js';
import { AGENT_API_PREFIX, type CreatedHost } from '../../src/wire/agent-api.js';
import { TEST_MASTER_KEY } from '../fixtures/keys.js';

/** A client script gets this long, token requests included, before it is killed. */
const CHILD_TIMEOUT_MS = 25_000;

/** The management audience the SDKs are told to ask for (CLIENTS.md section 4). */
const MANAGEMENT_SCOPE = 'https://management.azure.com/.default';

/** A lower-case GUID, as Tessera mints object, application and tenant ids. */
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** An ARM answer read with plain `fetch`. */
export interface ArmReply {
  readonly status: number;
  readonly body: unknown;
}

/** Tessera started for one suite, with its administrator application. */
export interface CompatTessera {
  readonly store: Store;
  readonly server: RunningServer;
  readonly administrator: Principal;
  /** `/subscriptions/{id}` of the first subscription. */
  readonly subscriptionPath: string;
  /**
   * What a client script needs to reach Tessera as the administrator: `NODE_EXTRA_CA_CERTS` and
   * `TESSERA_COMPAT_{URL,TENANT_ID,CLIENT_ID,SECRET_FILE,SUBSCRIPTION_ID}`.
   */
  readonly clientEnv: Readonly<Record<string, string>>;
  /**
   * Calls Tessera's ARM surface with plain `fetch` (over HTTP, which no SDK accepts) as the
   * administrator, for setting up what the SDK under test does not cover. `path` includes the
   * query.
   */
  arm(method: string, path: string, body?: unknown): Promise<ArmReply>;
  /** Stops the server, closes the store and removes the data directory. */
  close(): Promise<void>;
}

/**
 * Starts Tessera on a fresh SQLite store in a temporary directory, with HTTPS from its local CA
 * (the SDKs refuse bearer tokens over plain HTTP) and the bootstrap administrator, Owner at `/`.
 * Whatever was started is undone if a later step fails.
 */
export async function startCompatTessera(): Promise<CompatTessera> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const close = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-compat-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const config = loadConfig({
      env: {},
      cwd: dir,
      flags: { 'server.port': 0, 'server.httpsPort': 0 },
    });
    const { store } = await openStore({
      database: { driver: 'sqlite', file: config.store.sqlite.file },
      masterKey: TEST_MASTER_KEY,
    });
    cleanups.push(() => store.close());
    const server = await startServer({
      config,
      store,
      logger: createLogger({ level: 'silent' }),
      localTls: true,
    });
    cleanups.push(() => server.close());
    const administrator = await ensureAdministrator({
      store,
      services: server.services,
      tenant: server.tenant,
      dataDir: dir,
      clock: { now: () => Date.now() },
    });
    const { secretFile } = administrator;
    if (secretFile === undefined || server.httpsUrl === undefined || server.caFile === undefined) {
      throw new Error('Tessera started without an administrator secret or local TLS');
    }
    const adminToken = await clientCredentialsToken(
      server,
      administrator.principal.appId,
      (await readFile(secretFile, 'utf8')).trim(),
    );
    return {
      store,
      server,
      administrator: administrator.principal,
      subscriptionPath: `/subscriptions/${server.subscriptionId}`,
      clientEnv: {
        NODE_EXTRA_CA_CERTS: server.caFile,
        TESSERA_COMPAT_URL: server.httpsUrl,
        TESSERA_COMPAT_TENANT_ID: server.tenant.id,
        TESSERA_COMPAT_CLIENT_ID: administrator.principal.appId,
        TESSERA_COMPAT_SECRET_FILE: secretFile,
        TESSERA_COMPAT_SUBSCRIPTION_ID: server.subscriptionId,
      },
      arm: async (method, path, body) => {
        const response = await fetch(`${server.url}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${adminToken}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const text = await response.text();
        return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** A Tessera agent joined to a {@link CompatTessera} as one host, its IMDS on a port of the OS. */
export interface CompatAgent {
  readonly runtime: AgentRuntime;
  /** The host's id: what a VM on it names in `properties.tessera.hostId`. */
  readonly hostId: string;
  /** Stops the agent and removes its data directory. */
  close(): Promise<void>;
}

/**
 * Creates host `name` through the agent API and starts an agent in a temporary directory that
 * joins as that host with its one-time token (IMDS and metrics on ports of the OS). Its IMDS
 * serves a VM once the VM names the host and the agent has seen the change (see {@link until}).
 */
export async function startCompatAgent(tessera: CompatTessera, name: string): Promise<CompatAgent> {
  const created = await tessera.arm('PUT', `${AGENT_API_PREFIX}/hosts/${name}`);
  if (created.status !== 201) {
    throw new Error(`host ${name}: ${String(created.status)} ${JSON.stringify(created.body)}`);
  }
  const host = created.body as CreatedHost;
  const dir = await mkdtemp(join(tmpdir(), 'tessera-compat-agent-'));
  try {
    const runtime = await startAgentRuntime({
      config: loadConfig({
        env: {},
        cwd: dir,
        flags: { dataDir: dir, 'agent.imds.port': 0, 'agent.metrics.port': 0 },
      }),
      logger: createLogger({ level: 'silent' }),
      serverUrl: tessera.server.url,
      joinToken: host.joinToken,
    });
    return {
      runtime,
      hostId: host.id,
      close: async () => {
        try {
          await runtime.close();
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Polls `probe` every 20 ms until it returns a value other than undefined; fails after `ms`. */
export async function until<T>(what: string, probe: () => T | undefined, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Variables that would send @azure/identity elsewhere than the agent's IMDS (other managed-identity
 * sources, the environment and workload credentials, a proxy): for {@link RunClientOptions.omitEnv}.
 */
export const FOREIGN_IDENTITY_ENV =
  /^(AZURE_|IDENTITY_|MSI_|IMDS_ENDPOINT$|DEFAULT_IDENTITY_CLIENT_ID$|(HTTPS?|ALL|NO)_PROXY$)/i;

/** A management token from Tessera's v2.0 token endpoint (client credentials grant). */
async function clientCredentialsToken(
  server: RunningServer,
  clientId: string,
  secret: string,
): Promise<string> {
  const response = await fetch(`${server.url}/${server.tenant.id}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: secret,
      scope: MANAGEMENT_SCOPE,
    }).toString(),
  });
  const body = (await response.json()) as { access_token?: string };
  if (body.access_token === undefined) {
    throw new Error(`no administrator token (${response.status}): ${JSON.stringify(body)}`);
  }
  return body.access_token;
}

/**
 * What a client script prints as its last line (see `client-kit.ts`): each step's result under
 * the step's name, and on failure the step that threw and its error.
 */
export interface ClientOutput<Results> {
  readonly ok: boolean;
  readonly step?: string;
  readonly error?: unknown;
  readonly results: Partial<Results>;
  /** Every request the SDK's pipeline sent: `METHOD path?query -> status`. */
  readonly requests: readonly string[];
  /** The JSON bodies the SDK sent, with the line of {@link requests} they went with. */
  readonly bodies: readonly { readonly request: string; readonly body: unknown }[];
}

/** Client processes still running; {@link killClients} ends them should a hook time out. */
const running = new Set<ChildProcess>();

/** Options of {@link runClient}. */
export interface RunClientOptions {
  /** Variables of this process's environment the client must not inherit (matched by name). */
  readonly omitEnv?: RegExp;
}

/**
 * Runs the client script `script` (a `.ts` file, through tsx) in its own Node process, so that
 * Node reads `NODE_EXTRA_CA_CERTS` at start as a user's program would, with `env` added to this
 * process's environment (less `options.omitEnv`). Kills it after {@link CHILD_TIMEOUT_MS}.
 * Returns its last stdout line parsed; fails with its stderr when it printed none.
 */
export async function runClient<Results>(
  script: URL,
  env: Readonly<Record<string, string>>,
  options: RunClientOptions = {},
): Promise<ClientOutput<Results>> {
  const { omitEnv } = options;
  const inherited =
    omitEnv === undefined
      ? process.env
      : Object.fromEntries(Object.entries(process.env).filter(([name]) => !omitEnv.test(name)));
  const { code, stdout, stderr } = await new Promise<{
    code: number | null;
    stdout: string;
    stderr: string;
  }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(script)], {
      env: { ...inherited, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, CHILD_TIMEOUT_MS);
    child.once('error', (error) => {
      running.delete(child);
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (exitCode) => {
      running.delete(child);
      clearTimeout(timer);
      resolve({ code: exitCode, stdout: out, stderr: err });
    });
  });
  const line = stdout.trim().split('\n').at(-1) ?? '';
  if (!line.startsWith('{')) {
    throw new Error(`the client printed no result (exit ${String(code)}): ${stderr}`);
  }
  return JSON.parse(line) as ClientOutput<Results>;
}

/** Kills the client processes still running (for `afterAll`). */
export function killClients(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** One request an in-process HTTP server received, as {@link recordRequests} saw it. */
export interface ReceivedRequest {
  readonly method: string;
  /** The request target as it arrived: path and query. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly remoteAddress: string | undefined;
  /** The status answered, once the response has been sent. */
  status: number | undefined;
}

/** The requests received so far, and how to stop recording. */
export interface RequestRecorder {
  readonly received: readonly ReceivedRequest[];
  stop(): void;
}

/**
 * Records every request that a `node:http` server of this process listening on `port` receives,
 * with the status it answered, through Node's `http.server.*` diagnostics channels: the server
 * under test runs unchanged, and the log shows what a client really sent on the wire.
 */
export function recordRequests(port: number): RequestRecorder {
  const received: ReceivedRequest[] = [];
  const byRequest = new WeakMap<IncomingMessage, ReceivedRequest>();
  const onStart = (message: unknown): void => {
    const { request, socket } = message as { request: IncomingMessage; socket: Socket };
    if (socket.localPort !== port) return;
    const entry: ReceivedRequest = {
      method: request.method ?? '',
      url: request.url ?? '',
      headers: request.headers,
      remoteAddress: socket.remoteAddress,
      status: undefined,
    };
    byRequest.set(request, entry);
    received.push(entry);
  };
  const onFinish = (message: unknown): void => {
    const { request, response } = message as { request: IncomingMessage; response: ServerResponse };
    const entry = byRequest.get(request);
    if (entry !== undefined) entry.status = response.statusCode;
  };
  subscribe('http.server.request.start', onStart);
  subscribe('http.server.response.finish', onFinish);
  return {
    received,
    stop: () => {
      unsubscribe('http.server.request.start', onStart);
      unsubscribe('http.server.response.finish', onFinish);
    },
  };
}
