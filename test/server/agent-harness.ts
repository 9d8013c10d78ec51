// A running server on a given store backend, an administrator's token, and real agent-side keys and host assertions.
import { generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { expect } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/config/logger.js';
import type { Store } from '../../src/core/ports.js';
import { createCertificateSigningRequest, parseCertificate } from '../../src/core/keys/x509.js';
import { type RunningServer, startServer } from '../../src/server/runtime.js';
import { openStore } from '../../src/store/index.js';
import {
  AGENT_API_PREFIX,
  type CreatedHost,
  hostAssertionAudience,
  type RegisterResponse,
} from '../../src/wire/agent-api.js';
import { TEST_MASTER_KEY } from '../fixtures/keys.js';
import { administratorToken, clientCredentialsToken } from '../fixtures/admin.js';
import type { StoreTarget } from '../store/targets.js';
import { createHosts } from './arm-harness.js';

/** An answer: status, headers and the JSON body (undefined when empty). */
export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown> | undefined;
}

/** An EC P-256 key pair, as the agent makes them. */
export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** A host registered through the API: its key, its certificate and how to sign as it. */
export interface RegisteredHost {
  readonly id: string;
  readonly name: string;
  readonly keys: KeyPair;
  readonly registration: RegisterResponse;
  /** The host certificate (DER). */
  readonly der: Buffer;
  /** A host assertion; every part may be overridden to build a bad one. */
  assertion(overrides?: AssertionOverrides): Promise<string>;
  /** Calls the agent API as this host. */
  call(method: string, path: string, body?: unknown): Promise<Answer>;
}

export interface AssertionOverrides {
  readonly key?: KeyObject;
  readonly der?: Buffer;
  readonly sub?: string;
  readonly aud?: string;
  readonly iat?: number;
  readonly exp?: number;
}

export interface AgentHarness {
  readonly server: RunningServer;
  readonly store: Store;
  readonly sub: string;
  readonly tenantId: string;
  /** A management token of the administrator (Owner at `/`). */
  readonly admin: string;
  /** Gets a management token with a client secret. */
  token(clientId: string, secret: string): Promise<string>;
  /** Calls the ARM surface with the administrator's token unless another is given. */
  arm(method: string, path: string, body?: unknown, token?: string): Promise<Answer>;
  /** Calls the agent API (`path` below the prefix) with the given headers. */
  agent(
    method: string,
    path: string,
    options?: { body?: unknown; headers?: Record<string, string> },
  ): Promise<Answer>;
  /** Creates host `name` through the API and registers it with a new key. */
  newHost(name: string): Promise<RegisteredHost>;
  /**
   * Writes hosts with exactly these ids (each named as its id, never registered) to the store,
   * skipping any that exist, so ARM can place VMs on them.
   */
  hosts(...ids: string[]): Promise<void>;
  close(): Promise<void>;
}

/** A new EC P-256 key pair. */
export const ecKeys = (): KeyPair => generateKeyPairSync('ec', { namedCurve: 'P-256' });

/** A PKCS#10 CSR (PEM) for `keys`. */
export const csrFor = (keys: KeyPair): Promise<string> =>
  createCertificateSigningRequest({ ...keys, commonName: 'agent' });

/** The `error.code` of an error body. */
export const errorCode = (answer: Answer): unknown =>
  (answer.body?.error as { code?: string } | undefined)?.code;

async function answer(response: Response): Promise<Answer> {
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text === '' ? undefined : JSON.parse(text)) as Record<string, unknown> | undefined,
  };
}

/**
 * Starts a server on `target`'s store, with its administrator's token; `flags` are configuration
 * keys set as `--set` would (`publicUrl`, `server.port` for a second replica). The data directory
 * is a temp dir, or `options.dir` (kept at close: a second replica shares the administrator).
 */
export async function startAgentServer(
  target: StoreTarget,
  options: { dir?: string; flags?: Readonly<Record<string, unknown>> } = {},
): Promise<AgentHarness> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'tessera-agent-api-')));
  const database = await target.create();
  const flags = { 'server.port': 0, ...options.flags };
  const config = loadConfig({ env: {}, cwd: dir, flags });
  const { store } = await openStore({ database: database.options, masterKey: TEST_MASTER_KEY });
  const server = await startServer({ config, store, logger: createLogger({ level: 'silent' }) });
  const tenantId = server.tenant.id;

  const token = (clientId: string, secret: string): Promise<string> =>
    clientCredentialsToken(server, clientId, secret);
  const admin = await administratorToken(server, store, dir);

  const send = async (
    path: string,
    method: string,
    body: unknown,
    headers: Record<string, string>,
  ): Promise<Answer> =>
    answer(
      await fetch(`${server.url}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    );
  const agent: AgentHarness['agent'] = (method, path, options = {}) =>
    send(`${AGENT_API_PREFIX}${path}`, method, options.body, options.headers ?? {});

  const audience = hostAssertionAudience(server.url);
  async function newHost(name: string): Promise<RegisteredHost> {
    const created = await agent('PUT', `/hosts/${name}`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(created.status).toBe(201);
    const { id, joinToken } = created.body as unknown as CreatedHost;
    const keys = ecKeys();
    const registered = await agent('POST', '/register', {
      body: { joinToken, csr: await csrFor(keys) },
    });
    expect(registered.status).toBe(200);
    const registration = registered.body as unknown as RegisterResponse;
    const der = parseCertificate(registration.certificate).der;
    const assertion = async (o: AssertionOverrides = {}): Promise<string> => {
      const now = Math.floor(Date.now() / 1000);
      const iat = o.iat ?? now;
      return new SignJWT({ jti: randomUUID() })
        .setProtectedHeader({ alg: 'ES256', x5c: [(o.der ?? der).toString('base64')] })
        .setSubject(o.sub ?? id)
        .setAudience(o.aud ?? audience)
        .setIssuedAt(iat)
        .setExpirationTime(o.exp ?? iat + 300)
        .sign(o.key ?? keys.privateKey);
    };
    return {
      id,
      name,
      keys,
      registration,
      der,
      assertion,
      call: async (method, path, body) =>
        agent(method, path, {
          body,
          headers: { authorization: `TesseraHost ${await assertion()}` },
        }),
    };
  }

  return {
    server,
    store,
    sub: server.subscriptionId,
    tenantId,
    admin,
    token,
    arm: (method, path, body, bearer = admin) =>
      send(path, method, body, { authorization: `Bearer ${bearer}` }),
    agent,
    newHost,
    hosts: (...ids) => createHosts(store, ids),
    async close() {
      await server.close();
      await store.close();
      await database.dispose();
      if (options.dir === undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}
