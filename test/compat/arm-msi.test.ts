// Compatibility: the real @azure/arm-msi client with @azure/identity's ClientSecretCredential,
// run in a child process against an in-process Tessera over HTTPS from its local CA.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/config/logger.js';
import type { Store } from '../../src/core/ports.js';
import { ensureAdministrator } from '../../src/server/bootstrap.js';
import { type RunningServer, startServer } from '../../src/server/runtime.js';
import { openStore } from '../../src/store/index.js';
import { TEST_MASTER_KEY } from '../fixtures/keys.js';

const CLIENT_SCRIPT = fileURLToPath(new URL('./arm-msi-client.ts', import.meta.url));
const CHILD_TIMEOUT_MS = 25_000;
const GROUP = 'compat-rg';
const UAI = 'Microsoft.ManagedIdentity/userAssignedIdentities';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The SDK's `Identity` model, as far as the test reads it. */
interface SdkIdentity {
  id: string;
  name: string;
  type: string;
  location: string;
  tags?: Record<string, string>;
  principalId: string;
  clientId: string;
  tenantId: string;
}

interface ChildOutput {
  ok: boolean;
  step?: string;
  error?: unknown;
  results: {
    created?: SdkIdentity;
    kept?: SdkIdentity;
    got?: SdkIdentity;
    inGroup?: string[];
    inSubscription?: string[];
    updated?: SdkIdentity;
    deleted?: boolean;
    afterDelete?: { name?: string; code?: string; statusCode?: number; found?: boolean };
  };
}

/** Client processes still running, killed in `afterAll` should a hook time out before they end. */
const running = new Set<ChildProcess>();

/** Runs the client script with `env`; kills it after `CHILD_TIMEOUT_MS`. */
function runClient(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLIENT_SCRIPT], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, CHILD_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      running.delete(child);
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('compatibility: @azure/arm-msi with ClientSecretCredential over HTTPS', () => {
  let dir: string;
  let store: Store;
  let server: RunningServer;
  let output: ChildOutput;
  /** What beforeAll has acquired, undone in reverse, so a failed start still cleans up. */
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-compat-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const config = loadConfig({
      env: {},
      cwd: dir,
      flags: { 'server.port': 0, 'server.httpsPort': 0 },
    });
    ({ store } = await openStore({
      database: { driver: 'sqlite', file: config.store.sqlite.file },
      masterKey: TEST_MASTER_KEY,
    }));
    cleanups.push(() => store.close());
    server = await startServer({
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
    const secretFile = administrator.secretFile ?? '';
    const httpsUrl = server.httpsUrl ?? '';
    const caFile = server.caFile ?? '';

    // arm-msi has no resource groups, so the group is made over the ARM API with the same secret.
    const token = await fetch(`${server.url}/${server.tenant.id}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: administrator.principal.appId,
        client_secret: (await readFile(secretFile, 'utf8')).trim(),
        scope: 'https://management.azure.com/.default',
      }).toString(),
    });
    const { access_token: admin } = (await token.json()) as { access_token: string };
    const group = await fetch(
      `${server.url}/subscriptions/${server.subscriptionId}/resourceGroups/${GROUP}?api-version=2021-04-01`,
      {
        method: 'PUT',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ location: 'westeurope' }),
      },
    );
    expect(group.status).toBe(201);

    const run = await runClient({
      NODE_EXTRA_CA_CERTS: caFile,
      TESSERA_COMPAT_URL: httpsUrl,
      TESSERA_COMPAT_TENANT_ID: server.tenant.id,
      TESSERA_COMPAT_CLIENT_ID: administrator.principal.appId,
      TESSERA_COMPAT_SECRET_FILE: secretFile,
      TESSERA_COMPAT_SUBSCRIPTION_ID: server.subscriptionId,
      TESSERA_COMPAT_RESOURCE_GROUP: GROUP,
    });
    const line = run.stdout.trim().split('\n').at(-1) ?? '';
    if (!line.startsWith('{')) {
      throw new Error(`the client printed no result (exit ${String(run.code)}): ${run.stderr}`);
    }
    output = JSON.parse(line) as ChildOutput;
  }, 60_000);

  afterAll(async () => {
    for (const child of running) child.kill('SIGKILL');
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  const groupId = (): string => `/subscriptions/${server.subscriptionId}/resourceGroups/${GROUP}`;
  const idOf = (name: string): string => `${groupId()}/providers/${UAI}/${name}`;

  it('runs every call to the end', () => {
    expect(output.error).toBeUndefined();
    expect(output.ok).toBe(true);
  });

  it('createOrUpdate returns the identity with its principal, client and tenant ids', async () => {
    const created = output.results.created!;
    expect(created).toMatchObject({
      id: idOf('id1'),
      name: 'id1',
      type: UAI,
      location: 'westeurope',
      tenantId: server.tenant.id,
    });
    expect(created.tags).toEqual({ a: 'b' });
    expect(created.principalId).toMatch(GUID);
    expect(created.clientId).toMatch(GUID);
    // id1 is gone by now; id2, made the same way, shows what its principal looks like.
    const kept = output.results.kept!;
    const principal = await store.principals.get(kept.principalId);
    expect(principal).toMatchObject({
      appId: kept.clientId,
      tenantId: server.tenant.id,
      type: 'ManagedIdentity',
      alternativeNames: [idOf('id2')],
    });
  });

  it('get returns what createOrUpdate did', () => {
    const { created, got } = output.results;
    expect(got?.principalId).toMatch(GUID);
    expect(got).toEqual(created);
  });

  it('lists by group and by subscription', () => {
    expect(output.results.inGroup?.toSorted()).toEqual(['id1', 'id2']);
    expect(output.results.inSubscription?.toSorted()).toEqual([idOf('id1'), idOf('id2')]);
  });

  it('update replaces the tags and keeps the ids', () => {
    const { created, updated } = output.results;
    expect(updated?.tags).toEqual({ a: 'c', d: 'e' });
    expect(updated).toMatchObject({
      id: idOf('id1'),
      principalId: created?.principalId,
      clientId: created?.clientId,
      tenantId: server.tenant.id,
    });
  });

  it('delete removes the identity and its principal; get then fails with ResourceNotFound', async () => {
    expect(output.results.deleted).toBe(true);
    expect(output.results.afterDelete).toEqual({
      name: 'RestError',
      code: 'ResourceNotFound',
      statusCode: 404,
    });
    const created = output.results.created!;
    expect(await store.principals.get(created.principalId)).toBeUndefined();
    expect(await store.principals.getByAlternativeName(idOf('id1'))).toBeUndefined();
  });
});
