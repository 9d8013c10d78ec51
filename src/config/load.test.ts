// Config loading: precedence, defaults, and one clear line for every kind of bad input.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../core/errors.js';
import { loadConfig, type LoadConfigOptions } from './load.js';
import { configLeaves, envVarFor } from './schema.js';

const KEY = Buffer.alloc(32, 7).toString('base64');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function load(options: LoadConfigOptions = {}): ReturnType<typeof loadConfig> {
  return loadConfig({ env: {}, cwd: dir, ...options });
}

function failure(options: LoadConfigOptions): string {
  try {
    load(options);
  } catch (error) {
    if (isAppError(error) && error.code === 'ConfigInvalid') return error.message;
    throw error;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('loadConfig', () => {
  it('fills every default and resolves paths against cwd', () => {
    const config = load();
    expect(config.dataDir).toBe(join(dir, '.tessera'));
    expect(config.store.driver).toBe('sqlite');
    expect(config.store.sqlite).toEqual({
      file: join(dir, '.tessera', 'tessera.db'),
      busyTimeoutMs: 5000,
    });
    expect(config.store.postgres).toEqual({ schema: 'public', poolMax: 10 });
    expect(config.server).toEqual({
      host: '127.0.0.1',
      port: 8443,
      httpsPort: 8444,
      tls: {},
      tokens: {
        lifetimeSeconds: 86_700,
        signingKeyRotationDays: 30,
        signingKeyPublishLeadHours: 24,
        secretFailures: { windowSeconds: 60, perClient: 10, perSource: 30 },
      },
      directory: { certificateLifetimeDays: 7 },
      keyVault: { dnsSuffix: 'vault.localhost', softDeleteRetentionDays: 90 },
      federation: { allowPrivateIssuers: false },
    });
    expect(config.agent.imds).toEqual({
      host: '127.0.0.1',
      port: 8080,
      rateLimit: { mode: 'on', identityPerSecond: 20, identityConcurrent: 5, otherPerSecond: 5 },
      connections: {
        perAddress: 64,
        max: 0,
        headersTimeoutMs: 5_000,
        requestTimeoutMs: 10_000,
        keepAliveTimeoutMs: 5_000,
        idleTimeoutMs: 60_000,
      },
    });
    expect(config.agent.sealKeys).toBe(false);
    const off = loadConfig({ env: { TESSERA_IMDS_RATE_LIMIT: 'off' }, cwd: '/srv', flags: {} });
    expect(off.agent.imds.rateLimit.mode).toBe('off');
    expect(config.agent.metrics).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(config.log.level).toBe('info');
    expect(config.masterKey).toBeUndefined();
    expect(config.audit).toEqual({
      retention: { maxAgeDays: 30, maxRows: 1_000_000 },
      refusalWindowSeconds: 60,
    });
  });

  it('applies flags over env over file over defaults, key by key', async () => {
    const file = join(dir, 'precedence.yaml');
    await writeFile(
      file,
      'server:\n  port: 1001\n  host: 10.0.0.1\nlog:\n  level: debug\nstore:\n  sqlite:\n    busyTimeoutMs: 7\n',
    );
    const config = load({
      configFile: file,
      env: { TESSERA_SERVER_PORT: '1002', TESSERA_LOG_LEVEL: 'warn' },
      flags: { 'server.port': '1003' },
    });
    expect(config.server.port).toBe(1003); // flag beats env and file
    expect(config.log.level).toBe('warn'); // env beats file
    expect(config.server.host).toBe('10.0.0.1'); // file beats default
    expect(config.store.sqlite.busyTimeoutMs).toBe(7);
    expect(config.agent.imds.port).toBe(8080); // default
  });

  it('reads JSON files and the file named by TESSERA_CONFIG', async () => {
    const file = join(dir, 'c.json');
    await writeFile(
      file,
      JSON.stringify({ store: { driver: 'postgres', postgres: { url: 'postgres://u@h/db' } } }),
    );
    const config = load({ env: { TESSERA_CONFIG: file } });
    expect(config.store.driver).toBe('postgres');
    expect(config.store.postgres.url).toBe('postgres://u@h/db');
  });

  it('treats an empty YAML file as an empty configuration', async () => {
    const file = join(dir, 'empty.yml');
    await writeFile(file, '# nothing here\n');
    expect(load({ configFile: file }).server.port).toBe(8443);
  });

  it('derives an env name for every leaf and accepts each one', () => {
    expect(envVarFor('store.sqlite.busyTimeoutMs')).toBe('TESSERA_STORE_SQLITE_BUSY_TIMEOUT_MS');
    const names = configLeaves.map((l) => l.env);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('TESSERA_MASTER_KEY');
    expect(names).toContain('TESSERA_DATA_DIR');
    expect(load({ env: { TESSERA_MASTER_KEY: KEY } }).masterKey).toBe(KEY);
  });

  it('ignores TESSERA_TEST_* variables and empty values', () => {
    const config = load({
      env: { TESSERA_TEST_POSTGRES_URL: 'postgres://x', TESSERA_SERVER_PORT: '' },
    });
    expect(config.server.port).toBe(8443);
  });
});

describe('loadConfig rejects bad input with one line naming the key', () => {
  it.each<[string, LoadConfigOptions, RegExp]>([
    [
      'unknown env variable',
      { env: { TESSERA_SERVER_PROT: '1' } },
      /unknown environment variable TESSERA_SERVER_PROT/,
    ],
    [
      'wrong type from env',
      { env: { TESSERA_SERVER_PORT: 'eighty' } },
      /server\.port \(from TESSERA_SERVER_PORT\): expected an integer between 0 and 65535, got "eighty"/,
    ],
    [
      'out of range flag',
      { flags: { 'server.port': 70000 } },
      /server\.port \(from flags\): expected an integer between 0 and 65535, got 70000/,
    ],
    [
      'bad enum',
      { env: { TESSERA_LOG_LEVEL: 'loud' } },
      /log\.level .*expected one of "fatal", "error"/,
    ],
    [
      'unknown flag key',
      { flags: { 'server.colour': 'red' } },
      /unknown key "server\.colour" \(from flags\)/,
    ],
    [
      'postgres without url',
      { env: { TESSERA_STORE_DRIVER: 'postgres' } },
      /store\.postgres\.url is required when store\.driver is "postgres" \(set TESSERA_STORE_POSTGRES_URL\)/,
    ],
    [
      'half a TLS pair',
      { flags: { 'server.tls.certFile': 'c.pem' } },
      /server\.tls\.keyFile is required when server\.tls\.certFile is set/,
    ],
    [
      'bad URL',
      { env: { TESSERA_PUBLIC_URL: 'ftp://x' } },
      /publicUrl .*expected an http:\/\/ or https:\/\/ URL/,
    ],
  ])('%s', (_name, options, pattern) => {
    const message = failure(options);
    expect(message).toMatch(/^invalid configuration: /);
    expect(message).toMatch(pattern);
    expect(message).not.toContain('\n');
  });

  it('names an unknown key and the file it is in', async () => {
    const file = join(dir, 'unknown.yaml');
    await writeFile(file, 'server:\n  port: 1\n  portt: 2\n');
    expect(failure({ configFile: file })).toBe(
      `invalid configuration: unknown key "server.portt" in ${file}`,
    );
  });

  it('names a wrong type in a file', async () => {
    const file = join(dir, 'type.json');
    await writeFile(file, JSON.stringify({ store: { sqlite: { busyTimeoutMs: 'soon' } } }));
    expect(failure({ configFile: file })).toBe(
      `invalid configuration: store.sqlite.busyTimeoutMs (from ${file}): expected an integer >= 0, got "soon"`,
    );
  });

  it('reports a missing, unreadable, unparsable or misnamed file', async () => {
    expect(failure({ configFile: join(dir, 'nope.yaml') })).toMatch(
      /cannot read config file .*nope\.yaml: no such file/,
    );
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{"server": ');
    expect(failure({ configFile: broken })).toMatch(/cannot parse config file .*broken\.json/);
    const badYaml = join(dir, 'broken.yaml');
    await writeFile(badYaml, 'server:\n  port: [1,\n');
    expect(failure({ configFile: badYaml })).toMatch(/cannot parse config file .*broken\.yaml/);
    const list = join(dir, 'list.yaml');
    await writeFile(list, '- a\n- b\n');
    expect(failure({ configFile: list })).toMatch(/must contain an object/);
    expect(failure({ configFile: join(dir, 'config.toml') })).toMatch(
      /must end in \.json, \.yaml or \.yml/,
    );
    if (process.getuid?.() !== 0) {
      const locked = join(dir, 'locked.json');
      await writeFile(locked, '{}');
      await chmod(locked, 0);
      expect(failure({ configFile: locked })).toMatch(/permission denied/);
    }
  });

  it('never echoes a secret value', async () => {
    const secretKey = 'c2VjcmV0LWJ1dC10b28tc2hvcnQ=';
    const message = failure({ env: { TESSERA_MASTER_KEY: secretKey } });
    expect(message).toMatch(
      /masterKey \(from TESSERA_MASTER_KEY\): expected base64 .* of exactly 32 bytes, got a value of the wrong form/,
    );
    expect(message).not.toContain(secretKey);
    const url = 'mysql://admin:hunter2@db/x';
    const urlMessage = failure({ env: { TESSERA_STORE_POSTGRES_URL: url } });
    expect(urlMessage).toMatch(/store\.postgres\.url/);
    expect(urlMessage).not.toContain('hunter2');
    const file = join(dir, 'secret.yaml');
    await writeFile(file, 'masterKey: 12345\n');
    expect(failure({ configFile: file })).not.toContain('12345');
  });

  it('rejects a truncated or non-canonical master key', () => {
    const truncated = KEY.slice(0, -4);
    expect(failure({ env: { TESSERA_MASTER_KEY: truncated } })).toMatch(/masterKey/);
    expect(load({ env: { TESSERA_MASTER_KEY: KEY.replace(/=+$/, '') } }).masterKey).toBeDefined();
  });

  it('does not let a __proto__ key reach Object.prototype', async () => {
    const file = join(dir, 'proto.json');
    await writeFile(file, '{"__proto__": {"polluted": true}}');
    expect(failure({ configFile: file })).toMatch(/unknown key "__proto__"/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
