// Server replicas on one PostgreSQL schema, and an agent given all their URLs, as processes for the failover suite.
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  closeAll,
  field,
  spawnTessera,
  stopTessera,
  type TesseraProcess,
  untilReady,
} from '../compat/tessera-cli.js';

/** What every replica of one installation is started with. */
export interface Installation {
  readonly postgresUrl: string;
  /** A schema of its own, dropped by {@link dropSchema}. */
  readonly schema: string;
  /** One master key for all (base64 of 32 bytes). */
  readonly masterKey: string;
  /** The same `publicUrl` on every replica: the issuer of every token. */
  readonly publicUrl: string;
}

/** A running (or killed) `tessera server` replica on a fixed port. */
export interface ServerReplica {
  /** `http://127.0.0.1:{port}`: its plain-HTTP listener. */
  readonly url: string;
  readonly dataDir: string;
  readonly tenantId: string;
  readonly subscriptionId: string;
  process: TesseraProcess;
  /** SIGKILL, and waits for the exit. */
  kill(): Promise<void>;
  /** Starts the replica again on its port and data directory; resolves once it is ready. */
  restart(): Promise<void>;
  /** SIGTERM (then SIGKILL), and waits for the exit. */
  stop(): Promise<void>;
}

/** `tessera server` for `installation` on `port` in `dataDir`, once its ready line is printed. */
async function spawnReplica(
  installation: Installation,
  port: number,
  dataDir: string,
): Promise<TesseraProcess> {
  const settings = [
    `server.port=${port}`,
    'server.httpsPort=0',
    'store.driver=postgres',
    `store.postgres.url=${installation.postgresUrl}`,
    `store.postgres.schema=${installation.schema}`,
    `masterKey=${installation.masterKey}`,
    `publicUrl=${installation.publicUrl}`,
    'log.level=warn',
  ];
  const args = ['server', '--data-dir', dataDir, ...settings.flatMap((s) => ['--set', s])];
  const proc = spawnTessera(`tessera server :${port}`, args);
  try {
    await untilReady(proc, /^tessera server: ready at \S+/m);
  } catch (error) {
    await stopTessera(proc);
    throw error;
  }
  return proc;
}

/** Kills `proc` with SIGKILL unless it has exited, and waits for the exit. */
async function killProcess(proc: TesseraProcess): Promise<void> {
  const { child } = proc;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/**
 * Starts a replica of `installation` on `port` with a data directory of its own (the first to
 * start on an empty schema makes the tenant, the subscription and the administrator, whose
 * secret only its directory holds). `cleanups` gets what removes it again.
 */
export async function startReplica(
  installation: Installation,
  port: number,
  cleanups: (() => Promise<void>)[],
): Promise<ServerReplica> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tessera-replica-'));
  let proc: TesseraProcess | undefined;
  cleanups.push(async () => {
    if (proc !== undefined) await stopTessera(proc);
    await rm(dataDir, { recursive: true, force: true });
  });
  proc = await spawnReplica(installation, port, dataDir);
  const banner = proc.stdout;
  const replica: ServerReplica = {
    // The banner names the public URL; the agent is given each replica's own.
    url: `http://127.0.0.1:${port}`,
    dataDir,
    tenantId: field(banner, /^\s+tenant:\s+(\S+)$/m, 'tenant'),
    subscriptionId: field(banner, /^\s+subscription:\s+(\S+)$/m, 'subscription'),
    process: proc,
    kill: () => killProcess(replica.process),
    async restart() {
      proc = await spawnReplica(installation, port, dataDir);
      replica.process = proc;
    },
    stop: () => stopTessera(replica.process),
  };
  return replica;
}

/** A running `tessera agent` with several server URLs. */
export interface FailoverAgent {
  readonly imdsUrl: string;
  readonly metricsUrl: string;
  readonly process: TesseraProcess;
}

/** Starts `tessera agent` joined with `joinToken`, given `serverUrls` in order. */
export async function startAgent(
  serverUrls: readonly string[],
  joinToken: string,
  cleanups: (() => Promise<void>)[],
): Promise<FailoverAgent> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tessera-failover-agent-'));
  const settings = [
    `agent.serverUrl=${serverUrls.join(',')}`,
    `agent.joinToken=${joinToken}`,
    'agent.imds.port=0',
    'agent.metrics.port=0',
  ];
  const args = ['agent', '--data-dir', dataDir, '--imds-rate-limit', 'off'];
  const proc = spawnTessera('tessera agent', [...args, ...settings.flatMap((s) => ['--set', s])]);
  cleanups.push(() =>
    closeAll(
      () => stopTessera(proc),
      () => rm(dataDir, { recursive: true, force: true }),
    ),
  );
  const banner = await untilReady(proc, /^tessera agent: ready/m);
  return {
    imdsUrl: field(banner, /^\s+IMDS:\s+(\S+)$/m, 'IMDS URL'),
    metricsUrl: field(banner, /^\s+metrics:\s+(\S+)$/m, 'metrics URL'),
    process: proc,
  };
}

/** Drops `schema` and everything in it. */
export async function dropSchema(postgresUrl: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    await client.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await client.end();
  }
}
