// `tessera keyvault list|show|delete` and `keyvault secret list -o table`, as an operator runs them against one real `tessera server`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  json,
  oneLine,
  type Result,
  run,
  type ServerUnderTest,
  startServer,
  stop,
} from './cli-harness.js';

let dir: string;
let server: ServerUnderTest;

/** Runs `tessera ...args` against the server as its administrator. */
const tessera = (...args: string[]): Promise<Result> => run([...args, ...server.flags]);

const expectQuiet = (result: Result): void => {
  expect([result.code, result.stdout, result.stderr]).toEqual([0, '', '']);
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-cli-vaults-'));
  server = await startServer(join(dir, 'server'));
  const groups = await Promise.all([
    tessera('group', 'create', '-n', 'vaults-a', '-l', 'westeurope', '-o', 'none'),
    tessera('group', 'create', '-n', 'vaults-b', '-l', 'northeurope', '-o', 'none'),
  ]);
  groups.forEach(expectQuiet);
  const vaults = await Promise.all([
    tessera('keyvault', 'create', '-n', 'kv-alpha', '-g', 'vaults-a', '-o', 'none'),
    tessera('keyvault', 'create', '-n', 'kv-beta', '-g', 'vaults-b', '-o', 'none'),
  ]);
  for (const vault of vaults) expect(vault.code).toBe(0);
}, 180_000);

afterAll(async () => {
  await stop(server.child);
  await rm(dir, { recursive: true, force: true });
});

describe('tessera keyvault list|show|delete', { timeout: 300_000 }, () => {
  it('lists the vaults of the subscription or of a group, as json, table and with --query', async () => {
    const [all, inGroup, table] = await Promise.all([
      tessera('keyvault', 'list', '--query', '[].name', '-o', 'tsv'),
      tessera('keyvault', 'list', '-g', 'vaults-a'),
      tessera('keyvault', 'list', '-o', 'table'),
    ]);
    expect(all.stdout.trimEnd().split('\n').sort()).toEqual(['kv-alpha', 'kv-beta']);
    const listed = json(inGroup) as unknown as Record<string, unknown>[];
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({
      name: 'kv-alpha',
      location: 'westeurope',
      resourceGroup: 'vaults-a',
      type: 'Microsoft.KeyVault/vaults',
      properties: { enableRbacAuthorization: true },
    });
    // az's table of vaults: the scalar fields, sorted, without id and type.
    const rows = table.stdout.trimEnd().split('\n');
    expect(rows[0]).toBe('Location     Name      ResourceGroup');
    expect(rows.slice(2).sort()).toEqual([
      'northeurope  kv-beta   vaults-b',
      'westeurope   kv-alpha  vaults-a',
    ]);
  });

  it('shows a vault with or without its group, and says in one line when there is none', async () => {
    const [found, inGroup, missing, wrongGroup] = await Promise.all([
      tessera('keyvault', 'show', '-n', 'kv-beta'),
      tessera(
        'keyvault',
        'show',
        '-n',
        'kv-beta',
        '-g',
        'vaults-b',
        '--query',
        'properties.vaultUri',
        '-o',
        'tsv',
      ),
      tessera('keyvault', 'show', '-n', 'kv-none'),
      tessera('keyvault', 'show', '-n', 'kv-beta', '-g', 'vaults-a'),
    ]);
    const vault = json(found);
    expect(vault).toMatchObject({ name: 'kv-beta', resourceGroup: 'vaults-b' });
    expect(inGroup.stdout).toBe(`${(vault.properties as { vaultUri: string }).vaultUri}\n`);
    expect(missing.code).toBe(1);
    expect(oneLine(missing)).toBe(
      "tessera: ResourceNotFound: The Vault 'kv-none' not found within subscription.",
    );
    expect(wrongGroup.code).toBe(1);
    expect(oneLine(wrongGroup)).toMatch(/^tessera: ResourceNotFound: .*kv-beta/);
  });

  it('deletes a vault without a word, found by its name alone or in its group', async () => {
    await tessera('keyvault', 'create', '-n', 'kv-gamma', '-g', 'vaults-a', '-o', 'none');
    await tessera('keyvault', 'create', '-n', 'kv-delta', '-g', 'vaults-b', '-o', 'none');
    const [byName, inGroup] = await Promise.all([
      tessera('keyvault', 'delete', '-n', 'kv-gamma'),
      tessera('keyvault', 'delete', '-n', 'kv-delta', '-g', 'vaults-b'),
    ]);
    expectQuiet(byName);
    expectQuiet(inGroup);
    const [list, gone] = await Promise.all([
      tessera('keyvault', 'list', '--query', '[].name', '-o', 'tsv'),
      tessera('keyvault', 'delete', '-n', 'kv-gamma'),
    ]);
    expect(list.stdout.trimEnd().split('\n').sort()).toEqual(['kv-alpha', 'kv-beta']);
    expect(gone.code).toBe(1);
    expect(oneLine(gone)).toBe(
      "tessera: ResourceNotFound: The Vault 'kv-gamma' not found within subscription.",
    );
  });
});

describe('tessera keyvault secret list -o table', { timeout: 300_000 }, () => {
  it("prints az's columns, one row per secret, never a value", async () => {
    const set = await Promise.all(
      ['db-password', 'api-key'].map((name) =>
        tessera(
          'keyvault',
          'secret',
          'set',
          '--vault-name',
          'kv-alpha',
          '-n',
          name,
          '--value',
          `value-of-${name}`,
          '-o',
          'none',
        ),
      ),
    );
    set.forEach(expectQuiet);
    const [table, names] = await Promise.all([
      tessera('keyvault', 'secret', 'list', '--vault-name', 'kv-alpha', '-o', 'table'),
      tessera(
        'keyvault',
        'secret',
        'list',
        '--vault-name',
        'kv-alpha',
        '--query',
        '[].name',
        '-o',
        'tsv',
      ),
    ]);
    expect(table.code).toBe(0);
    const rows = table.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^Name +Id +Enabled$/);
    expect(rows[1]).toMatch(/^-+ {2}-+ {2}-+$/);
    expect(rows.slice(2).sort()).toEqual([
      expect.stringMatching(
        /^api-key {6}https?:\/\/kv-alpha\.vault\.localhost:\d+\/secrets\/api-key +True$/,
      ),
      expect.stringMatching(
        /^db-password {2}https?:\/\/kv-alpha\.vault\.localhost:\d+\/secrets\/db-password {2}True$/,
      ),
    ]);
    expect(table.stdout).not.toContain('value-of-');
    expect(names.stdout.trimEnd().split('\n').sort()).toEqual(['api-key', 'db-password']);
  });
});
