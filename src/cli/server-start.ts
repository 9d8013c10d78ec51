// What `tessera server` and `tessera up` share: the store opened with the master key, and `tessera server` itself.
import { join } from 'node:path';
import {
  ADMIN_LOGIN_FILE,
  ensureDataDir,
  loadConfigOrExit,
  loadOrCreateMasterKey,
  MASTER_KEY_FILE,
  type TesseraConfig,
} from '../config/index.js';
import { createLogger } from '../config/logger.js';
import type { Store } from '../core/ports.js';
import {
  databaseOptionsFrom,
  lockSqliteServer,
  openStore,
  type SqliteServerLock,
} from '../store/index.js';
import { type ConfigFlagOptions, loadOptionsFrom } from './flags.js';
import type { ServerLauncher } from './server-launcher.js';
import { untilSignal } from './signals.js';

/**
 * What to tell the operator when a master key was made: where it is and that it must be backed
 * up. Two lines.
 */
export function newMasterKeyNotice(file: string): string {
  return [
    `tessera: new master key ${file}: it encrypts every secret Tessera stores; back it up, without it they cannot be recovered`,
    'tessera: in production set TESSERA_MASTER_KEY instead (32 random bytes, base64: openssl rand -base64 32)',
    '',
  ].join('\n');
}

/** An opened, migrated store and how it was opened. */
export interface ServerStore {
  readonly store: Store;
  readonly applied: readonly string[];
  /** `SQLite <file>` or `PostgreSQL schema <name>`, for the banner. */
  readonly where: string;
  readonly masterKeySource: 'config' | 'file' | 'generated';
}

/**
 * On SQLite, takes the lock that keeps the database to one server ({@link lockSqliteServer}):
 * fails with `ConfigInvalid` (one line) while another `tessera server` or `tessera up` serves it.
 * None on PostgreSQL, which serves replicas (they agree through the installation record).
 */
export function lockServerStore(config: TesseraConfig): SqliteServerLock | undefined {
  const { driver, sqlite } = config.store;
  return driver === 'sqlite' && sqlite.file !== ':memory:'
    ? lockSqliteServer(sqlite.file)
    : undefined;
}

/**
 * Loads (or, on an embedded SQLite install, makes once) the master key and opens and migrates
 * the store; the caller says so when a key was made ({@link newMasterKeyNotice}). Replicas
 * sharing PostgreSQL must be given one key: none is made for them. On SQLite the server's `lock`
 * ({@link lockServerStore}, taken here unless given) is held until the store closes.
 */
export async function openServerStore(
  config: TesseraConfig,
  lock: SqliteServerLock | undefined = lockServerStore(config),
): Promise<ServerStore> {
  const embedded = config.store.driver === 'sqlite';
  try {
    const masterKey = await loadOrCreateMasterKey({
      dataDir: config.dataDir,
      configured: config.masterKey,
      allowGenerate: embedded,
    });
    const { store, applied } = await openStore({
      database: databaseOptionsFrom(config),
      masterKey: masterKey.key,
    });
    const where = embedded
      ? `SQLite ${config.store.sqlite.file}`
      : `PostgreSQL schema ${config.store.postgres.schema}`;
    return {
      store: lock === undefined ? store : releasingOnClose(store, lock),
      applied,
      where,
      masterKeySource: masterKey.source,
    };
  } catch (error) {
    lock?.release();
    throw error;
  }
}

/** `store`, whose `close` also releases `lock`. */
function releasingOnClose(store: Store, lock: SqliteServerLock): Store {
  return {
    ...store,
    close: async () => {
      try {
        await store.close();
      } finally {
        lock.release();
      }
    },
  };
}

/**
 * `tessera server`: the directory and token issuer, ARM, the Key Vault data plane and the agent
 * API, without an agent (hosts run `tessera agent`). HTTPS with `server.tls`, else HTTP plus
 * HTTPS from a local CA on `server.httpsPort`, started with `launchServer`. Prints where it listens
 * and runs until SIGINT or SIGTERM. A bad configuration exits with status 2 and one line on stderr.
 */
export async function runServer(
  options: ConfigFlagOptions,
  launchServer: ServerLauncher,
): Promise<void> {
  const config = loadConfigOrExit(loadOptionsFrom(options));
  await ensureDataDir(config.dataDir);
  const { store, applied, where, masterKeySource } = await openServerStore(config);
  if (masterKeySource === 'generated') {
    process.stderr.write(newMasterKeyNotice(join(config.dataDir, MASTER_KEY_FILE)));
  }
  const logger = createLogger({ level: config.log.level, name: 'tessera-server' });
  const localTls = config.server.tls.certFile === undefined;
  // A refused start (this replica disagrees with the installation) ends the process: close the
  // store, whose connections (and, on SQLite, its lock) would otherwise outlive the refusal.
  const server = await launchServer({ config, store, logger, localTls }).catch(
    async (error: unknown) => {
      await store.close();
      throw error;
    },
  );
  process.stdout.write(
    [
      `tessera server: store ready (${where}; ${applied.length} migration(s) applied)`,
      `  tenant:         ${server.tenant.id}`,
      `  subscription:   ${server.subscriptionId}`,
      `  administrator:  client id ${server.administrator.appId} (${join(config.dataDir, ADMIN_LOGIN_FILE)})`,
      ...(server.httpsUrl === undefined || server.httpsUrl === server.url
        ? []
        : [`  HTTPS:          ${server.httpsUrl} (CA ${server.caFile ?? 'configured'})`]),
      `tessera server: ready at ${server.url} (Ctrl-C to stop)`,
      '',
    ].join('\n'),
  );
  await untilSignal();
  await server.close();
  await store.close();
  process.stdout.write('tessera server: stopped\n');
}
