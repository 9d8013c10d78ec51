// A running server with its ARM surface, an administrator's token, and a small ARM client.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/config/logger.js';
import type { Principal } from '../../src/core/model.js';
import type { Store } from '../../src/core/ports.js';
import { type RunningServer, startServer } from '../../src/server/runtime.js';
import { databaseOptionsFrom, openStore } from '../../src/store/index.js';
import { TEST_MASTER_KEY } from '../fixtures/keys.js';
import { administratorToken, clientCredentialsToken } from '../fixtures/admin.js';

export interface ArmResult {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown> | undefined;
}

export interface ArmHarness {
  readonly server: RunningServer;
  readonly store: Store;
  /** The first subscription's id. */
  readonly sub: string;
  /** A management token of the administrator (Owner at `/`). */
  readonly admin: string;
  /** Gets a token with a client secret from the server's v2 token endpoint. */
  token(clientId: string, secret: string, scope?: string): Promise<string>;
  /** A new Application principal with no roles, and a management token for it. */
  newClient(displayName: string): Promise<{ principal: Principal; token: string }>;
  /** Calls the ARM surface; a string body is sent as is, anything else as JSON. */
  arm(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<ArmResult>;
  /**
   * Creates hosts with exactly these ids (each named as its id, never registered), skipping any
   * that exist, so a VM or scale-set instance can be placed on them (`properties.tessera.hostId`).
   */
  hosts(...ids: string[]): Promise<void>;
  close(): Promise<void>;
}

/** The `error.code` of an ARM error body. */
export const errorCode = (body: Record<string, unknown> | undefined): unknown =>
  (body?.error as { code?: string } | undefined)?.code;

/**
 * Writes hosts with exactly these ids to the store, each named as its id (names are unique),
 * skipping ids that exist: ARM places a VM only on a host that exists.
 */
export async function createHosts(store: Store, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    if ((await store.hosts.get(id)) !== undefined) continue;
    await store.hosts.create({
      id,
      name: id,
      joinTokenHash: null,
      certificateThumbprint: null,
      registeredAt: null,
      lastSeenAt: null,
      createdAt: Date.now(),
    });
  }
}

/**
 * Starts a server on SQLite in a temp dir (or in `options.dir`, which is then kept at close, so a
 * test can start the server again on the same data), with its administrator's token; `flags` are
 * configuration keys set as `--set` would.
 */
export async function startArm(
  options: { dir?: string; flags?: Readonly<Record<string, unknown>> } = {},
): Promise<ArmHarness> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'tessera-arm-')));
  const config = loadConfig({ env: {}, cwd: dir, flags: { 'server.port': 0, ...options.flags } });
  // SQLite in the temp dir unless `flags` choose another store (`store.driver`, `store.postgres`).
  const { store } = await openStore({
    database: databaseOptionsFrom(config),
    masterKey: TEST_MASTER_KEY,
  });
  const server = await startServer({ config, store, logger: createLogger({ level: 'silent' }) });

  const token = (clientId: string, secret: string, scope?: string): Promise<string> =>
    clientCredentialsToken(server, clientId, secret, scope);
  const admin = await administratorToken(server, store, dir);

  return {
    server,
    store,
    sub: server.subscriptionId,
    admin,
    token,
    async newClient(displayName) {
      const principal = await server.services.directory.createPrincipal({
        tenantId: server.tenant.id,
        displayName,
        type: 'Application',
      });
      const { secret } = await server.services.directory.addClientSecret(principal.objectId);
      return { principal, token: await token(principal.appId, secret) };
    },
    async arm(method, path, options = {}) {
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers: {
          ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...options.headers,
        },
        ...(options.body === undefined
          ? {}
          : {
              body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
            }),
      });
      const text = await response.text();
      return {
        status: response.status,
        headers: response.headers,
        body: (text === '' ? undefined : JSON.parse(text)) as Record<string, unknown> | undefined,
      };
    },
    hosts: (...ids) => createHosts(store, ids),
    async close() {
      await server.close();
      await store.close();
      if (options.dir === undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}
