// Tests for the failed-secret limiter (fixed windows, bounded keys) and the gate of concurrent checks.
import { describe, expect, it } from 'vitest';
import { createConcurrencyGate, createFailureLimiter } from './secret-throttle.js';

const T0 = 1_763_900_000_000;

describe('createFailureLimiter', () => {
  it('refuses after maxFailures in a window, with the seconds left, then forgets', () => {
    const limiter = createFailureLimiter({ windowMs: 60_000, maxFailures: 3, maxKeys: 100 });
    for (let i = 0; i < 3; i++) {
      expect(limiter.retryAfter('app', T0 + i)).toBeUndefined();
      limiter.fail('app', T0 + i);
    }
    expect(limiter.retryAfter('app', T0 + 10)).toBe(60);
    expect(limiter.retryAfter('app', T0 + 59_001)).toBe(1);
    expect(limiter.retryAfter('other', T0 + 10)).toBeUndefined();
    expect(limiter.retryAfter('app', T0 + 60_000)).toBeUndefined();
    // A new window starts afresh.
    limiter.fail('app', T0 + 60_000);
    expect(limiter.retryAfter('app', T0 + 60_001)).toBeUndefined();
  });

  it('remembers at most maxKeys, forgetting the oldest window first', () => {
    const limiter = createFailureLimiter({ windowMs: 60_000, maxFailures: 1, maxKeys: 50 });
    for (let i = 0; i < 10_000; i++) limiter.fail(`10.0.${i >> 8}.${i & 255}`, T0);
    expect(limiter.size).toBe(50);
    expect(limiter.retryAfter('10.0.39.15', T0)).toBe(60);
    expect(limiter.retryAfter('10.0.0.0', T0)).toBeUndefined();
  });
});

describe('createConcurrencyGate', () => {
  it('runs at most `concurrent`, queues up to `queue`, refuses beyond, first come first served', async () => {
    const gate = createConcurrencyGate(2, 2);
    const a = await gate.acquire();
    const b = await gate.acquire();
    const order: string[] = [];
    const c = gate.acquire()?.then((release) => {
      order.push('c');
      return release;
    });
    const d = gate.acquire()?.then((release) => {
      order.push('d');
      return release;
    });
    expect(gate.acquire()).toBeUndefined();
    expect([gate.active, gate.waiting]).toEqual([2, 2]);
    a?.();
    a?.(); // giving a slot back twice frees it once
    const releaseC = await c;
    expect(order).toEqual(['c']);
    expect([gate.active, gate.waiting]).toEqual([2, 1]);
    b?.();
    const releaseD = await d;
    expect(order).toEqual(['c', 'd']);
    releaseC?.();
    releaseD?.();
    expect([gate.active, gate.waiting]).toEqual([0, 0]);
  });
});
