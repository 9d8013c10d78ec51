// `tessera demo` and `tessera up --reset`, as a user meets them: real processes, their output, their exit.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Child, run, start, stop, until, upArgs } from './cli-harness.js';
import { adminArm } from '../fixtures/admin.js';

const STEPS = [
  /^\[1\/8\] create the user-assigned identity demo-story-[0-9a-f]{6} in demo-rg$/m,
  /^\[2\/8\] attach it to demo-vm$/m,
  /^\[3\/8\] grant it Key Vault Secrets User on demo-vault$/m,
  /^\[4\/8\] get a token from IMDS for it by client_id, for https:\/\/vault\.localhost$/m,
  /^\[5\/8\] read demo-secret from demo-vault with that token$/m,
  /^\[6\/8\] detach it from demo-vm$/m,
  /^\[7\/8\] see IMDS refuse it once the agent has synced$/m,
  /^\[8\/8\] delete demo-story-[0-9a-f]{6}$/m,
];

interface UpFile {
  readonly serverHttp: string;
  readonly tenantId: string;
  readonly subscriptionId: string;
  readonly adminCredentials: string;
}

/** The user-assigned identities in demo-rg, asked of ARM as the administrator. */
async function identityNames(up: UpFile): Promise<string[]> {
  const { call } = await adminArm(up.serverHttp, up.adminCredentials);
  const list = (
    await call(
      'GET',
      `/subscriptions/${up.subscriptionId}/resourceGroups/demo-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version=2023-01-31`,
    )
  ).body as { value: { name: string }[] };
  return list.value.map((identity) => identity.name).sort();
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-demo-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tessera demo', { timeout: 120_000 }, () => {
  const dataDir = (): string => join(dir, 'data');
  let up: Child | undefined;
  let upFile: UpFile;
  beforeAll(async () => {
    up = start(upArgs(dataDir()));
    await until(up, 'ready at');
    upFile = JSON.parse(await readFile(join(dataDir(), 'up.json'), 'utf8')) as UpFile;
  });
  afterAll(async () => {
    if (up !== undefined) await stop(up);
  });

  it('tells the story against a running tessera up, each step with its result', async () => {
    const result = await run(['demo', '--data-dir', dataDir()]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    for (const step of STEPS) expect(result.stdout).toMatch(step);
    expect(result.stdout).toMatch(
      /^ {6}aud https:\/\/vault\.localhost, oid [0-9a-f-]{36}, appidacr 2$/m,
    );
    expect(result.stdout).toMatch(/^ {6}xms_mirid \/subscriptions\/.*\/demo-story-[0-9a-f]{6}$/m);
    expect(result.stdout).toContain('demo-secret = "Hello from Tessera Key Vault"');
    expect(result.stdout).toMatch(
      /^ {6}after \d+\.\d s: 400 invalid_request: Identity not found$/m,
    );
    expect(result.stdout).not.toContain('FAILED');
    expect(result.stdout.trimEnd().split('\n').at(-1)).toBe(
      'tessera demo: every step did what it should',
    );
    // Nothing of the story is left behind.
    expect(await identityNames(upFile)).toEqual(['demo-identity']);
  });

  it('names the failing step, exits 1 and still deletes its identity', async () => {
    // The same up, but an IMDS address where nothing listens: step 4 cannot succeed.
    const elsewhere = join(dir, 'dead-imds');
    await mkdir(elsewhere, { recursive: true });
    const text = await readFile(join(dataDir(), 'up.json'), 'utf8');
    const broken = { ...(JSON.parse(text) as object), imds: 'http://127.0.0.1:9' };
    await writeFile(join(elsewhere, 'up.json'), JSON.stringify(broken));
    const result = await run(['demo', '--data-dir', elsewhere]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^ {6}FAILED: cannot reach IMDS at http:\/\/127\.0\.0\.1:9: /m);
    expect(result.stdout).toMatch(/^ {6}cleanup: deleted demo-story-[0-9a-f]{6}$/m);
    expect(result.stdout).not.toContain('[5/8]');
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^tessera demo: step 4 \(get a token from IMDS .*\) failed: /),
    ]);
    expect(await identityNames(upFile)).toEqual(['demo-identity']);
  });

  it('says in one line that no tessera up runs there', async () => {
    const result = await run(['demo', '--data-dir', join(dir, 'nothing-here')]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(
        /^tessera: no running tessera up: .*nothing-here\/up\.json does not exist \(start one with `npm start`, or pass --data-dir\)$/,
      ),
    ]);
  });
});

describe('tessera up --reset', { timeout: 120_000 }, () => {
  const tenantOf = (stdout: string): string | undefined => / in tenant (\S+);/.exec(stdout)?.[1];
  /**
   * How many migrations the last start on `dataDir` applied (its log's `store ready`): all of them
   * on an empty store, none on a used one.
   */
  const applied = async (dataDir: string): Promise<number> => {
    const lines = (await readFile(join(dataDir, 'tessera.log'), 'utf8')).trim().split('\n');
    const ready = lines
      .map((line) => JSON.parse(line) as { msg?: string; migrationsApplied?: number })
      .filter((line) => line.msg === 'store ready');
    return ready.at(-1)?.migrationsApplied ?? -1;
  };

  it('starts clean: a new master key, a new tenant, and says what it removed', async () => {
    const dataDir = join(dir, 'reset');
    const first = start(upArgs(dataDir));
    await until(first, 'ready at');
    expect(await stop(first)).toBe(0);
    const before = tenantOf(first.output.stdout);
    expect(before).toBeDefined();
    const all = await applied(dataDir);
    expect(all).toBeGreaterThan(0);

    const again = start([...upArgs(dataDir), '--reset']);
    await until(again, 'ready at');
    expect(await stop(again, 'SIGINT')).toBe(0);
    expect(again.output.stderr).toMatch(
      /^tessera up: --reset removed .*reset: admin\.json, admin\.secret, agent, master\.key, tessera\.db.*, tessera\.log, tls\n/,
    );
    expect(again.output.stdout).toMatch(/^ {2}master key: {2}\S+, NEW: back it up/m);
    // The log began again with the data directory: one start, which applied every migration.
    expect(await applied(dataDir)).toBe(all);
    expect(tenantOf(again.output.stdout)).not.toBe(before);
  });

  it('refuses a directory that is not Tessera’s, deleting nothing', async () => {
    const home = join(dir, 'home');
    await mkdir(join(home, 'projects'), { recursive: true });
    await writeFile(join(home, '.bashrc'), 'export PS1=$\n');
    const result = await run(['up', '--reset', '--data-dir', home]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      `tessera: invalid configuration: --reset refused: ${home} does not look like a Tessera data directory (no master.key or tessera.db, and not empty); nothing was deleted`,
    ]);
    expect((await readdir(home)).sort()).toEqual(['.bashrc', 'projects']);
  });

  const postgresUrl = process.env.TESSERA_TEST_POSTGRES_URL;
  it.skipIf(postgresUrl === undefined)(
    'on PostgreSQL drops Tessera’s tables, only from a schema of its own',
    async () => {
      const url = postgresUrl ?? '';
      const schema = `tessera_reset_${randomBytes(4).toString('hex')}`;
      const dataDir = join(dir, 'reset-pg');
      const args = [
        ...upArgs(dataDir),
        '--set',
        'store.driver=postgres',
        '--set',
        `store.postgres.url=${url}`,
        '--set',
        `store.postgres.schema=${schema}`,
        '--set',
        `masterKey=${randomBytes(32).toString('base64')}`,
      ];
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const tables = async (): Promise<number> => {
        const { rows } = await client.query<{ n: string }>(
          'select count(*) as n from information_schema.tables where table_schema = $1',
          [schema],
        );
        return Number(rows[0]?.n ?? 0);
      };
      try {
        const first = start(args);
        await until(first, 'ready at');
        expect(await stop(first)).toBe(0);
        const tenant = tenantOf(first.output.stdout);
        const all = await applied(dataDir);
        const made = await tables();
        expect(made).toBeGreaterThan(10);

        // Another application's table in the schema: refused, nothing dropped or deleted.
        await client.query(`create table ${schema}.not_ours (id int)`);
        const refused = await run([...args, '--reset']);
        expect(refused.code).toBe(2);
        expect(refused.stderr.trimEnd().split('\n')).toEqual([
          `tessera: invalid configuration: --reset refused: PostgreSQL schema ${schema} also holds not_ours; give Tessera a schema of its own (store.postgres.schema); nothing was deleted`,
        ]);
        expect(await tables()).toBe(made + 1);
        expect(await readdir(dataDir)).toContain('admin.json');

        await client.query(`drop table ${schema}.not_ours`);
        const again = start([...args, '--reset']);
        await until(again, 'ready at');
        expect(await stop(again)).toBe(0);
        expect(again.output.stderr).toMatch(
          new RegExp(`; dropped ${made} table\\(s\\) of PostgreSQL schema ${schema}\\n`),
        );
        expect(await applied(dataDir)).toBe(all);
        expect(tenantOf(again.output.stdout)).not.toBe(tenant);
      } finally {
        await client.query(`drop schema if exists ${schema} cascade`);
        await client.end();
      }
    },
  );
});
