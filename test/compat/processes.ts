// Tessera as a user runs it, for the compatibility suites: `tessera server`, `tessera host
// create`, `tessera agent` and `tessera extension` as child processes on ports of the OS.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { decodeJwt } from 'jose';
import { adminTokenFromFile } from '../fixtures/admin.js';
import {
  closeAll,
  field,
  runTessera,
  spawnTessera,
  type SpawnOptions,
  stopTessera,
  type TesseraProcess,
  untilReady,
} from './tessera-cli.js';

/** What was started and is not closed yet, oldest first, for {@link closeStarted}. */
const open = new Set<() => Promise<void>>();

/** `close`, registered in {@link open} until it has run. */
function tracked(close: () => Promise<void>): () => Promise<void> {
  const once = async (): Promise<void> => {
    open.delete(once);
    await close();
  };
  open.add(once);
  return once;
}

/**
 * Stops every server, agent and extension this test file started and has not closed, newest
 * first, and removes their data directories, even those a timed-out `beforeAll` was still
 * starting (for `afterAll`).
 */
export function closeStarted(): Promise<void> {
  return closeAll(...[...open].reverse());
}

/** An ARM answer read with plain `fetch`. */
export interface ArmReply {
  readonly status: number;
  readonly body: unknown;
}

/** A running `tessera server` on a fresh SQLite data directory, with its administrator. */
export interface TesseraServer {
  /** The server's plain-HTTP URL (login, ARM for `fetch`, the agent API). */
  readonly url: string;
  /** The server's HTTPS URL, from its local CA (the SDKs' bearer policy wants HTTPS). */
  readonly httpsUrl: string;
  /** The local CA's PEM file: what a client's `NODE_EXTRA_CA_CERTS` names. */
  readonly caFile: string;
  /** The certificate and key of the HTTPS listener (`<dataDir>/tls`), for a TLS front. */
  readonly tls: { readonly certFile: string; readonly keyFile: string };
  /** The data directory, for operator commands run where the server runs. */
  readonly dataDir: string;
  readonly tenantId: string;
  readonly subscriptionId: string;
  /** `/subscriptions/{id}`. */
  readonly subscriptionPath: string;
  /** The administrator's application (client) id, from `<dataDir>/admin.json`. */
  readonly adminClientId: string;
  /** The administrator's object id, the `oid` of its token. */
  readonly adminObjectId: string;
  /**
   * What a client script needs to reach Tessera as the administrator: `NODE_EXTRA_CA_CERTS` and
   * `TESSERA_COMPAT_{URL,TENANT_ID,CLIENT_ID,SECRET_FILE,SUBSCRIPTION_ID}` (see client-kit.ts).
   */
  readonly clientEnv: Readonly<Record<string, string>>;
  /**
   * Calls ARM with plain `fetch` (over HTTP, which no SDK accepts) as the administrator, for
   * setting up and checking what the SDK under test does not cover. `path` includes the query.
   */
  readonly arm: (method: string, path: string, body?: unknown) => Promise<ArmReply>;
  /** The administrator's client secret (from the file `admin.json` names). */
  readonly adminSecret: string;
  /** Stops the server (SIGTERM, then SIGKILL) and waits for its exit; keeps its data directory. */
  readonly stop: () => Promise<void>;
  /** Stops the server (SIGTERM, then SIGKILL), waits for its exit, removes its data directory. */
  readonly close: () => Promise<void>;
}

/** How {@link startTesseraServer} and {@link startTesseraAgent} start their process. */
export interface StartOptions extends SpawnOptions {
  /** `key=value` configuration settings, each passed as `--set`. */
  readonly settings?: readonly string[];
}

/**
 * An ARM caller with plain `fetch` (over HTTP, which no SDK accepts) as the holder of `token`:
 * `path` includes the query; the body is sent as JSON.
 */
export function armCaller(
  url: string,
  token: string,
): (method: string, path: string, body?: unknown) => Promise<ArmReply> {
  return async (method, path, body) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
  };
}

/**
 * Starts `tessera server` on a fresh SQLite data directory with ports of the OS, reads its
 * banner and `admin.json`, and gets the administrator a management token from the token
 * endpoint. The process and directory are removed again when a later step fails.
 */
export async function startTesseraServer(options: StartOptions = {}): Promise<TesseraServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tessera-compat-server-'));
  let server: TesseraProcess | undefined;
  const stop = async (): Promise<void> => {
    if (server !== undefined) await stopTessera(server);
  };
  const close = tracked(() => closeAll(stop, () => rm(dataDir, { recursive: true, force: true })));
  try {
    server = spawnTessera(
      'tessera server',
      [
        'server',
        '--data-dir',
        dataDir,
        '--set',
        'server.port=0',
        '--set',
        'server.httpsPort=0',
        ...(options.settings ?? []).flatMap((setting) => ['--set', setting]),
      ],
      options,
    );
    const banner = await untilReady(server, /^tessera server: ready at \S+/m);
    const url = field(banner, /^tessera server: ready at (\S+)/m, 'server URL');
    const tenantId = field(banner, /^\s+tenant:\s+(\S+)$/m, 'tenant');
    const subscriptionId = field(banner, /^\s+subscription:\s+(\S+)$/m, 'subscription');
    const adminFile = field(banner, /^\s+administrator:\s+client id \S+ \((.+)\)$/m, 'admin.json');
    const httpsUrl = field(banner, /^\s+HTTPS:\s+(\S+) \(CA .+\)$/m, 'HTTPS URL');
    const caFile = field(banner, /^\s+HTTPS:\s+\S+ \(CA (.+)\)$/m, 'CA file');

    const admin = JSON.parse(await readFile(adminFile, 'utf8')) as {
      clientId: string;
      secretFile: string;
    };
    const adminToken = await adminTokenFromFile(url, adminFile);
    const tlsDir = dirname(caFile);
    return {
      url,
      httpsUrl,
      caFile,
      tls: { certFile: join(tlsDir, 'server.pem'), keyFile: join(tlsDir, 'server.key') },
      dataDir,
      tenantId,
      subscriptionId,
      subscriptionPath: `/subscriptions/${subscriptionId}`,
      adminClientId: admin.clientId,
      adminObjectId: String(decodeJwt(adminToken).oid),
      clientEnv: {
        NODE_EXTRA_CA_CERTS: caFile,
        TESSERA_COMPAT_URL: httpsUrl,
        TESSERA_COMPAT_TENANT_ID: tenantId,
        TESSERA_COMPAT_CLIENT_ID: admin.clientId,
        TESSERA_COMPAT_SECRET_FILE: admin.secretFile,
        TESSERA_COMPAT_SUBSCRIPTION_ID: subscriptionId,
      },
      adminSecret: (await readFile(admin.secretFile, 'utf8')).trim(),
      arm: armCaller(url, adminToken),
      stop,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Assigns role definition `roleId` (a GUID) to `principalId` at `scope` through ARM as the
 * administrator, under a new assignment name; resolves with ARM's answer (201, or for a
 * principal the directory does not hold, 400 `PrincipalNotFound`).
 */
export function assignRole(
  server: TesseraServer,
  assignment: { readonly scope: string; readonly roleId: string; readonly principalId: string },
): Promise<ArmReply> {
  const { scope, roleId, principalId } = assignment;
  return server.arm(
    'PUT',
    `${scope}/providers/Microsoft.Authorization/roleAssignments/${crypto.randomUUID()}?api-version=2022-04-01`,
    {
      properties: {
        roleDefinitionId: `${server.subscriptionPath}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`,
        principalId,
      },
    },
  );
}

/** A running `tessera agent` joined to a {@link TesseraServer} as one host. */
export interface TesseraAgent {
  /** The host the agent joined as: what a VM names in `properties.tessera.hostId`. */
  readonly hostId: string;
  /** The agent's IMDS, `http://127.0.0.1:{port}`. */
  readonly imdsUrl: string;
  /** The agent's Prometheus endpoint, `http://127.0.0.1:{port}/metrics`. */
  readonly metricsUrl: string;
  /**
   * Starts `tessera extension --imds-url {imdsUrl} --host 127.0.0.1 --port {port, default 0}` (with
   * `--local-address`, the VM it speaks for) and resolves with its `http://127.0.0.1:{port}`.
   * It stops with the agent.
   */
  readonly startExtension: (localAddress?: string, port?: number) => Promise<string>;
  /** The agent's process, for what it printed. */
  readonly process: TesseraProcess;
  /** Stops the agent and its extensions, waits for each to exit, removes the data directory. */
  readonly close: () => Promise<void>;
}

/** Options of {@link startTesseraAgent}. */
export interface StartAgentOptions extends StartOptions {
  /**
   * How the host and its join token are made: `tessera host create` on the server's data
   * directory (`cli`), or `PUT /agent/v1/hosts/{name}` as the administrator (`api`, default:
   * no extra process).
   */
  readonly join?: 'cli' | 'api';
}

/**
 * Makes host `hostName` and starts `tessera agent` in a fresh data directory with that host's
 * join token, IMDS and metrics on ports of the OS (IMDS rate limit off: the suites' clients ask
 * in parallel). Its IMDS serves a VM once the VM names the host and the agent has seen the
 * change (see `imdsToken` of imds-probe.ts). Whatever was started is removed when a later step fails.
 */
export async function startTesseraAgent(
  server: TesseraServer,
  hostName: string,
  options: StartAgentOptions = {},
): Promise<TesseraAgent> {
  const host = await createHost(server, hostName, options.join ?? 'api');
  const dataDir = await mkdtemp(join(tmpdir(), 'tessera-compat-agent-'));
  const processes: TesseraProcess[] = [];
  const close = tracked(() =>
    closeAll(
      ...processes
        .splice(0)
        .reverse()
        .map((proc) => () => stopTessera(proc)),
      () => rm(dataDir, { recursive: true, force: true }),
    ),
  );
  try {
    const agent = spawnTessera(
      'tessera agent',
      [
        'agent',
        '--data-dir',
        dataDir,
        '--set',
        `agent.serverUrl=${server.url}`,
        '--set',
        `agent.joinToken=${host.joinToken}`,
        '--set',
        'agent.imds.port=0',
        '--set',
        'agent.metrics.port=0',
        '--imds-rate-limit',
        'off',
        ...(options.settings ?? []).flatMap((setting) => ['--set', setting]),
      ],
      options,
    );
    processes.push(agent);
    const banner = await untilReady(agent, /^tessera agent: ready/m);
    const imdsUrl = field(banner, /^\s+IMDS:\s+(\S+)$/m, 'IMDS URL');
    return {
      hostId: host.id,
      process: agent,
      imdsUrl,
      metricsUrl: field(banner, /^\s+metrics:\s+(\S+)$/m, 'metrics URL'),
      startExtension: async (localAddress, port = 0) => {
        const extension = spawnTessera('tessera extension', [
          'extension',
          '--imds-url',
          imdsUrl,
          '--host',
          '127.0.0.1',
          '--port',
          String(port),
          ...(localAddress === undefined ? [] : ['--local-address', localAddress]),
        ]);
        processes.push(extension);
        const printed = await untilReady(extension, /^tessera extension: ready/m);
        return field(printed, /^tessera extension: (http:\/\/\S+)\/oauth2\/token /m, 'its URL');
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Host `name` and its one-time join token, made by the CLI or the agent API. */
async function createHost(
  server: TesseraServer,
  name: string,
  join: 'cli' | 'api',
): Promise<{ id: string; joinToken: string }> {
  if (join === 'cli') {
    const printed = await runTessera('tessera host create', [
      'host',
      'create',
      '-n',
      name,
      '--data-dir',
      server.dataDir,
    ]);
    return JSON.parse(printed) as { id: string; joinToken: string };
  }
  const created = await server.arm('PUT', `/agent/v1/hosts/${name}`);
  if (created.status !== 201) {
    throw new Error(`host ${name}: ${String(created.status)} ${JSON.stringify(created.body)}`);
  }
  return created.body as { id: string; joinToken: string };
}

/** `tessera server` and one `tessera agent` joined to it, each a process of its own. */
export type TesseraProcesses = Omit<TesseraServer, 'close'> &
  Omit<TesseraAgent, 'close'> & {
    /** Stops every process (agent and extensions first), waits for each, removes the data. */
    readonly close: () => Promise<void>;
  };

/**
 * Starts `tessera server`, makes host `hostName` with `tessera host create` on its data
 * directory and starts `tessera agent` as that host. Whatever was started is stopped and removed
 * when a later step fails.
 */
export async function startTesseraProcesses(hostName: string): Promise<TesseraProcesses> {
  const server = await startTesseraServer();
  try {
    const agent = await startTesseraAgent(server, hostName, { join: 'cli' });
    return {
      ...server,
      ...agent,
      close: () => closeAll(agent.close, server.close),
    };
  } catch (error) {
    await server.close();
    throw error;
  }
}
