// The change signal: fire wakes at once, the feed poll wakes only those behind it, timeouts, aborts and close.
import { afterEach, describe, expect, it } from 'vitest';
import { type ChangeSignal, createChangeSignal } from './change-signal.js';

describe('change signal', () => {
  let latest = 0;
  let polls = 0;
  let signal: ChangeSignal;
  const make = (pollIntervalMs = 20, notified?: () => boolean): ChangeSignal =>
    createChangeSignal({
      feed: {
        bounds: () => {
          polls += 1;
          return Promise.resolve({ oldest: 1, latest });
        },
      },
      pollIntervalMs,
      ...(notified === undefined ? {} : { notified }),
    });
  const timed = async (wait: Promise<void>): Promise<number> => {
    const started = Date.now();
    await wait;
    return Date.now() - started;
  };

  afterEach(() => {
    signal.close();
    latest = 0;
    polls = 0;
  });

  it('wakes every waiter at once on fire, and not before', async () => {
    signal = make(60_000);
    let woke = 0;
    const seen = { latest: 0, generation: signal.generation };
    const waits = [1, 2].map(() => signal.wait(seen, 10_000).then(() => (woke += 1)));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(woke).toBe(0);
    signal.fire();
    await Promise.all(waits);
    expect(woke).toBe(2);
  });

  it('returns at once when a fire happened after the waiter looked at the feed', async () => {
    signal = make(60_000);
    const seen = { latest: 0, generation: signal.generation };
    signal.fire();
    expect(await timed(signal.wait(seen, 10_000))).toBeLessThan(50);
  });

  it('wakes, from the feed poll, only waiters behind the latest position', async () => {
    signal = make();
    latest = 5;
    let behind = false;
    let current = false;
    const generation = signal.generation;
    void signal.wait({ latest: 4, generation }, 10_000).then(() => (behind = true));
    const up = signal.wait({ latest: 5, generation }, 200).then(() => (current = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(behind).toBe(true);
    expect(current).toBe(false);
    await up;
    expect(polls).toBeGreaterThan(0);
    // With nobody waiting the poll stops.
    const after = polls;
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(polls).toBe(after);
  });

  it('skips the feed poll while notifications arrive, and polls again once they stop', async () => {
    let listening = true;
    signal = make(20, () => listening);
    latest = 5;
    let woke = false;
    void signal
      .wait({ latest: 4, generation: signal.generation }, 10_000)
      .then(() => (woke = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(polls).toBe(0);
    expect(woke).toBe(false);
    listening = false;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(polls).toBeGreaterThan(0);
    expect(woke).toBe(true);
  });

  it('ends a wait on timeout, on abort and on close', async () => {
    signal = make(60_000);
    const seen = { latest: 0, generation: signal.generation };
    expect(await timed(signal.wait(seen, 50))).toBeGreaterThanOrEqual(45);
    const abort = new AbortController();
    const aborted = signal.wait(seen, 10_000, abort.signal);
    abort.abort();
    expect(await timed(aborted)).toBeLessThan(50);
    const closing = signal.wait(seen, 10_000);
    signal.close();
    expect(await timed(closing)).toBeLessThan(50);
    expect(signal.closed).toBe(true);
    expect(await timed(signal.wait(seen, 10_000))).toBeLessThan(50);
  });
});
