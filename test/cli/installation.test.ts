// `tessera server` as replicas: one server per SQLite database, and on PostgreSQL one installation whose URL an operator changes on purpose.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema } from '../agent/replicas.js';
import { TEST_MASTER_KEY_B64 } from '../fixtures/keys.js';
import { json, oneLine, run, start, startServer, stop, until, upArgs } from './cli-harness.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-cli-installation-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `tessera server` on OS ports, with more `--set`s. */
const serverArgs = (dataDir: string, ...sets: string[]): string[] => [
  'server',
  '--data-dir',
  dataDir,
  ...['server.port=0', 'server.httpsPort=0', ...sets].flatMap((s) => ['--set', s]),
];

describe('on SQLite', () => {
  it('serves one server: a second server or up refuses in one line, operator commands still work, a crash frees it', async () => {
    const dataDir = join(dir, 'sqlite');
    const first = await startServer(dataDir);
    const busy = new RegExp(
      `^tessera: invalid configuration: another Tessera server \\(tessera server or tessera up\\) is serving the SQLite database \\S*${dataDir}/tessera\\.db; SQLite serves one server: stop that one, or use PostgreSQL \\(store\\.driver=postgres\\) to run several replicas$`,
    );
    try {
      const second = await run(serverArgs(dataDir));
      expect(second.code).toBe(2);
      expect(oneLine(second)).toMatch(busy);
      expect(second.stdout).toBe('');

      const up = await run(upArgs(dataDir));
      expect(up.code).toBe(2);
      expect(oneLine(up)).toMatch(busy);

      // Nothing is deleted from under a running server.
      const before = (await readdir(dataDir)).sort();
      const reset = await run([...upArgs(dataDir), '--reset']);
      expect(reset.code).toBe(2);
      expect(oneLine(reset)).toBe(
        `tessera: invalid configuration: --reset refused: a Tessera server is serving ${join(dataDir, 'tessera.db')}; stop it first; nothing was deleted`,
      );
      expect((await readdir(dataDir)).sort()).toEqual(before);

      // Operator commands open the database itself while the server runs.
      const shown = json(await run(['installation', 'show', '--data-dir', dataDir]));
      expect(shown).toMatchObject({ publicUrl: first.url, issuer: null, masterKey: 'matches' });
      expect((await run(['signing-key', 'list', '--data-dir', dataDir])).code).toBe(0);

      // The first server answers throughout.
      expect((await fetch(`${first.url}/portal/`)).status).toBe(200);
    } finally {
      // A crash: the lock goes with the process, and the next server starts.
      await stop(first.child, 'SIGKILL');
    }
    const again = await startServer(dataDir);
    expect(await stop(again.child)).toBe(0);
  });
});

const postgresUrl = process.env.TESSERA_TEST_POSTGRES_URL;

describe.skipIf(postgresUrl === undefined)('on PostgreSQL', () => {
  const schema = `tessera_cli_installation_${randomBytes(4).toString('hex')}`;
  const store = [
    'store.driver=postgres',
    `store.postgres.url=${postgresUrl ?? ''}`,
    `store.postgres.schema=${schema}`,
    `masterKey=${TEST_MASTER_KEY_B64}`,
  ];
  afterAll(() => dropSchema(postgresUrl ?? '', schema));

  it('refuses a replica with another public URL until an operator changes it for all', async () => {
    const a = start(serverArgs(join(dir, 'pg-a'), ...store, 'publicUrl=https://a.example'));
    await until(a, 'ready at https://a.example');
    expect(await stop(a)).toBe(0);

    const bArgs = serverArgs(join(dir, 'pg-b'), ...store, 'publicUrl=https://b.example');
    const refused = await run(bArgs);
    expect(refused.code).toBe(2);
    expect(oneLine(refused)).toMatch(
      /^tessera: invalid configuration: publicUrl is https:\/\/b\.example but this installation's is https:\/\/a\.example \(recorded in the database on \d{4}-\d\d-\d\d\); set publicUrl=https:\/\/a\.example on every replica, or change it for every replica with `tessera installation update`$/,
    );

    const sets = (...values: string[]) => values.flatMap((s) => ['--set', s]);
    const operator = ['--data-dir', join(dir, 'pg-operator')];
    const noUrl = await run(['installation', 'update', ...operator, ...sets(...store)]);
    expect(noUrl.code).toBe(2);
    expect(oneLine(noUrl)).toMatch(/^tessera: invalid configuration: publicUrl is required/);

    const update = await run([
      'installation',
      'update',
      ...operator,
      ...sets(...store, 'publicUrl=https://b.example/'),
    ]);
    expect([update.code, update.stderr]).toEqual([0, '']);
    expect(update.stdout).toMatch(
      /^installation: publicUrl https:\/\/b\.example \(was https:\/\/a\.example\), server\.tokens\.issuer not set \(was not set\)\n/,
    );
    const shown = json(await run(['installation', 'show', ...operator, ...sets(...store)]));
    expect(shown).toMatchObject({ publicUrl: 'https://b.example', masterKey: 'matches' });

    const b = start(bArgs);
    await until(b, 'ready at https://b.example');
    expect(await stop(b)).toBe(0);
  });
});
