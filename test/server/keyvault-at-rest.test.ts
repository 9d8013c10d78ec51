// Key Vault secrets at rest: sealed in the database file, and all there after a restart.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KV_SCOPE, KV_V, startKeyVault } from './keyvault-harness.js';

describe('Key Vault secrets at rest', () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('keeps every secret across a restart, and no value in clear in the database files', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-kv-rest-'));
    const value = `value-canary-${randomUUID()}`;
    const tag = `tag-canary-${randomUUID()}`;
    const first = await startKeyVault({ dir });
    const officer = { ...first.officer };
    const set = await first.kv('PUT', `/secrets/canary?${KV_V}`, {
      token: officer.token,
      body: { value, tags: { marker: tag } },
    });
    expect(set.status).toBe(200);
    const older = await first.kv('PUT', `/secrets/canary?${KV_V}`, {
      token: officer.token,
      body: { value: `${value}-2` },
    });
    expect(older.status).toBe(200);
    await first.close();

    const files = (await readdir(dir, { recursive: true })).filter((f) =>
      /(^|\/)tessera\.db/.test(f),
    );
    expect(files.length).toBeGreaterThan(0);
    const bytes = Buffer.concat(await Promise.all(files.map((f) => readFile(join(dir ?? '', f)))));
    // The row is in these files (its tag is not secret), its value is not.
    expect(bytes.includes(tag)).toBe(true);
    expect(bytes.includes(value)).toBe(false);

    const second = await startKeyVault({ dir });
    try {
      // A new port is a new issuer: the officer signs in again, with the same credential.
      officer.token = await second.token(officer.appId, officer.secret, KV_SCOPE);
      const latest = await second.kv('GET', `/secrets/canary?${KV_V}`, { token: officer.token });
      expect([latest.status, latest.body?.value]).toEqual([200, `${value}-2`]);
      const byVersion = await second.kv(
        'GET',
        new URL(String(set.body?.id)).pathname + `?${KV_V}`,
        {
          token: officer.token,
        },
      );
      expect(byVersion.body?.value).toBe(value);
    } finally {
      await second.close();
    }
  });
});
