// Server replicas of one installation: they agree on its public URL, issuer and master key, or the odd one refuses to start.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/config/logger.js';
import { isAppError } from '../../src/core/errors.js';
import type { Store } from '../../src/core/ports.js';
import { freePort, type RunningServer, startServer } from '../../src/server/runtime.js';
import { databaseOptionsFrom, openStore } from '../../src/store/index.js';
import { administratorToken } from '../fixtures/admin.js';
import { OTHER_MASTER_KEY, TEST_MASTER_KEY } from '../fixtures/keys.js';
import { postgresUrl } from '../store/targets.js';

const logger = createLogger({ level: 'silent' });

/** A replica that started, or the one line it refused with. */
type Started =
  | { readonly ok: true; readonly server: RunningServer; readonly store: Store }
  | { readonly ok: false; readonly message: string; readonly store: Store };

/** Starts replicas on one database; closes them all, and removes what it made, at the end. */
function replicas(database: () => Record<string, unknown>) {
  let dir = '';
  const open: { server?: RunningServer; store: Store }[] = [];
  return {
    dir: () => dir,
    async setUp() {
      dir = await mkdtemp(join(tmpdir(), 'tessera-installation-'));
    },
    async tearDown() {
      for (const { server, store } of open.splice(0).reverse()) {
        await server?.close();
        await store.close();
      }
      await rm(dir, { recursive: true, force: true });
    },
    /** Starts a server with `flags` on the database (on OS ports), as `tessera server` would. */
    async start(
      flags: Record<string, unknown> = {},
      masterKey = TEST_MASTER_KEY,
    ): Promise<Started> {
      const config = loadConfig({
        env: {},
        cwd: dir,
        flags: { 'server.port': 0, ...database(), ...flags },
      });
      const { store } = await openStore({ database: databaseOptionsFrom(config), masterKey });
      const entry: { server?: RunningServer; store: Store } = { store };
      open.push(entry);
      try {
        entry.server = await startServer({ config, store, logger });
        return { ok: true, server: entry.server, store };
      } catch (error) {
        if (!isAppError(error) || error.code !== 'ConfigInvalid') throw error;
        return { ok: false, message: error.message, store };
      }
    },
  };
}

function started(result: Started): RunningServer {
  if (!result.ok) throw new Error(`refused: ${result.message}`);
  return result.server;
}

function refused(result: Started): string {
  if (result.ok) throw new Error(`started at ${result.server.url}, expected a refusal`);
  expect(result.message.split('\n')).toHaveLength(1);
  return result.message;
}

/** `YYYY-MM-DD` of today, as the refusal dates the record. */
const today = (): string => new Date().toISOString().slice(0, 10);

const url = postgresUrl();

describe.skipIf(url === undefined)('replicas on one PostgreSQL schema', () => {
  let schema = '';
  const r = replicas(() => ({
    'store.driver': 'postgres',
    'store.postgres.url': url,
    'store.postgres.schema': schema,
    'store.postgres.poolMax': 4,
  }));
  beforeEach(async () => {
    schema = `tessera_installation_${randomBytes(4).toString('hex')}`;
    await r.setUp();
  });
  afterEach(async () => {
    await r.tearDown();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`drop schema if exists ${schema} cascade`);
    } finally {
      await client.end();
    }
  });

  it('with one publicUrl both start, and a token from one is accepted by the other', async () => {
    // Each replica listens on its own port; both answer as the public URL they agree on.
    const [portA, portB] = [await freePort('127.0.0.1'), await freePort('127.0.0.1')];
    const first = await r.start({ publicUrl: 'https://lb.example', 'server.port': portA });
    const a = started(first);
    const b = started(await r.start({ publicUrl: 'https://lb.example/', 'server.port': portB }));
    expect([a.url, b.url]).toEqual(['https://lb.example', 'https://lb.example']);
    expect(await first.store.installation.get()).toMatchObject({
      publicUrl: 'https://lb.example',
      issuer: null,
    });

    const listenerA = `http://127.0.0.1:${portA}`;
    const token = await administratorToken({ ...a, url: listenerA }, first.store, r.dir());
    expect(decodeJwt(token).iss).toBe(`https://lb.example/${a.tenant.id}/`);
    for (const listener of [listenerA, `http://127.0.0.1:${portB}`]) {
      const answer = await fetch(`${listener}/subscriptions?api-version=2022-12-01`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(answer.status).toBe(200);
    }
  });

  it('refuses a replica with another publicUrl, naming both, and keeps the record', async () => {
    const first = await r.start({ publicUrl: 'https://lb.example' });
    started(first);
    const message = refused(await r.start({ publicUrl: 'https://b.example:8444' }));
    expect(message).toBe(
      `invalid configuration: publicUrl is https://b.example:8444 but this installation's is https://lb.example (recorded in the database on ${today()}); set publicUrl=https://lb.example on every replica, or change it for every replica with \`tessera installation update\``,
    );
    expect(await first.store.installation.get()).toMatchObject({ publicUrl: 'https://lb.example' });
  });

  it("without publicUrl, refuses the second replica's own listener URL", async () => {
    const a = started(await r.start());
    const message = refused(await r.start());
    expect(message).toMatch(
      /^invalid configuration: publicUrl is not set \(so this server's URL is its listener's, http:\/\/127\.0\.0\.1:\d+\) but this installation's is /,
    );
    expect(message).toContain(`but this installation's is ${a.url} (`);
    expect(message).toContain(`set publicUrl=${a.url} on every replica`);
  });

  it('refuses another issuer template', async () => {
    started(await r.start({ publicUrl: 'https://lb.example' }));
    const message = refused(
      await r.start({
        publicUrl: 'https://lb.example',
        'server.tokens.issuer': 'https://sts.windows.net/{tenantId}/',
      }),
    );
    expect(message).toMatch(
      /^invalid configuration: server\.tokens\.issuer is https:\/\/sts\.windows\.net\/\{tenantId\}\/ but this installation's is not set .*; unset server\.tokens\.issuer on every replica/,
    );
  });

  it('refuses another master key without showing either key', async () => {
    const first = await r.start({ publicUrl: 'https://lb.example' });
    started(first);
    const message = refused(await r.start({ publicUrl: 'https://lb.example' }, OTHER_MASTER_KEY));
    expect(message).toMatch(
      /^invalid configuration: masterKey is not the key this installation's secrets are sealed with/,
    );
    const record = await first.store.installation.get();
    for (const secret of [
      TEST_MASTER_KEY.toString('base64'),
      OTHER_MASTER_KEY.toString('base64'),
      record?.masterKeyCheck ?? '-',
    ]) {
      expect(message).not.toContain(secret);
    }
  });

  it('of two first starts at once with different URLs, exactly one starts', async () => {
    const results = await Promise.all([
      r.start({ publicUrl: 'https://a.example' }),
      r.start({ publicUrl: 'https://b.example' }),
    ]);
    expect(results.filter((s) => s.ok)).toHaveLength(1);
    const winner = results.find((s) => s.ok);
    const loser = results.find((s) => !s.ok);
    const record = await results[0].store.installation.get();
    expect(winner?.ok === true && winner.server.url).toBe(record?.publicUrl);
    expect(loser === undefined ? '' : refused(loser)).toContain(
      `but this installation's is ${record?.publicUrl ?? '-'} (`,
    );
  });

  it('starts replicas with a new publicUrl once the record is changed, and refuses the old', async () => {
    const first = await r.start({ publicUrl: 'https://old.example' });
    started(first);
    await first.store.installation.update({ publicUrl: 'https://new.example', issuer: null }, 1);
    started(await r.start({ publicUrl: 'https://new.example' }));
    expect(refused(await r.start({ publicUrl: 'https://old.example' }))).toContain(
      "publicUrl is https://old.example but this installation's is https://new.example",
    );
  });
});

describe('a server on SQLite (one server)', () => {
  const r = replicas(() => ({ 'store.sqlite.file': join(r.dir(), 'tessera.db') }));
  beforeEach(() => r.setUp());
  afterEach(() => r.tearDown());

  it('follows its configuration when its URL or issuer changes across restarts', async () => {
    const first = await r.start();
    const a = started(first);
    await a.close();
    const second = await r.start({ 'server.tokens.issuer': 'https://sts.windows.net/{tenantId}/' });
    const b = started(second);
    expect(b.url).not.toBe(a.url);
    expect(await second.store.installation.get()).toMatchObject({
      publicUrl: b.url,
      issuer: 'https://sts.windows.net/{tenantId}/',
    });
  });

  it('refuses to start with another master key', async () => {
    started(await r.start());
    const message = refused(await r.start({}, OTHER_MASTER_KEY));
    expect(message).toMatch(/^invalid configuration: masterKey is not the key/);
    expect(message).toContain('give every replica the same masterKey (TESSERA_MASTER_KEY)');
  });
});
