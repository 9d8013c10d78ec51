// `tessera up` and bad configurations, as a user meets them: a real process, its output, its exit.
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, start, startServer, stop, until, upArgs } from './cli-harness.js';

/** Runs the IMDS curl line `tessera up` printed, as printed, and returns the token's claims. */
async function imdsToken(stdout: string): Promise<Record<string, unknown>> {
  const curl =
    /^\s+(curl -s 'http:\/\/[^']*\/metadata\/identity\/oauth2\/token[^']*' -H Metadata:true)$/m.exec(
      stdout,
    )?.[1];
  expect(curl).toBeDefined();
  const { stdout: answer } = await promisify(execFile)('sh', ['-c', curl ?? 'false']);
  const body = JSON.parse(answer) as Record<string, string>;
  expect(Object.keys(body)).toEqual([
    'access_token',
    'client_id',
    'expires_in',
    'expires_on',
    'ext_expires_in',
    'not_before',
    'resource',
    'token_type',
  ]);
  return decodeJwt(body.access_token ?? '');
}

/** Statuses of `n` back-to-back `/metadata/instance` requests to the IMDS the curl line names. */
async function instanceStatuses(stdout: string, n: number): Promise<number[]> {
  const imds = /curl -s '(http:\/\/[^/']+)\/metadata\/identity/.exec(stdout)?.[1];
  expect(imds).toBeDefined();
  const statuses: number[] = [];
  for (let i = 0; i < n; i += 1) {
    const answer = await fetch(`${imds ?? ''}/metadata/instance?api-version=2021-02-01`, {
      headers: { Metadata: 'true' },
    });
    await answer.arrayBuffer();
    statuses.push(answer.status);
  }
  return statuses;
}

/** The JSON lines of a log file. */
async function logLines(file: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Starts `tessera up` until it is ready, then stops it: a first start that sets a data dir up. */
async function upOnce(dataDir: string): Promise<void> {
  const child = start(upArgs(dataDir));
  await until(child, 'ready');
  await stop(child);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a bad configuration exits 2 with one clear line', { timeout: 120_000 }, () => {
  it.each<[string, () => Promise<{ args: string[]; env?: Record<string, string> }>, RegExp]>([
    [
      'unknown key in the file',
      async () => {
        const file = join(dir, 'unknown.yaml');
        await writeFile(file, 'server:\n  prot: 1\n');
        return { args: ['up', '--config', file] };
      },
      /^tessera: invalid configuration: unknown key "server\.prot" in .*unknown\.yaml$/,
    ],
    [
      'wrong type in the environment',
      () => Promise.resolve({ args: ['up'], env: { TESSERA_SERVER_PORT: 'http' } }),
      /^tessera: invalid configuration: server\.port \(from TESSERA_SERVER_PORT\): expected an integer between 0 and 65535, got "http"$/,
    ],
    [
      'unknown environment variable',
      () => Promise.resolve({ args: ['up'], env: { TESSERA_DATADIR: '/x' } }),
      /^tessera: invalid configuration: unknown environment variable TESSERA_DATADIR$/,
    ],
    [
      'unreadable file',
      () => Promise.resolve({ args: ['up', '--config', join(dir, 'missing.json')] }),
      /^tessera: invalid configuration: cannot read config file .*missing\.json: no such file$/,
    ],
    [
      'malformed --set',
      () => Promise.resolve({ args: ['up', '--set', 'store.driver=oracle'] }),
      /^tessera: invalid configuration: store\.driver \(from flags\): expected one of "sqlite", "postgres", got "oracle"$/,
    ],
  ])('%s', async (_name, setup, pattern) => {
    const { args, env } = await setup();
    const result = await run([...args, '--data-dir', join(dir, 'never')], env);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr.trimEnd()).toMatch(pattern);
    // Nothing was created for a configuration that was refused.
    await expect(stat(join(dir, 'never'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('tessera up', { timeout: 120_000 }, () => {
  it('generates a master key once, loudly, keeps files private, and stops cleanly', async () => {
    const dataDir = join(dir, 'data');
    const first = start(upArgs(dataDir));
    await until(first, 'ready');
    // The new master key is one line of the banner: where it is, and to back it up.
    expect(first.output.stdout).toContain(
      `  master key:  ${join(dataDir, 'master.key')}, NEW: back it up, without it the stored secrets cannot be recovered\n`,
    );
    // up.json tells scripts where everything is; the banner says the same in words.
    const up = JSON.parse(await readFile(join(dataDir, 'up.json'), 'utf8')) as {
      server: string;
      serverHttp: string;
      portal: string;
      imds: string;
      ca: string;
      adminCredentials: string;
      tenantId: string;
      pid: number;
      log: string;
      demo: Record<string, string>;
    };
    expect(up.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(up.pid).toBe(first.pid);
    expect(first.output.stdout).toContain(
      `  server:      ${up.server} (ARM, token endpoint, Key Vault); plain HTTP: ${up.serverHttp}\n`,
    );
    expect(first.output.stdout).toContain(`  export NODE_EXTRA_CA_CERTS=${up.ca}\n`);
    // With Tessera's own issuer Azurite would refuse every token: no Azurite line.
    const azurite = `  npx azurite --oauth basic --cert ${join(dirname(up.ca), 'server.pem')} --key ${join(dirname(up.ca), 'server.key')} --skipApiVersionCheck\n`;
    expect(first.output.stdout).not.toContain(azurite);
    // The login surface answers, with a signing key already published.
    const discovery = `${up.serverHttp}/${up.tenantId}/v2.0/.well-known/openid-configuration`;
    const doc = (await (await fetch(discovery)).json()) as { jwks_uri: string };
    const jwks = (await (await fetch(doc.jwks_uri)).json()) as { keys: unknown[] };
    expect(jwks.keys).toHaveLength(1);
    // The HTTPS listener answers with a certificate from the local CA it names.
    const ca = await readFile(up.ca);
    const jwksOverTls = await new Promise<string>((resolve, reject) => {
      httpsGet(`${up.server}/common/discovery/keys`, { ca }, (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (d: string) => (text += d));
        response.on('end', () => {
          resolve(text);
        });
      }).on('error', reject);
    });
    expect((JSON.parse(jwksOverTls) as { keys: unknown[] }).keys).toHaveLength(1);
    // The curl line it prints gets a token, exactly as printed.
    expect((await stat(join(dataDir, 'admin.secret'))).mode & 0o777).toBe(0o600);
    const curl = /^\s+(curl -s http\S+\/oauth2\/v2\.0\/token .*)$/m.exec(first.output.stdout)?.[1];
    expect(curl).toBeDefined();
    const { stdout: answer } = await promisify(execFile)('sh', ['-c', curl ?? 'false']);
    const token = (JSON.parse(answer) as { access_token: string }).access_token;
    expect(decodeJwt(token)).toMatchObject({ aud: 'https://management.azure.com', appidacr: '1' });
    // So does the IMDS line: this machine is the demo VM, with a system-assigned identity.
    const vmToken = await imdsToken(first.output.stdout);
    expect(vmToken).toMatchObject({ aud: 'https://management.azure.com/', appidacr: '2' });
    expect(String(vmToken.xms_mirid)).toMatch(/\/virtualMachines\/demo-vm$/);
    // And the Key Vault line reads the demo secret with the VM's identity, exactly as printed.
    const vaultCurl = /^\s+(curl -s --cacert .*)$/m.exec(first.output.stdout)?.[1];
    expect(vaultCurl).toBeDefined();
    const { stdout: secret } = await promisify(execFile)('sh', ['-c', vaultCurl ?? 'false']);
    expect(JSON.parse(secret)).toMatchObject({
      value: 'Hello from Tessera Key Vault',
      id: expect.stringMatching(
        /^https:\/\/demo-vault\.vault\.localhost:\d+\/secrets\/demo-secret\//,
      ) as unknown,
    });
    // The portal is served by the same server, and printed with the other surfaces.
    expect(up.portal).toBe(`${up.server}/portal/`);
    expect(first.output.stdout).toContain(`  portal:      ${up.portal} (sign in with`);
    const portalPage = await fetch(`${up.serverHttp}/portal/`);
    expect(portalPage.status).toBe(200);
    expect(await portalPage.text()).toContain('<title>Tessera portal</title>');
    expect((await stat(up.ca)).isFile()).toBe(true);
    const login = JSON.parse(await readFile(up.adminCredentials, 'utf8')) as Record<string, string>;
    expect(login).toMatchObject({
      tenantId: up.tenantId,
      secretFile: join(dataDir, 'admin.secret'),
    });
    expect(up.demo).toMatchObject({ resourceGroup: 'demo-rg', vm: 'demo-vm' });
    const byClientId = await fetch(
      `${up.imds}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/&client_id=${up.demo.identityClientId ?? ''}`,
      { headers: { Metadata: 'true' } },
    );
    const uaiToken = decodeJwt(
      ((await byClientId.json()) as { access_token: string }).access_token,
    );
    expect(String(uaiToken.xms_mirid).toLowerCase()).toBe(
      up.demo.identityResourceId?.toLowerCase(),
    );
    // The workload identity line, tried as docs/workload-identity.md does with Tessera as its
    // own issuer: the VM's token for the exchange audience, trusted by the demo identity.
    expect(first.output.stdout).toContain(
      `Workload identity instead (docs/workload-identity.md): AZURE_AUTHORITY_HOST=${up.server}/ AZURE_TENANT_ID=${up.tenantId} AZURE_CLIENT_ID=${up.demo.identityClientId ?? ''} AZURE_FEDERATED_TOKEN_FILE=<a token file the demo identity trusts>\n`,
    );
    const exchangeToken = (
      (await (
        await fetch(
          `${up.imds}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=api://AzureADTokenExchange`,
          { headers: { Metadata: 'true' } },
        )
      ).json()) as { access_token: string }
    ).access_token;
    const { iss, sub } = decodeJwt(exchangeToken);
    const fic = await fetch(
      `${up.serverHttp}${up.demo.identityResourceId ?? ''}/federatedIdentityCredentials/local-try?api-version=2023-01-31`,
      {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          properties: { issuer: iss, subject: sub, audiences: ['api://AzureADTokenExchange'] },
        }),
      },
    );
    expect(fic.status).toBe(201);
    const exchanged = await fetch(`${up.serverHttp}/${up.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: up.demo.identityClientId ?? '',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: exchangeToken,
        scope: 'https://management.azure.com/.default',
      }),
    });
    expect(exchanged.status).toBe(200);
    const federated = decodeJwt(
      ((await exchanged.json()) as { access_token: string }).access_token,
    );
    expect(federated).toMatchObject({ appid: up.demo.identityClientId, appidacr: '2' });
    // Throttled as Azure does by default: 5 requests a second outside the identity routes.
    expect(await instanceStatuses(first.output.stdout, 10)).toContain(429);
    expect(first.output.stdout).not.toContain(
      await readFile(join(dataDir, 'admin.secret'), 'utf8'),
    );
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dataDir, 'master.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dataDir, 'tessera.db'))).mode & 0o777).toBe(0o600);
    expect(await stop(first)).toBe(0);
    expect(first.output.stdout).toContain('tessera up: stopped');
    await expect(stat(join(dataDir, 'up.json'))).rejects.toThrow();
    // The requests were logged to the file, as JSON and scrubbed, not to the terminal.
    expect(up.log).toBe(join(dataDir, 'tessera.log'));
    expect((await stat(up.log)).mode & 0o777).toBe(0o600);
    const logged = await logLines(up.log);
    expect(logged.filter((l) => l.msg === 'incoming request').length).toBeGreaterThan(10);
    expect(await readFile(up.log, 'utf8')).not.toContain(
      (await readFile(join(dataDir, 'admin.secret'), 'utf8')).trim(),
    );
    expect(first.output.stdout).not.toContain('"level"');
    expect(first.output.stderr).toBe('');

    // An operator enrols a host on the same installation: a join token, shown once.
    const host = await run(['host', 'create', '-n', 'rack-1', '--data-dir', dataDir]);
    expect(host.code).toBe(0);
    const created = JSON.parse(host.stdout) as { id: string; name: string; joinToken: string };
    expect(created.name).toBe('rack-1');
    expect(created.joinToken.startsWith(`${created.id}.`)).toBe(true);
    expect(host.stderr).toContain('works once');

    await chmod(dataDir, 0o755); // loosened by hand: the next start tightens it again
    const second = start([
      ...upArgs(dataDir),
      '--imds-rate-limit',
      'off',
      '--storage-compatible-issuer',
    ]);
    await until(second, 'ready');
    expect(second.output.stdout).toContain(
      `Azurite accepting these tokens (resource https://storage.azure.com/; Blob at https://127.0.0.1:10000/devstoreaccount1):\n${azurite}`,
    );
    expect(await instanceStatuses(second.output.stdout, 10)).toEqual(Array(10).fill(200));
    // Only warnings reach the terminal (as JSON on a pipe), such as the agent's about the
    // server's new port; the master key is the one already there.
    const warnings = second.output.stderr.split('\n').filter((line) => line !== '');
    for (const line of warnings) {
      expect((JSON.parse(line) as { level: number }).level, line).toBeGreaterThanOrEqual(40);
    }
    expect(second.output.stdout).toMatch(/^ {2}master key: {2}\S+master\.key \(keep a backup/m);
    expect((await logLines(up.log)).filter((l) => l.msg === 'store ready').at(-1)).toMatchObject({
      migrationsApplied: 0,
    });
    // The agent comes back with the host identity it registered, and the same VM identity.
    // With Microsoft's v1 issuer form, which --storage-compatible-issuer sets for this run.
    expect(await imdsToken(second.output.stdout)).toMatchObject({
      oid: vmToken.oid,
      iss: `https://sts.windows.net/${up.tenantId}/`,
    });
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    expect(await stop(second, 'SIGINT')).toBe(0);
  });

  it('runs the server alone, which an agent on another port then joins', async () => {
    const dataDir = join(dir, 'server-only');
    const { child: server, url } = await startServer(dataDir);
    const tenant = /tenant:\s+(\S+)/.exec(server.output.stdout)?.[1] ?? '';
    const discovery = await fetch(`${url}/${tenant}/v2.0/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    const host = await run(['host', 'create', '-n', 'rack-2', '--data-dir', dataDir]);
    const { joinToken } = JSON.parse(host.stdout) as { joinToken: string };
    const agent = start([
      'agent',
      '--data-dir',
      join(dir, 'agent-of-server'),
      '--set',
      `agent.serverUrl=${url}`,
      '--set',
      `agent.joinToken=${joinToken}`,
      '--set',
      'agent.imds.port=0',
      '--set',
      'agent.metrics.port=0',
    ]);
    await until(agent, 'tessera agent: ready');
    expect(agent.output.stdout).toContain('host rack-2');
    // Both stop at once; each exit is awaited whichever comes first.
    const [agentCode, serverCode] = await Promise.all([stop(agent), stop(server)]);
    expect(agentCode).toBe(0);
    expect(serverCode).toBe(0);
    expect(server.output.stdout).toContain('tessera server: stopped');
  });

  it('refuses to run an agent without a server URL, in one line', async () => {
    const result = await run(['agent', '--data-dir', join(dir, 'agent-only')]);
    expect(result.code).toBe(2);
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      expect.stringContaining('agent.serverUrl is required'),
    ]);
  });

  it('refuses a master key file others can read', async () => {
    const dataDir = join(dir, 'loose');
    await upOnce(dataDir);
    await chmod(join(dataDir, 'master.key'), 0o644);
    const result = await run(['up', '--data-dir', dataDir]);
    expect(result.code).toBe(2);
    expect(result.stderr.trimEnd()).toMatch(
      /^tessera: invalid configuration: .*master\.key is readable by group or others \(mode 0644\); run chmod 600 /,
    );
  });

  it('shows the configuration with secrets hidden', async () => {
    const secret = Buffer.alloc(32, 9).toString('base64');
    const result = await run(['config', 'show', '--set', 'server.port=9000'], {
      TESSERA_MASTER_KEY: secret,
      TESSERA_STORE_DRIVER: 'postgres',
      TESSERA_STORE_POSTGRES_URL: 'postgres://admin:hunter2@db/tessera',
    });
    expect(result.code).toBe(0);
    const shown = JSON.parse(result.stdout) as {
      masterKey: string;
      server: { port: number };
      store: { postgres: { url: string } };
    };
    expect(shown.server.port).toBe(9000);
    expect(shown.masterKey).toBe('(set, hidden)');
    expect(shown.store.postgres.url).toBe('(set, hidden)');
    expect(result.stdout).not.toContain('hunter2');
    expect(result.stdout).not.toContain(secret);
  });
});

describe('tessera signing-key', { timeout: 120_000 }, () => {
  it('lists the keys and rotates on demand, normally and in an emergency', async () => {
    const dataDir = join(dir, 'keys');
    await upOnce(dataDir);

    const listed = await run(['signing-key', 'list', '--data-dir', dataDir]);
    expect(listed.code).toBe(0);
    const keys = (result: { stdout: string }): unknown[] => JSON.parse(result.stdout) as unknown[];
    expect(keys(listed)).toEqual([expect.objectContaining({ state: 'active', signing: true })]);

    const rotated = await run(['signing-key', 'rotate', '--data-dir', dataDir]);
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toMatch(/^rotated: \S+ {2}next /);
    const both = await run(['signing-key', 'list', '--data-dir', dataDir]);
    expect(keys(both)).toHaveLength(2);

    const emergency = await run(['signing-key', 'rotate', '--immediate', '--data-dir', dataDir]);
    expect(emergency.stdout).toMatch(/^rotated: \S+ {2}active /);
    const only = await run(['signing-key', 'list', '--data-dir', dataDir]);
    expect(keys(only)).toHaveLength(1);
  });

  it('refuses to run without the master key rather than make a new one', async () => {
    const result = await run(['signing-key', 'list', '--data-dir', join(dir, 'empty')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^tessera: invalid configuration: masterKey is required/);
  });
});
