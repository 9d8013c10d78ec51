// Tessera as a user runs it, for the end-to-end compatibility suite: `tessera server`, `tessera
// host create`, `tessera agent` and `tessera extension` as child processes on ports of the OS.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');
/** How long a process gets to print its ready line (tsx compiles on a cold start). */
const READY_TIMEOUT_MS = 45_000;
/** How long a process gets to exit after SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 5_000;

/** A `tessera` child process and what it printed so far. */
interface TesseraProcess {
  readonly child: ChildProcess;
  readonly name: string;
  stdout: string;
  stderr: string;
}

/** The environment without the test run's own TESSERA_* settings, which the config would read. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('TESSERA_')),
  );
}

/** Starts `tessera <args>` (through tsx, as `npm run tessera` does). */
function spawnTessera(name: string, args: readonly string[]): TesseraProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc: TesseraProcess = { child, name, stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (proc.stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (proc.stderr += chunk));
  return proc;
}

/** Resolves with what `proc` printed once its stdout matches `ready`; fails if it exits first. */
async function untilReady(proc: TesseraProcess, ready: RegExp): Promise<string> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!ready.test(proc.stdout)) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(`${proc.name} exited before it was ready:\n${proc.stdout}${proc.stderr}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`${proc.name} not ready after ${READY_TIMEOUT_MS} ms:\n${proc.stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return proc.stdout;
}

/** Runs `tessera <args>` to its end; fails unless it exits 0. */
async function runTessera(name: string, args: readonly string[]): Promise<string> {
  const proc = spawnTessera(name, args);
  const [code] = (await once(proc.child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${name} exited ${String(code)}: ${proc.stderr}`);
  return proc.stdout;
}

/** SIGTERM, then SIGKILL if it has not exited after {@link STOP_TIMEOUT_MS}; waits for the exit. */
async function stop(proc: TesseraProcess): Promise<void> {
  const { child } = proc;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** The first group of `pattern` in `text`; fails naming `what` when it is not there. */
function field(text: string, pattern: RegExp, what: string): string {
  const value = pattern.exec(text)?.[1];
  if (value === undefined) throw new Error(`no ${what} in:\n${text}`);
  return value;
}

/** An ARM answer read with plain `fetch`. */
export interface ArmReply {
  readonly status: number;
  readonly body: unknown;
}

/** One HTTP answer, body as text. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
}

/** Options of {@link httpRequest}. */
export interface HttpRequestOptions {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** The source address: the VM a request to IMDS comes from (127.0.0.1 by default). */
  readonly from?: string;
}

/** One plain-HTTP request on its own connection, from a chosen loopback address. */
export function httpRequest(url: string, options: HttpRequestOptions = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        agent: false,
        ...(options.from === undefined ? {} : { localAddress: options.from }),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** `tessera server` and one `tessera agent` joined to it, each a process of its own. */
export interface TesseraProcesses {
  /** The server's plain-HTTP URL (login, ARM for `fetch`, the agent API). */
  readonly url: string;
  /** The server's HTTPS URL, from its local CA (the SDKs' bearer policy wants HTTPS). */
  readonly httpsUrl: string;
  /** The local CA's PEM file: what a client's `NODE_EXTRA_CA_CERTS` names. */
  readonly caFile: string;
  readonly tenantId: string;
  readonly subscriptionId: string;
  /** `/subscriptions/{id}`. */
  readonly subscriptionPath: string;
  /** The administrator's application (client) id, from `<dataDir>/admin.json`. */
  readonly adminClientId: string;
  /** The host the agent joined as: what a VM names in `properties.tessera.hostId`. */
  readonly hostId: string;
  /** The agent's IMDS, `http://127.0.0.1:{port}`. */
  readonly imdsUrl: string;
  /** Calls ARM over HTTP as the administrator; `path` includes the query. */
  arm(method: string, path: string, body?: unknown): Promise<ArmReply>;
  /**
   * Starts `tessera extension --imds-url {imdsUrl} --host 127.0.0.1 --port 0` (with
   * `--local-address`, the VM it speaks for) and resolves with its `http://127.0.0.1:{port}`.
   * It stops with the rest.
   */
  startExtension(localAddress?: string): Promise<string>;
  /** Stops every process (SIGTERM, then SIGKILL), waits for each to exit, removes the data. */
  close(): Promise<void>;
}

/**
 * Starts `tessera server` on a fresh SQLite data directory with ports of the OS, reads its
 * banner and `admin.json`, makes host `hostName` with `tessera host create` on the same data
 * directory, and starts `tessera agent` with that host's join token (IMDS rate limit off: the
 * suite's clients ask in parallel). Whatever was started is stopped and removed when a later
 * step fails.
 */
export async function startTesseraProcesses(hostName: string): Promise<TesseraProcesses> {
  const processes: TesseraProcess[] = [];
  const dirs: string[] = [];
  const close = async (): Promise<void> => {
    // The agent and extensions first, then the server they talk to.
    for (const proc of processes.splice(0).reverse()) await stop(proc);
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  };
  try {
    const serverDir = await mkdtemp(join(tmpdir(), 'tessera-e2e-server-'));
    dirs.push(serverDir);
    const agentDir = await mkdtemp(join(tmpdir(), 'tessera-e2e-agent-'));
    dirs.push(agentDir);

    const server = spawnTessera('tessera server', [
      'server',
      '--data-dir',
      serverDir,
      '--set',
      'server.port=0',
      '--set',
      'server.httpsPort=0',
    ]);
    processes.push(server);
    const banner = await untilReady(server, /^tessera server: ready at \S+/m);
    const url = field(banner, /^tessera server: ready at (\S+)/m, 'server URL');
    const tenantId = field(banner, /^\s+tenant:\s+(\S+)$/m, 'tenant');
    const subscriptionId = field(banner, /^\s+subscription:\s+(\S+)$/m, 'subscription');
    const adminFile = field(banner, /^\s+administrator:\s+client id \S+ \((.+)\)$/m, 'admin.json');
    const httpsUrl = field(banner, /^\s+HTTPS:\s+(\S+) \(CA .+\)$/m, 'HTTPS URL');
    const caFile = field(banner, /^\s+HTTPS:\s+\S+ \(CA (.+)\)$/m, 'CA file');

    const admin = JSON.parse(await readFile(adminFile, 'utf8')) as {
      tenantId: string;
      clientId: string;
      secretFile: string;
    };
    const secret = (await readFile(admin.secretFile, 'utf8')).trim();
    const adminToken = await clientCredentialsToken(url, admin.tenantId, admin.clientId, secret);

    const host = JSON.parse(
      await runTessera('tessera host create', [
        'host',
        'create',
        '-n',
        hostName,
        '--data-dir',
        serverDir,
      ]),
    ) as { id: string; joinToken: string };

    const agent = spawnTessera('tessera agent', [
      'agent',
      '--data-dir',
      agentDir,
      '--set',
      `agent.serverUrl=${url}`,
      '--set',
      `agent.joinToken=${host.joinToken}`,
      '--set',
      'agent.imds.port=0',
      '--set',
      'agent.metrics.port=0',
      '--imds-rate-limit',
      'off',
    ]);
    processes.push(agent);
    const agentBanner = await untilReady(agent, /^tessera agent: ready/m);
    const imdsUrl = field(agentBanner, /^\s+IMDS:\s+(\S+)$/m, 'IMDS URL');

    return {
      url,
      httpsUrl,
      caFile,
      tenantId,
      subscriptionId,
      subscriptionPath: `/subscriptions/${subscriptionId}`,
      adminClientId: admin.clientId,
      hostId: host.id,
      imdsUrl,
      arm: async (method, path, body) => {
        const response = await fetch(`${url}${path}`, {
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
      startExtension: async (localAddress) => {
        const extension = spawnTessera('tessera extension', [
          'extension',
          '--imds-url',
          imdsUrl,
          '--host',
          '127.0.0.1',
          '--port',
          '0',
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

/** A management token from the server's v2.0 token endpoint (client credentials grant). */
async function clientCredentialsToken(
  url: string,
  tenantId: string,
  clientId: string,
  secret: string,
): Promise<string> {
  const response = await fetch(`${url}/${tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: secret,
      scope: 'https://management.azure.com/.default',
    }).toString(),
  });
  const body = (await response.json()) as { access_token?: string };
  if (body.access_token === undefined) {
    throw new Error(`no administrator token (${response.status}): ${JSON.stringify(body)}`);
  }
  return body.access_token;
}
