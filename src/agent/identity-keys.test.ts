// Identity keys: one CSR for concurrent first uses, renewal at two thirds of the lifetime, drops, sealing.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  certificateEndpoint,
  createTestCa,
  fakeClient,
  silentLogger,
  type TestCa,
} from '../../test/agent/agent-fixtures.js';
import { AppError } from '../core/errors.js';
import { createManualClock, type ManualClock } from './clock.js';
import { createIdentityKeys, type KeySealing, renewalTime } from './identity-keys.js';
import { upstreamUnavailable } from './server-client.js';

const P1 = '10000000-0000-0000-0000-000000000001';
const P2 = '10000000-0000-0000-0000-000000000002';
const MINUTE = 60_000;
const LIFETIME = 90 * MINUTE;

let ca: TestCa;
const dirs: string[] = [];
beforeAll(async () => {
  ca = await createTestCa(createManualClock().now());
});
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

function keysWith(
  clock: ManualClock,
  options: { sealing?: KeySealing; failing?: () => boolean } = {},
) {
  const endpoint = certificateEndpoint(ca, () => clock.now(), LIFETIME);
  const client = fakeClient({
    certificate: (principalId, request) =>
      options.failing?.() === true
        ? Promise.reject(upstreamUnavailable('down', 5))
        : endpoint.handler(principalId, request),
  });
  const keys = createIdentityKeys({
    client,
    clock,
    logger: silentLogger(),
    random: () => 0.5,
    sealing: options.sealing,
  });
  return { keys, calls: endpoint.calls };
}

describe('identity keys', () => {
  it('makes one key and one CSR for concurrent first uses', async () => {
    const clock = createManualClock();
    const { keys, calls } = keysWith(clock);
    const all = await Promise.all(Array.from({ length: 10 }, () => keys.get(P1)));
    expect(calls).toEqual([P1]);
    expect(new Set(all).size).toBe(1);
    expect(all[0]?.x5tS256).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(keys.current(P1)).toBe(all[0]);
    await keys.stop();
  });

  it('renews at two thirds of the certificate lifetime with a new key, and keeps the old one until then', async () => {
    const clock = createManualClock();
    const { keys, calls } = keysWith(clock);
    const first = await keys.get(P1);
    expect(renewalTime(first.notBefore, first.notAfter)).toBe(first.notBefore + 60 * MINUTE);
    await clock.advance(first.notBefore + 60 * MINUTE - clock.now() - 1000);
    expect(calls).toHaveLength(1);
    expect(await keys.get(P1)).toBe(first);
    await clock.advance(1000);
    // Key generation and signing run on libuv's pool: wait for them in real time.
    await vi.waitFor(() => {
      expect(keys.current(P1)).not.toBe(first);
    });
    expect(calls).toHaveLength(2);
    const second = keys.current(P1);
    expect(second).not.toBe(first);
    expect(second?.privateKey.export({ format: 'jwk' }).d).not.toBe(
      first.privateKey.export({ format: 'jwk' }).d,
    );
    expect(second?.notAfter).toBeGreaterThan(first.notAfter);
    // And again two thirds into the new certificate's lifetime.
    await clock.advance(60 * MINUTE);
    await vi.waitFor(() => {
      expect(calls).toHaveLength(3);
    });
    await keys.stop();
    expect(clock.pending()).toBe(0);
  });

  it('retries a failed renewal with backoff while the current certificate is still used', async () => {
    const clock = createManualClock();
    let down = false;
    const { keys, calls } = keysWith(clock, { failing: () => down });
    const first = await keys.get(P1);
    down = true;
    await clock.advance(60 * MINUTE);
    // The renewal failed (in real time) and a retry is scheduled.
    await vi.waitFor(() => {
      expect(clock.pending()).toBe(1);
    });
    expect(keys.current(P1)).toBe(first);
    down = false;
    await clock.advance(999); // the first retry is due after 1 s (random 0.5: no spread)
    expect(keys.current(P1)).toBe(first);
    await clock.advance(1);
    await vi.waitFor(() => {
      expect(keys.current(P1)).not.toBe(first);
    });
    expect(calls).toHaveLength(2);
    await keys.stop();
  });

  it('fails a first use with 503 while the server is down, and certifies on the next use', async () => {
    const clock = createManualClock();
    let down = true;
    const { keys } = keysWith(clock, { failing: () => down });
    await expect(keys.get(P1)).rejects.toMatchObject({ code: 'ServiceUnavailable', status: 503 });
    expect(keys.held()).toEqual([]);
    down = false;
    await keys.get(P1);
    expect(keys.held()).toEqual([P1]);
  });

  it('drops the keys of identities no longer in use and certifies new ones in advance', async () => {
    const clock = createManualClock();
    const { keys, calls } = keysWith(clock);
    keys.provision([P1, P2]);
    // Both are in flight already: these join them rather than make new CSRs.
    await Promise.all([keys.get(P1), keys.get(P2)]);
    expect(calls.sort()).toEqual([P1, P2]);
    expect(keys.held().sort()).toEqual([P1, P2]);
    keys.retain(new Set([P2]));
    expect(keys.held()).toEqual([P2]);
    expect(keys.current(P1)).toBeUndefined();
    keys.drop([P2]);
    expect(keys.held()).toEqual([]);
    expect(clock.pending()).toBe(0);
  });

  it('certifies in advance in batches, each identity settling on its own, and one by one for a server without the route', async () => {
    const clock = createManualClock();
    const endpoint = certificateEndpoint(ca, () => clock.now(), LIFETIME);
    const ids = Array.from(
      { length: 120 },
      (_, i) => `20000000-0000-0000-0000-${String(i).padStart(12, '0')}`,
    );
    const refused = ids[7] ?? '';
    const batches: number[] = [];
    let batchRoute = true;
    const client = fakeClient({
      certificate: endpoint.handler,
      certificates: async (requests) => {
        if (!batchRoute) throw new AppError('NotFound', 'no such operation', { status: 404 });
        batches.push(requests.length);
        return Promise.all(
          requests.map(async ({ principalId, csr }) =>
            principalId === refused
              ? {
                  principalId,
                  error: new AppError('Forbidden', 'not on this host', { status: 403 }),
                }
              : { principalId, certificate: await endpoint.handler(principalId, { csr }) },
          ),
        );
      },
    });
    const keys = createIdentityKeys({
      client,
      clock,
      logger: silentLogger(),
      provisionConcurrency: 2,
    });
    keys.provision(ids);
    await vi.waitFor(() => {
      expect(keys.held()).toHaveLength(119);
    });
    expect(batches).toEqual([50, 50, 20]);
    expect(keys.current(refused)).toBeUndefined();
    expect(endpoint.calls).toHaveLength(119);
    batchRoute = false;
    keys.provision([P1, P2]);
    await vi.waitFor(() => {
      expect(keys.held()).toHaveLength(121);
    });
    expect(endpoint.calls.slice(119).sort()).toEqual([P1, P2]);
    await keys.stop();
  });

  it('seals keys to disk (0600, unreadable without the host key) and loads them after a restart', async () => {
    const clock = createManualClock();
    const dir = await mkdtemp(join(tmpdir(), 'tessera-keys-'));
    dirs.push(dir);
    const hostKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const sealing: KeySealing = {
      file: join(dir, 'keys.json'),
      hostId: 'host-1',
      hostKey: () => hostKey,
      enabled: true,
    };
    const before = keysWith(clock, { sealing });
    const credential = await before.keys.get(P1);
    await before.keys.stop();
    expect((await stat(sealing.file)).mode & 0o777).toBe(0o600);
    const text = await readFile(sealing.file, 'utf8');
    expect(text).not.toContain('PRIVATE KEY');
    expect(text).not.toContain('CERTIFICATE');

    const after = keysWith(clock, { sealing });
    expect(await after.keys.load()).toBe(1);
    expect(after.calls).toEqual([]);
    const loaded = await after.keys.get(P1);
    expect(loaded.x5tS256).toBe(credential.x5tS256);
    expect(loaded.privateKey.export({ format: 'jwk' })).toEqual(
      credential.privateKey.export({ format: 'jwk' }),
    );
    await after.keys.stop();

    const otherHost = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const stranger = keysWith(clock, { sealing: { ...sealing, hostKey: () => otherHost } });
    expect(await stranger.keys.load()).toBe(0);

    // A flipped byte is caught by the authentication tag.
    const sealed = JSON.parse(text) as { data: string };
    const bytes = Buffer.from(sealed.data, 'base64');
    bytes[0] = (bytes[0] ?? 0) ^ 1;
    await writeFile(sealing.file, JSON.stringify({ ...sealed, data: bytes.toString('base64') }), {
      mode: 0o600,
    });
    expect(await keysWith(clock, { sealing }).keys.load()).toBe(0);

    // With sealing off the file is removed.
    await keysWith(clock, { sealing: { ...sealing, enabled: false } }).keys.load();
    await expect(stat(sealing.file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('does not load expired sealed keys', async () => {
    const clock = createManualClock();
    const dir = await mkdtemp(join(tmpdir(), 'tessera-keys-'));
    dirs.push(dir);
    const hostKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const sealing: KeySealing = {
      file: join(dir, 'keys.json'),
      hostId: 'host-1',
      hostKey: () => hostKey,
      enabled: true,
    };
    const before = keysWith(clock, { sealing });
    await before.keys.get(P1);
    await before.keys.stop();
    const later = createManualClock(clock.now() + LIFETIME);
    expect(await keysWith(later, { sealing }).keys.load()).toBe(0);
  });
});
