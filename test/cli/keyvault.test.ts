// `tessera keyvault` as an operator runs it: a real `tessera up`, then the CLI against its address.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Child,
  oneLine,
  type Result,
  run,
  start,
  stop,
  until,
  upArgs,
} from './cli-harness.js';
import { adminArm } from '../fixtures/admin.js';

let dir: string;
let dataDir: string;
let up: Child;
let serverUrl: string;
let httpsUrl: string;

/** Runs `tessera keyvault ...args` against the running server as its administrator. */
const keyvault = (args: string[], env: Record<string, string> = {}): Promise<Result> =>
  run(['keyvault', ...args, '--data-dir', dataDir, '--server', serverUrl], env);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-cli-kv-'));
  dataDir = join(dir, 'data');
  up = start(upArgs(dataDir));
  await until(up, /ready at (\S+)/);
  serverUrl = /ready at (\S+)/.exec(up.output.stdout)?.[1] ?? '';
  httpsUrl = (JSON.parse(await readFile(join(dataDir, 'up.json'), 'utf8')) as { server: string })
    .server;
  await createGroup(GROUP);
});

/** The operator's own resource group (groups are made through ARM; the CLI has no command yet). */
const GROUP = 'kv-cli';

async function createGroup(name: string): Promise<void> {
  const { call, subscriptionId } = await adminArm(serverUrl, join(dataDir, 'admin.json'));
  const put = await call(
    'PUT',
    `/subscriptions/${subscriptionId}/resourceGroups/${name}?api-version=2021-04-01`,
    { location: 'northeurope' },
  );
  if (put.status !== 201) throw new Error(`group ${name}: ${put.status}`);
}

afterAll(async () => {
  if (up.exitCode === null) {
    await stop(up);
  }
  await rm(dir, { recursive: true, force: true });
});

describe('tessera keyvault', { timeout: 180_000 }, () => {
  it('creates a vault, then sets, shows, lists and deletes a secret in it', async () => {
    const created = await keyvault(['create', '-n', 'team-vault', '-g', GROUP]);
    expect(created.code).toBe(0);
    const vault = JSON.parse(created.stdout) as {
      name: string;
      location: string;
      properties: { vaultUri: string };
    };
    expect(vault.name).toBe('team-vault');
    // As `az`: in its group's location unless --location says otherwise.
    expect(vault.location).toBe('northeurope');
    expect(vault.properties.vaultUri).toMatch(/^https:\/\/team-vault\.vault\.localhost:\d+\/$/);
    expect(created.stderr).toMatch(/granted 'Key Vault Secrets Officer' on vault 'team-vault'/);
    // Creating it again changes nothing and grants nothing more.
    const again = await keyvault(['create', '-n', 'team-vault', '-g', GROUP]);
    expect([again.code, again.stderr]).toEqual([0, '']);

    const first = await keyvault([
      'secret',
      'set',
      '--vault-name',
      'team-vault',
      '-n',
      'db-password',
      '--value',
      'first-s3cret',
    ]);
    expect(first.code).toBe(0);
    expect(first.stdout).not.toContain('first-s3cret');
    const firstId = (JSON.parse(first.stdout) as { id: string }).id;
    const firstVersion = firstId.split('/').at(-1) ?? '';
    expect(firstId).toMatch(/\/secrets\/db-password\/[0-9a-f]{32}$/);

    const file = join(dir, 'value.txt');
    await writeFile(file, 'second s3cret\nwith two lines');
    const second = await keyvault([
      'secret',
      'set',
      '--vault-name',
      'team-vault',
      '-n',
      'db-password',
      '--file',
      file,
    ]);
    expect(second.code).toBe(0);

    const latest = await keyvault([
      'secret',
      'show',
      '--vault-name',
      'team-vault',
      '-n',
      'db-password',
    ]);
    expect(latest.code).toBe(0);
    expect(JSON.parse(latest.stdout)).toMatchObject({ value: 'second s3cret\nwith two lines' });
    const old = await keyvault([
      'secret',
      'show',
      '--vault-name',
      'team-vault',
      '-n',
      'db-password',
      '--version',
      firstVersion,
      '--query',
      'value',
      '-o',
      'tsv',
    ]);
    expect(old.stdout).toBe('first-s3cret\n');

    await keyvault([
      'secret',
      'set',
      '--vault-name',
      'team-vault',
      '-n',
      'api-key',
      '--value',
      'k3y',
    ]);
    const listed = await keyvault(['secret', 'list', '--vault-name', 'team-vault']);
    expect(listed.code).toBe(0);
    const ids = (JSON.parse(listed.stdout) as { id: string }[]).map((s) => s.id.split('/').at(-1));
    expect(ids.sort()).toEqual(['api-key', 'db-password']);
    for (const value of ['first-s3cret', 'second s3cret', 'k3y']) {
      expect(listed.stdout).not.toContain(value);
    }

    const deleted = await keyvault([
      'secret',
      'delete',
      '--vault-name',
      'team-vault',
      '-n',
      'db-password',
    ]);
    expect(deleted.code).toBe(0);
    expect(JSON.parse(deleted.stdout)).toMatchObject({
      recoveryId: expect.stringMatching(/\/deletedsecrets\/db-password$/) as unknown,
    });
    const gone = await keyvault([
      'secret',
      'show',
      '--vault-name',
      'team-vault',
      '-n',
      'db-password',
    ]);
    expect(gone.code).toBe(1);
    expect(gone.stdout).toBe('');
    expect(oneLine(gone)).toMatch(
      /^tessera: SecretNotFound: A secret with \(name\/id\) db-password was not found in this key vault\./,
    );
  });

  it('reaches the vault over HTTPS with the local CA from the data directory', async () => {
    await keyvault(['create', '-n', 'tls-vault', '-g', GROUP]);
    const set = await run([
      'keyvault',
      'secret',
      'set',
      '--vault-name',
      'tls-vault',
      '-n',
      'x',
      '--value',
      'over-tls',
      '--data-dir',
      dataDir,
      '--server',
      httpsUrl,
    ]);
    expect(set.code).toBe(0);
    // The id names the vault by its own host name and the HTTPS port: no DNS was needed.
    expect((JSON.parse(set.stdout) as { id: string }).id).toMatch(
      new RegExp(`^https://tls-vault\\.vault\\.localhost:${new URL(httpsUrl).port}/secrets/x/`),
    );
  });

  it('fails clearly: an unknown vault, a vault without self permissions, a missing group', async () => {
    const unknown = await keyvault(['secret', 'show', '--vault-name', 'no-such-vault', '-n', 'x']);
    expect(unknown.code).toBe(1);
    expect(oneLine(unknown)).toBe(
      "tessera: VaultNotFound: The vault 'no-such-vault' was not found.",
    );

    const bare = await keyvault(['create', '-n', 'bare-vault', '-g', GROUP, '--no-self-perms']);
    expect([bare.code, bare.stderr]).toEqual([0, '']);
    const refused = await keyvault([
      'secret',
      'set',
      '--vault-name',
      'bare-vault',
      '-n',
      'x',
      '--value',
      'v',
    ]);
    expect(refused.code).toBe(1);
    expect(oneLine(refused)).toMatch(
      /^tessera: Forbidden: Caller is not authorized to perform action on resource\. .* \(ForbiddenByRbac\)$/,
    );

    const noGroup = await keyvault(['create', '-n', 'lost-vault', '-g', 'no-such-group']);
    expect(noGroup.code).toBe(1);
    expect(oneLine(noGroup)).toBe(
      "tessera: ResourceGroupNotFound: Resource group 'no-such-group' could not be found.",
    );
  });

  it('takes credentials from AZURE_* and reports a bad secret without echoing it', async () => {
    const login = JSON.parse(await readFile(join(dataDir, 'admin.json'), 'utf8')) as {
      tenantId: string;
      clientId: string;
    };
    const result = await keyvault(['secret', 'list', '--vault-name', 'team-vault'], {
      AZURE_CLIENT_ID: login.clientId,
      AZURE_CLIENT_SECRET: 'not-the-secret',
      AZURE_TENANT_ID: login.tenantId,
    });
    expect(result.code).toBe(1);
    expect(oneLine(result)).toMatch(/^tessera: invalid_client: AADSTS7000215: /);
    expect(result.stderr).not.toContain('not-the-secret');
  });

  it('refuses usage mistakes with status 2', async () => {
    const noValue = await keyvault(['secret', 'set', '--vault-name', 'team-vault', '-n', 'x']);
    expect(noValue.code).toBe(2);
    expect(noValue.stderr).toMatch(/^error: pass the value with --value or --file$/m);
    const both = await keyvault([
      'secret',
      'set',
      '--vault-name',
      'team-vault',
      '-n',
      'x',
      '--value',
      'v',
      '--file',
      'f',
    ]);
    expect(both.code).toBe(2);
    const noServer = await run([
      'keyvault',
      'secret',
      'list',
      '--vault-name',
      'team-vault',
      '--data-dir',
      dataDir,
      '--set',
      'server.port=0',
    ]);
    expect(noServer.code).toBe(2);
    expect(noServer.stderr).toMatch(/pass --server URL/);
  });
});
