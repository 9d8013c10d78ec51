// The CLI next to a running `tessera up`: with no flags or environment it finds the server, IMDS and CA in up.json, and reuses its token.
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientCredentialsToken } from '../fixtures/admin.js';
import { type Child, json, run, start, stop, until, upArgs } from './cli-harness.js';

interface UpFile {
  readonly server: string;
  readonly serverHttp: string;
  readonly imds: string;
  readonly tenantId: string;
}

let cwd: string;
let dataDir: string;
let up: Child;
let upFile: UpFile;

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'tessera-up-defaults-'));
  // The default data directory, ./.tessera, of a directory of the user's; ports from the OS.
  dataDir = join(cwd, '.tessera');
  up = start(
    upArgs(dataDir).filter((arg) => arg !== '--data-dir' && arg !== dataDir),
    {},
    cwd,
  );
  await until(up, 'ready at');
  upFile = JSON.parse(await readFile(join(dataDir, 'up.json'), 'utf8')) as UpFile;
});

afterAll(async () => {
  if (up.exitCode === null) await stop(up);
  await rm(cwd, { recursive: true, force: true });
});

/** `tessera ...args` in the user's directory, with no flags or environment of the test's. */
const tessera = (args: string[], env: Record<string, string> = {}) => run(args, env, cwd);

describe('client commands next to tessera up', { timeout: 120_000 }, () => {
  it('find its server, IMDS and CA, sign in over HTTPS, and reuse the cached token', async () => {
    expect(new URL(upFile.server).port).not.toBe('8444');
    expect(new URL(upFile.imds).port).not.toBe('8080');

    // IMDS from up.json, not 169.254.169.254: this machine is the demo VM.
    const token = json(await tessera(['token', 'get']));
    expect(decodeJwt(String(token.access_token))).toMatchObject({
      aud: 'https://management.azure.com/',
      xms_mirid: expect.stringMatching(/\/virtualMachines\/demo-vm$/) as unknown,
    });

    // The administrator's token is asked for once, then kept in a private file.
    const groups = await tessera(['group', 'list', '--query', '[].name', '-o', 'tsv']);
    expect([groups.code, groups.stderr, groups.stdout]).toEqual([0, '', 'demo-rg\n']);
    const cacheFile = join(dataDir, 'token-cache.json');
    expect((await stat(cacheFile)).mode & 0o777).toBe(0o600);

    const login = JSON.parse(await readFile(join(dataDir, 'admin.json'), 'utf8')) as {
      clientId: string;
      secretFile: string;
    };
    const secret = (await readFile(login.secretFile, 'utf8')).trim();
    const own = await clientCredentialsToken(
      { url: upFile.serverHttp, tenant: { id: upFile.tenantId } },
      login.clientId,
      secret,
    );
    const issued = async (): Promise<number> => {
      const oid = String(decodeJwt(own).oid);
      const answer = await fetch(
        `${upFile.serverHttp}/providers/Tessera.Audit/events?api-version=2026-11-01&outcome=issued&principalId=${oid}`,
        { headers: { authorization: `Bearer ${own}` } },
      );
      expect(answer.status).toBe(200);
      return ((await answer.json()) as { value: unknown[] }).value.length;
    };
    const before = await issued();
    const again = await tessera(['group', 'list', '--query', '[].name', '-o', 'tsv']);
    expect(again.stdout).toBe('demo-rg\n');
    expect(await issued()).toBe(before);

    // A cache file others may read is not trusted: a new token, and the file is private again.
    await chmod(cacheFile, 0o644);
    expect((await tessera(['group', 'list', '-o', 'none'])).code).toBe(0);
    expect(await issued()).toBe(before + 1);
    expect((await stat(cacheFile)).mode & 0o777).toBe(0o600);

    // login goes to up.json's HTTPS server with the data directory's CA, and does not pin it.
    const signedIn = await tessera([
      'login',
      '--service-principal',
      '-u',
      login.clientId,
      '-p',
      secret,
      '--tenant',
      upFile.tenantId,
    ]);
    expect([signedIn.code, signedIn.stderr]).toEqual([
      0,
      expect.stringContaining(`signed in as ${login.clientId} at ${upFile.server};`),
    ]);
    const profile = JSON.parse(await readFile(join(dataDir, 'login.json'), 'utf8')) as object;
    expect(Object.keys(profile).sort()).toEqual(['clientId', 'clientSecret', 'tenantId']);
    const shown = await tessera(['account', 'show', '--query', 'user.name', '-o', 'tsv']);
    expect([shown.code, shown.stdout]).toEqual([0, `${login.clientId}\n`]);
    const cache = await readFile(cacheFile, 'utf8');
    expect(cache).not.toContain(secret);

    // A VM on up's own host by its name, and an unknown host refused in one line.
    const created = await tessera([
      'vm',
      'create',
      '-g',
      'demo-rg',
      '-n',
      'placed-here',
      '--host',
      'local',
      '--private-ip',
      '127.0.0.9',
      '-o',
      'none',
    ]);
    expect([created.code, created.stderr]).toEqual([0, '']);
    const placed = await tessera([
      'vm',
      'show',
      '-g',
      'demo-rg',
      '-n',
      'placed-here',
      '--query',
      'hostName',
      '-o',
      'tsv',
    ]);
    expect([placed.code, placed.stdout]).toEqual([0, 'local\n']);
    const nowhere = await tessera([
      'vm',
      'create',
      '-g',
      'demo-rg',
      '-n',
      'nowhere',
      '--host',
      'nosuchhost',
    ]);
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^tessera: HostNotFound: no host is named 'nosuchhost'/) as unknown,
    ]);
  });

  it('lets the environment and flags override up.json', async () => {
    const [env, flag] = await Promise.all([
      tessera(['group', 'list'], { TESSERA_SERVER_PORT: '9' }),
      tessera(['token', 'get', '--imds', 'http://127.0.0.1:9']),
    ]);
    expect([env.code, flag.code]).toEqual([1, 1]);
    expect(env.stderr).toMatch(
      /^tessera: ServiceUnreachable: cannot reach http:\/\/127\.0\.0\.1:9\b/,
    );
    expect(flag.stderr).toMatch(
      /^tessera: ServiceUnreachable: cannot reach http:\/\/127\.0\.0\.1:9\b/,
    );
  });
});
