// IMDS throttling per VM: 429 with Azure's body and Retry-After, concurrency, categories, 'off'.
import { afterEach, describe, expect, it } from 'vitest';
import { AZURE_IMDS_RATE_LIMIT, createImdsThrottle } from '../../src/agent/imds/throttle.js';
import { imds, ManualClock, startImds, tokenPath, type Harness } from './imds-harness.js';

const THROTTLED =
  '{"error":"invalid_request","error_description":"Temporarily throttled, too many requests"}';

describe('IMDS throttling over HTTP', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.server.close();
    h = undefined;
  });

  it('answers the 21st identity request in a second with Azure’s 429 and Retry-After', async () => {
    h = await startImds({ rateLimit: AZURE_IMDS_RATE_LIMIT });
    for (let i = 0; i < 20; i++) {
      expect((await imds(h.server.url, tokenPath())).status, `request ${String(i)}`).toBe(200);
    }
    const refused = await imds(h.server.url, tokenPath());
    expect(refused.status).toBe(429);
    expect(refused.text).toBe(THROTTLED);
    // The capture in azure-sdk-for-net #39574 has Content-Length 90.
    expect(refused.headers['content-length']).toBe('90');
    expect(refused.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(refused.headers['retry-after']).toBe('1');
    // Another VM has its own budget.
    expect((await imds(h.server.url, tokenPath(), { from: '127.0.0.3' })).status).toBe(200);
    // A second later the VM may ask again.
    h.clock.ms += 1000;
    expect((await imds(h.server.url, tokenPath())).status).toBe(200);
  });

  it('caps identity requests in flight at 5 per VM', async () => {
    h = await startImds({ rateLimit: AZURE_IMDS_RATE_LIMIT });
    let open!: () => void;
    h.backend.gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const url = h.server.url;
    const waiting = Array.from({ length: 5 }, () => imds(url, tokenPath()));
    while (h.backend.calls.length < 5) await new Promise((r) => setTimeout(r, 5));
    const sixth = await imds(url, tokenPath());
    expect(sixth.status).toBe(429);
    expect(sixth.headers['retry-after']).toBe('1');
    // Another VM is not held back by this one's requests in flight.
    waiting.push(imds(url, tokenPath(), { from: '127.0.0.3' }));
    while (h.backend.calls.length < 6) await new Promise((r) => setTimeout(r, 5));
    expect(h.backend.calls.at(-1)).toMatchObject({ vm: 'vm3' });
    open();
    for (const answer of await Promise.all(waiting)) expect(answer.status).toBe(200);
    h.backend.gate = undefined;
    expect((await imds(url, tokenPath())).status).toBe(200);
  });

  it('limits the other categories to 5 a second, apart from identity', async () => {
    h = await startImds({ rateLimit: AZURE_IMDS_RATE_LIMIT });
    const path = '/metadata/instance/compute/vmId?api-version=2021-02-01&format=text';
    for (let i = 0; i < 5; i++) expect((await imds(h.server.url, path)).status).toBe(200);
    const refused = await imds(h.server.url, path);
    expect(refused.status).toBe(429);
    expect(refused.text).toBe('{"error":"Temporarily throttled, too many requests"}');
    expect(refused.headers['retry-after']).toBe('1');
    expect((await imds(h.server.url, '/metadata/versions')).status).toBe(429);
    expect((await imds(h.server.url, tokenPath())).status).toBe(200);
  });

  it('throttles nothing with mode off', async () => {
    h = await startImds({ rateLimit: { ...AZURE_IMDS_RATE_LIMIT, mode: 'off' } });
    const answers = await Promise.all(
      Array.from({ length: 60 }, () => imds(h!.server.url, tokenPath())),
    );
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
  });

  it('honours configured numbers', async () => {
    h = await startImds({
      rateLimit: { mode: 'on', identityPerSecond: 2, identityConcurrent: 5, otherPerSecond: 1 },
    });
    expect((await imds(h.server.url, tokenPath())).status).toBe(200);
    expect((await imds(h.server.url, tokenPath())).status).toBe(200);
    expect((await imds(h.server.url, tokenPath())).status).toBe(429);
    expect((await imds(h.server.url, '/metadata/versions')).status).toBe(200);
    expect((await imds(h.server.url, '/metadata/versions')).status).toBe(429);
  });
});

describe('createImdsThrottle', () => {
  it('refills continuously and gives the seconds to wait', () => {
    const clock = new ManualClock(0);
    const throttle = createImdsThrottle(
      { mode: 'on', identityPerSecond: 4, identityConcurrent: 100, otherPerSecond: 1 },
      clock,
    );
    for (let i = 0; i < 4; i++) {
      expect(throttle.admit('vm', 'identity')).toBe(0);
      throttle.release('vm');
    }
    expect(throttle.admit('vm', 'identity')).toBe(1);
    clock.ms += 250; // one token back
    expect(throttle.admit('vm', 'identity')).toBe(0);
    throttle.release('vm');
    expect(throttle.admit('vm', 'identity')).toBe(1);
    expect(throttle.admit('vm', 'other')).toBe(0);
    expect(throttle.admit('vm', 'other')).toBe(1);
    expect(throttle.admit('other-vm', 'other')).toBe(0);
  });

  it('frees a concurrency slot on release only', () => {
    const throttle = createImdsThrottle(
      { mode: 'on', identityPerSecond: 100, identityConcurrent: 2, otherPerSecond: 1 },
      new ManualClock(0),
    );
    expect(throttle.admit('vm', 'identity')).toBe(0);
    expect(throttle.admit('vm', 'identity')).toBe(0);
    expect(throttle.admit('vm', 'identity')).toBe(1);
    throttle.release('vm');
    expect(throttle.admit('vm', 'identity')).toBe(0);
    throttle.release('unknown');
  });
});
