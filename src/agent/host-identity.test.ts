// Host identity: registration once with a join token, the private state file, and renewal at two thirds.
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RegisterRequest } from '../wire/agent-api.js';
import {
  createTestCa,
  fakeClient,
  registration,
  silentLogger,
  type TestCa,
} from '../../test/agent/agent-fixtures.js';
import { createManualClock, type ManualClock } from './clock.js';
import { HOST_STATE_FILE, loadOrRegisterHost } from './host-identity.js';
import type { HostCredentials } from './server-client.js';

const JOIN_TOKEN = 'join-token-0123456789abcdef';
const DAY = 86_400_000;

let ca: TestCa;
const dirs: string[] = [];
beforeAll(async () => {
  ca = await createTestCa(createManualClock().now());
});
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function stateDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-host-'));
  dirs.push(dir);
  return join(dir, 'state');
}

function serverFor(clock: ManualClock) {
  const registered: RegisterRequest[] = [];
  const renewed: string[] = [];
  const used: (HostCredentials | undefined)[] = [];
  const client = fakeClient({
    useHost: (credentials) => used.push(credentials),
    async register(request) {
      registered.push(request);
      return registration(ca, request.csr, clock.now(), 30 * DAY);
    },
    async renew(csr) {
      renewed.push(csr);
      return registration(ca, csr, clock.now(), 30 * DAY);
    },
  });
  return { client, registered, renewed, used };
}

describe('host identity', () => {
  it('registers once with the join token, keeps the state private, and loads it without one', async () => {
    const clock = createManualClock();
    const dir = await stateDir();
    const server = serverFor(clock);
    const logger = silentLogger();
    const host = await loadOrRegisterHost({
      stateDir: dir,
      client: server.client,
      joinToken: JOIN_TOKEN,
      clock,
      logger,
    });
    expect(host.hostId).toBe('host-1');
    expect(server.registered).toHaveLength(1);
    expect(server.registered[0]?.csr).toContain('BEGIN CERTIFICATE REQUEST');
    expect(server.used.at(-1)).toBe(host.credentials());
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const file = join(dir, HOST_STATE_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain(JOIN_TOKEN);
    expect(host.caCertificates()).toEqual([ca.pem]);

    const again = await loadOrRegisterHost({ stateDir: dir, client: server.client, clock, logger });
    expect(server.registered).toHaveLength(1);
    expect(again.hostId).toBe('host-1');
    expect(again.credentials().certificateDer).toEqual(host.credentials().certificateDer);
  });

  it('refuses to start unregistered without a join token, or with a state file others can read', async () => {
    const clock = createManualClock();
    const dir = await stateDir();
    const server = serverFor(clock);
    const options = { stateDir: dir, client: server.client, clock, logger: silentLogger() };
    await expect(loadOrRegisterHost(options)).rejects.toMatchObject({ code: 'ConfigInvalid' });
    await loadOrRegisterHost({ ...options, joinToken: JOIN_TOKEN });
    await chmod(join(dir, HOST_STATE_FILE), 0o644);
    await expect(loadOrRegisterHost(options)).rejects.toMatchObject({
      code: 'ConfigInvalid',
      message: expect.stringContaining('chmod 600') as unknown,
    });
  });

  it('keeps the registration when replicas are added, removed or reordered, and warns only for a server it never knew', async () => {
    const clock = createManualClock();
    const dir = await stateDir();
    const server = serverFor(clock);
    const logger = silentLogger();
    const warn = vi.spyOn(logger, 'warn');
    const withUrls = (serverUrls: string[]) => ({
      ...server.client,
      serverUrl: serverUrls[0] ?? '',
      serverUrls,
    });
    const load = (serverUrls: string[]) =>
      loadOrRegisterHost({ stateDir: dir, client: withUrls(serverUrls), clock, logger });
    await loadOrRegisterHost({
      stateDir: dir,
      client: withUrls(['https://a:8444']),
      joinToken: JOIN_TOKEN,
      clock,
      logger,
    });
    const saved = JSON.parse(await readFile(join(dir, HOST_STATE_FILE), 'utf8')) as unknown;
    expect(saved).toMatchObject({ serverUrl: 'https://a:8444', serverUrls: ['https://a:8444'] });
    for (const urls of [
      ['https://a:8444', 'https://b:8444'],
      ['https://b:8444', 'https://a:8444'],
    ]) {
      expect((await load(urls)).hostId).toBe('host-1');
    }
    expect(warn).not.toHaveBeenCalled();
    expect((await load(['https://b:8444'])).hostId).toBe('host-1');
    expect(warn).not.toHaveBeenCalled();
    expect((await load(['https://elsewhere:8444'])).hostId).toBe('host-1');
    expect(warn).toHaveBeenCalledTimes(1);
    // Recorded: said once.
    await load(['https://elsewhere:8444']);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(server.registered).toHaveLength(1);
  });

  it('registers again with a new join token when the stored certificate has expired', async () => {
    const clock = createManualClock();
    const dir = await stateDir();
    const server = serverFor(clock);
    const options = { stateDir: dir, client: server.client, clock, logger: silentLogger() };
    await loadOrRegisterHost({ ...options, joinToken: JOIN_TOKEN });
    await clock.advance(31 * DAY);
    await expect(loadOrRegisterHost(options)).rejects.toMatchObject({
      message: expect.stringContaining('expired') as unknown,
    });
    await loadOrRegisterHost({ ...options, joinToken: `${JOIN_TOKEN}-2` });
    expect(server.registered.map((r) => r.joinToken)).toEqual([JOIN_TOKEN, `${JOIN_TOKEN}-2`]);
  });

  it('renews the certificate with a new key at two thirds of its lifetime and saves it', async () => {
    const clock = createManualClock();
    const dir = await stateDir();
    const server = serverFor(clock);
    const host = await loadOrRegisterHost({
      stateDir: dir,
      client: server.client,
      joinToken: JOIN_TOKEN,
      clock,
      logger: silentLogger(),
    });
    const first = host.credentials();
    const firstNotAfter = host.certificateNotAfter();
    let renewals = 0;
    host.onRenewed(() => {
      renewals += 1;
    });
    host.startRenewal();
    await clock.advance(20 * DAY - 1000);
    expect(server.renewed).toHaveLength(0);
    await clock.advance(1000);
    await vi.waitFor(() => {
      expect(renewals).toBe(1);
    });
    expect(server.renewed).toHaveLength(1);
    expect(host.credentials()).not.toBe(first);
    expect(host.credentials().privateKey.export({ format: 'jwk' }).d).not.toBe(
      first.privateKey.export({ format: 'jwk' }).d,
    );
    expect(host.certificateNotAfter()).toBeGreaterThan(firstNotAfter);
    expect(server.used.at(-1)).toBe(host.credentials());
    const saved = JSON.parse(await readFile(join(dir, HOST_STATE_FILE), 'utf8')) as {
      privateKey: string;
    };
    expect(saved.privateKey).toBe(
      host.credentials().privateKey.export({ format: 'pem', type: 'pkcs8' }),
    );
    host.stop();
    expect(clock.pending()).toBe(0);
  });
});
