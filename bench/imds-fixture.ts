// What the IMDS and attach benchmarks share: child processes, and a Tessera server plus a host
// agent (each its own process, as in production) with one VM on 127.0.0.1 that has a
// system-assigned identity.
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { bundledChild } from './child-bundle.js';

export type Child = ChildProcessByStdio<Writable, Readable, null>;

/**
 * Starts `bench/<script>`, bundled (child-bundle.ts), and resolves with the JSON of the first line it prints. The
 * child's stdin stays open: every child here exits when it closes, so none outlives the parent.
 * `BENCH_NODE_ARGS` (space-separated) goes to every child's node, e.g.
 * `BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'` to see where a figure's time goes.
 */
export async function spawnChild(
  script: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<{ child: Child; info: unknown }> {
  const path = await bundledChild(script);
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(process.execPath, [...nodeArgs, path, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  try {
    let out = '';
    child.stdout.setEncoding('utf8');
    const exited = once(child, 'exit').then(([code]) => {
      throw new Error(`${script} exited (${String(code)}) before it was ready`);
    });
    while (!out.includes('\n')) {
      const [chunk] = (await Promise.race([once(child.stdout, 'data'), exited])) as [string];
      out += chunk;
    }
    exited.catch(() => undefined);
    child.stdout.resume();
    return { child, info: JSON.parse(out.slice(0, out.indexOf('\n'))) as unknown };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

/** SIGTERM, then SIGKILL if the child has not exited within 5 s. */
export async function stopChild(child: Child): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/**
 * CPU seconds (user + system, all threads) a process has used, from /proc/<pid>/stat, whose
 * counters are in USER_HZ (100 per second on Linux). Undefined where there is no /proc.
 */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** The 1-minute load average (from /proc/loadavg), to tell a quiet machine from a busy one. */
export function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ')[0] ?? 'n/a';
  } catch {
    return 'n/a';
  }
}

export interface HttpAnswer {
  readonly status: number;
  /** Header names and values as received, flat. */
  readonly rawHeaders: string[];
  readonly body: string;
}

/** One keep-alive connection's worth of client: the benchmarks reuse it between requests. */
export const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });

/** A GET with `headers` over {@link keepAlive}. */
export function httpGet(
  url: string,
  headers: Readonly<Record<string, string>>,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: keepAlive }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          rawHeaders: res.rawHeaders,
          body: Buffer.concat(chunks).toString('utf8'),
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export const VM_API = 'api-version=2024-07-01';
export const UAI_API = 'api-version=2023-01-31';
export const ARM_RESOURCE = 'https://management.azure.com/';
/** The path (and query, without `client_id`) of an IMDS token request. */
export const TOKEN_PATH = `/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(ARM_RESOURCE)}`;

export interface ArmAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** An ARM (or agent API) call with the administrator's token; throws on a status of 400 or more. */
export type ArmCall = (method: string, path: string, body?: unknown) => Promise<ArmAnswer>;

/** An ARM (or agent API) caller for `url` with `token`. */
export function armCall(url: string, token: string): ArmCall {
  return async (method, path, body) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (response.status >= 400) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return {
      status: response.status,
      body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>,
    };
  };
}

/** A server child (imds-server.ts) and what the benchmarks need of it. */
export interface ServerChild {
  readonly child: Child;
  readonly url: string;
  readonly subscriptionId: string;
  /** The administrator's management token (for calls `arm` does not make: headers read). */
  readonly adminToken: string;
  readonly arm: ArmCall;
}

/** Starts a server with its data in `dir` (`storeFlags`: see imds-server.ts). */
export async function startServerChild(
  dir: string,
  storeFlags: Readonly<Record<string, string>> = {},
): Promise<ServerChild> {
  const server = await spawnChild('imds-server.ts', [dir], {
    BENCH_STORE_FLAGS: JSON.stringify(storeFlags),
  });
  const { url, adminToken, subscriptionId } = server.info as {
    url: string;
    adminToken: string;
    subscriptionId: string;
  };
  const arm = armCall(url, adminToken);
  return { child: server.child, url, subscriptionId, adminToken, arm };
}

/** An agent child (imds-agent.ts) and what it printed when its first sync was done. */
export interface AgentChild {
  readonly child: Child;
  readonly imdsUrl: string;
  /** Runtime start -> first VM sync applied, in the child. */
  readonly syncedMs: number;
  readonly vms: number;
}

/** Starts an agent with its state in `dir` (`joinToken` on the first start only). */
export async function startAgentChild(
  dir: string,
  serverUrl: string,
  joinToken: string | undefined,
  flags: Readonly<Record<string, unknown>> = {},
): Promise<AgentChild> {
  const agent = await spawnChild('imds-agent.ts', [dir, serverUrl], {
    ...(joinToken === undefined ? {} : { BENCH_JOIN_TOKEN: joinToken }),
    BENCH_AGENT_FLAGS: JSON.stringify(flags),
  });
  const info = agent.info as { imdsUrl: string; syncedMs: number; vms: number };
  return { child: agent.child, ...info };
}

/** A server, an agent and the VM `bench-vm` on 127.0.0.1 on the agent's host. */
export interface Tessera {
  readonly serverUrl: string;
  readonly imdsUrl: string;
  readonly serverPid: number | undefined;
  readonly agentPid: number | undefined;
  /** The server's SQLite file, for benchmarks that seed through the store. */
  readonly sqliteFile: string;
  /** The agent's host id (where VMs are placed). */
  readonly hostId: string;
  readonly subscriptionId: string;
  /** `/subscriptions/{id}/resourceGroups/bench` */
  readonly groupPath: string;
  /** ARM path of the VM. */
  readonly vmPath: string;
  readonly arm: ArmCall;
  /** Stops both processes and removes the temporary directory. */
  close(): Promise<void>;
}

/**
 * Starts the server, makes a resource group and a host (join token through
 * `PUT /agent/v1/hosts/{name}`), starts the agent with it, places `bench-vm` with a
 * system-assigned identity on the host at 127.0.0.1 and waits until IMDS knows it.
 */
export async function startTessera(): Promise<Tessera> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-bench-imds-'));
  const children: Child[] = [];
  const close = async (): Promise<void> => {
    keepAlive.destroy();
    await Promise.all(children.map(stopChild));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await mkdir(join(dir, 'server'));
    await mkdir(join(dir, 'agent'));
    const server = await startServerChild(join(dir, 'server'));
    children.push(server.child);
    const { url, subscriptionId, arm: call } = server;
    const groupPath = `/subscriptions/${subscriptionId}/resourceGroups/bench`;
    await call('PUT', `${groupPath}?api-version=2021-04-01`, { location: 'westeurope' });
    const host = (await call('PUT', '/agent/v1/hosts/bench-host', {})).body as {
      id: string;
      joinToken: string;
    };
    const agent = await startAgentChild(join(dir, 'agent'), url, host.joinToken);
    children.push(agent.child);
    const vmPath = `${groupPath}/providers/Microsoft.Compute/virtualMachines/bench-vm`;
    await call('PUT', `${vmPath}?${VM_API}`, {
      location: 'westeurope',
      identity: { type: 'SystemAssigned' },
      properties: { tessera: { hostId: host.id, privateIpAddresses: ['127.0.0.1'] } },
    });
    const { imdsUrl } = agent;
    // The VM reaches the agent through its long-poll sync: wait for IMDS to know the caller.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const answer = await httpGet(`${imdsUrl}/metadata/identity/info?api-version=2018-02-01`, {
        Metadata: 'true',
      });
      if (answer.status === 200) break;
      if (Date.now() > deadline) throw new Error(`IMDS never knew the VM: ${answer.body}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return {
      serverUrl: url,
      imdsUrl,
      serverPid: server.child.pid,
      agentPid: agent.child.pid,
      sqliteFile: join(dir, 'server', 'tessera.db'),
      hostId: host.id,
      subscriptionId,
      groupPath,
      vmPath,
      arm: call,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
