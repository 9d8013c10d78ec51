// The data directory: owner-only permissions and a master key generated once, shared by racers.
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ensureDataDir,
  loadOrCreateMasterKey,
  MASTER_KEY_FILE,
  writeSecretFile,
} from './data-dir.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tessera-datadir-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

describe('ensureDataDir', () => {
  it('creates nested directories with mode 0700 and tightens an existing one', async () => {
    const dir = join(root, 'a', 'b');
    await ensureDataDir(dir);
    expect(await mode(dir)).toBe(0o700);
    await chmod(dir, 0o755);
    await ensureDataDir(dir);
    expect(await mode(dir)).toBe(0o700);
  });

  it('refuses a path that is a file', async () => {
    const file = join(root, 'f');
    await writeFile(file, '');
    await expect(ensureDataDir(file)).rejects.toMatchObject({ code: 'ConfigInvalid' });
  });
});

describe('writeSecretFile', () => {
  it('writes with mode 0600 and leaves no temporary file', async () => {
    const file = join(root, 'k');
    await writeSecretFile(file, 'one');
    await writeSecretFile(file, 'two');
    expect(await readFile(file, 'utf8')).toBe('two');
    expect(await mode(file)).toBe(0o600);
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(root)).toEqual(['k']);
  });

  it('does not replace an existing file when overwrite is false', async () => {
    const file = join(root, 'k');
    await writeSecretFile(file, 'first');
    await expect(writeSecretFile(file, 'second', { overwrite: false })).rejects.toMatchObject({
      code: 'EEXIST',
    });
    expect(await readFile(file, 'utf8')).toBe('first');
  });
});

describe('loadOrCreateMasterKey', () => {
  it('uses a configured key, never touching the data dir', async () => {
    const configured = Buffer.alloc(32, 1).toString('base64');
    const dataDir = join(root, 'unused');
    const key = await loadOrCreateMasterKey({ dataDir, configured, allowGenerate: true });
    expect(key).toEqual({ key: Buffer.alloc(32, 1), source: 'config' });
    await expect(stat(dataDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('generates a key once, 0600 in a 0700 dir, then reads it back', async () => {
    const dataDir = join(root, 'data');
    const first = await loadOrCreateMasterKey({ dataDir, allowGenerate: true });
    expect(first.source).toBe('generated');
    expect(first.key).toHaveLength(32);
    expect(await mode(dataDir)).toBe(0o700);
    expect(await mode(join(dataDir, MASTER_KEY_FILE))).toBe(0o600);
    const second = await loadOrCreateMasterKey({ dataDir, allowGenerate: true });
    expect(second).toEqual({ key: first.key, source: 'file' });
  });

  it('gives every concurrent caller the same key', async () => {
    const dataDir = join(root, 'race');
    const keys = await Promise.all(
      Array.from({ length: 8 }, () => loadOrCreateMasterKey({ dataDir, allowGenerate: true })),
    );
    expect(keys.filter((k) => k.source === 'generated')).toHaveLength(1);
    for (const k of keys) expect(k.key.equals(keys[0]!.key)).toBe(true);
  });

  it('refuses a key file readable by others, a malformed one, or none when not allowed', async () => {
    const dataDir = join(root, 'strict');
    await expect(loadOrCreateMasterKey({ dataDir, allowGenerate: false })).rejects.toThrow(
      /masterKey is required/,
    );
    await loadOrCreateMasterKey({ dataDir, allowGenerate: true });
    const file = join(dataDir, MASTER_KEY_FILE);
    await chmod(file, 0o644);
    await expect(loadOrCreateMasterKey({ dataDir, allowGenerate: true })).rejects.toThrow(
      /readable by group or others \(mode 0644\)/,
    );
    await chmod(file, 0o600);
    await writeFile(file, 'not a key\n');
    await expect(loadOrCreateMasterKey({ dataDir, allowGenerate: true })).rejects.toThrow(
      /does not contain base64 of exactly 32 bytes/,
    );
  });
});
