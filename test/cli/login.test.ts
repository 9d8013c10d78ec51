// `tessera login`, `account show` and `logout` against a real server: who later commands act as.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, type ServerUnderTest, startServer, stop } from './cli-harness.js';

let dir: string;
let server: ServerUnderTest;
let admin: { tenantId: string; clientId: string; secret: string };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-login-'));
  server = await startServer(join(dir, 'server'));
  const login = JSON.parse(await readFile(join(dir, 'server', 'admin.json'), 'utf8')) as {
    tenantId: string;
    clientId: string;
    secretFile: string;
  };
  const secret = (await readFile(login.secretFile, 'utf8')).trim();
  admin = { tenantId: login.tenantId, clientId: login.clientId, secret };
});

afterAll(async () => {
  await stop(server.child);
  await rm(dir, { recursive: true, force: true });
});

describe('tessera login', { timeout: 120_000 }, () => {
  it('signs an application in, remembers the server, and signs it out', async () => {
    // A workstation's own data directory: no admin.json, nothing but what login writes.
    const cli = ['--data-dir', join(dir, 'workstation')];
    const [missing, wrong] = await Promise.all([
      run(['login', ...cli, '--server', server.url]),
      run([
        'login',
        '--service-principal',
        '-u',
        admin.clientId,
        '-p',
        'not-the-secret',
        '--tenant',
        admin.tenantId,
        '--server',
        server.url,
        ...cli,
      ]),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('tessera login --service-principal -u APPID');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^tessera: invalid_client: AADSTS7000215: Invalid client secret/),
    ]);
    expect(wrong.stderr).not.toContain('not-the-secret');
    await expect(stat(join(dir, 'workstation', 'login.json'))).rejects.toThrow();

    const ok = await run([
      'login',
      '--service-principal',
      '-u',
      admin.clientId,
      '-p',
      admin.secret,
      '--tenant',
      admin.tenantId,
      '--server',
      server.httpsUrl,
      '--ca',
      join(dir, 'server', 'tls', 'ca.pem'),
      ...cli,
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).not.toContain(admin.secret);
    const accounts = JSON.parse(ok.stdout) as Record<string, unknown>[];
    expect(accounts).toEqual([
      expect.objectContaining({
        isDefault: true,
        tenantId: admin.tenantId,
        user: { name: admin.clientId, type: 'servicePrincipal' },
      }),
    ]);
    expect((await stat(join(dir, 'workstation', 'login.json'))).mode & 0o777).toBe(0o600);

    // No --server now: the one login recorded, over HTTPS with the CA it was given.
    const shown = await run(['account', 'show', ...cli, '--query', 'user.name', '-o', 'tsv']);
    expect(shown.stderr).toBe('');
    expect(shown.stdout).toBe(`${admin.clientId}\n`);

    const out = await run(['logout', ...cli]);
    expect(out.code).toBe(0);
    const after = await run(['account', 'show', ...cli, '--server', server.url]);
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/^tessera: CredentialUnavailable: no credentials: /);
  });

  it('creates a host over HTTPS with the operator token, and reports a bad name in one line', async () => {
    const flags = [...server.flags.slice(0, 2), '--server', server.httpsUrl];
    const first = await run(['host', 'create', '-n', 'rack-http', ...flags]);
    expect(first.code).toBe(0);
    const created = JSON.parse(first.stdout) as { id: string; name: string; joinToken: string };
    expect(created.name).toBe('rack-http');
    expect(created.joinToken.startsWith(`${created.id}.`)).toBe(true);
    expect(first.stderr).toBe(
      "created host 'rack-http': the join token is shown only now and works once\n",
    );
    const [again, bad] = await Promise.all([
      run(['host', 'create', '-n', 'rack-http', ...flags]),
      run(['host', 'create', '-n', '-bad name', ...flags]),
    ]);
    expect(again.stderr).toMatch(/^new join token for host 'rack-http': .*no longer works\n$/);
    expect((JSON.parse(again.stdout) as { joinToken: string }).joinToken).not.toBe(
      created.joinToken,
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^tessera: InvalidParameter: /),
    ]);
  });

  it('acts as the administrator of the data directory without a login, and checks --query', async () => {
    const [shown, bad] = await Promise.all([
      run(['account', 'show', ...server.flags, '-o', 'table']),
      run(['account', 'show', ...server.flags, '--query', '[?']),
    ]);
    expect(shown.code).toBe(0);
    const [header, rule, row] = shown.stdout.split('\n');
    expect(header).toMatch(/^CloudName\s+IsDefault\s+Name\s+State\s+TenantId$/);
    expect(rule).toMatch(/^-+ {2}-+/);
    expect(row).toContain(admin.tenantId);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("tessera: argument --query: invalid jmespath_type value: '[?'\n");
  });

  it('creates an application for RBAC whose secret signs in with its role and nothing more', async () => {
    const sub = (
      await run(['account', 'show', ...server.flags, '--query', 'id', '-o', 'tsv'])
    ).stdout.trim();
    const assignments = async (): Promise<number> =>
      (
        JSON.parse(
          (await run(['role', 'assignment', 'list', '--all', ...server.flags])).stdout,
        ) as unknown[]
      ).length;
    const before = await assignments();
    const store = ['--data-dir', server.dataDir];
    const [noName, noRole, badRole, badScope] = await Promise.all([
      run(['ad', 'sp', 'create-for-rbac', '--role', 'Reader', '--scopes', '/', ...store]),
      run(['ad', 'sp', 'create-for-rbac', '-n', 'x', '--scopes', '/', ...store]),
      run(['ad', 'sp', 'create-for-rbac', '-n', 'x', '--role', 'Nope', '--scopes', '/', ...store]),
      run([
        'ad',
        'sp',
        'create-for-rbac',
        '-n',
        'x',
        '--role',
        'Reader',
        '--scopes',
        `/subscriptions/${sub}`,
        `/subscriptions/${sub}/resourceGroups/no-such-rg`,
        ...store,
      ]),
    ]);
    expect([noName.code, noRole.code, badRole.code, badScope.code]).toEqual([2, 2, 1, 1]);
    expect(noName.stderr).toBe(
      'error: --name is required: the display name of the new application.\n',
    );
    expect(badRole.stderr).toBe("tessera: RoleNotFound: Role 'Nope' doesn't exist.\n");
    expect(badScope.stderr).toMatch(/^tessera: ScopeNotFound: .*no-such-rg' does not exist\.\n$/);
    // Nothing half-made: the good scope of the failed call got no assignment.
    expect(await assignments()).toBe(before);

    const made = await run([
      'ad',
      'sp',
      'create-for-rbac',
      '-n',
      'ci-reader',
      '--role',
      'reader',
      '--scopes',
      `/subscriptions/${sub}`,
      ...store,
    ]);
    expect(made.code).toBe(0);
    expect(made.stderr).toMatch(/^The output includes credentials that you must protect\./);
    const app = JSON.parse(made.stdout) as Record<string, string>;
    expect(Object.keys(app)).toEqual(['appId', 'displayName', 'password', 'tenant']);
    expect(app).toMatchObject({ displayName: 'ci-reader', tenant: admin.tenantId });
    expect(await assignments()).toBe(before + 1);

    // Its secret signs in; it reads, and ARM refuses it a write.
    const cli = ['--data-dir', join(dir, 'reader')];
    const login = await run([
      'login',
      '--service-principal',
      '-u',
      app.appId!,
      '-p',
      app.password!,
      '--tenant',
      app.tenant!,
      '--server',
      server.url,
      ...cli,
    ]);
    expect(login.code).toBe(0);
    const [list, write] = await Promise.all([
      run(['group', 'list', ...cli]),
      run(['group', 'create', '-n', 'not-allowed', '-l', 'westus', ...cli]),
    ]);
    expect(list.code).toBe(0);
    expect(write.code).toBe(1);
    expect(write.stderr).toMatch(/^tessera: AuthorizationFailed: The client '.*' with object id /);
  });
});
