import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createCoalescedWriter } from './coalesced-writer.js';

/** A writer whose writes take `ms` and are recorded with the state they saw. */
function recorder(ms = 10) {
  const writes: number[] = [];
  let state = 0;
  const errors: unknown[] = [];
  let failNext = false;
  const writer = createCoalescedWriter(
    async () => {
      const seen = state;
      await sleep(ms);
      if (failNext) {
        failNext = false;
        throw new Error('disk full');
      }
      writes.push(seen);
    },
    (error) => errors.push(error),
    100,
  );
  return {
    writer,
    writes,
    errors,
    change: () => {
      state += 1;
      writer.request();
    },
    failNextWrite: () => {
      failNext = true;
    },
  };
}

describe('createCoalescedWriter', () => {
  it('writes the first change at once and the changes during a write together, after the gap', async () => {
    const r = recorder();
    r.change();
    await sleep(1);
    for (let i = 0; i < 50; i++) r.change();
    await sleep(40);
    expect(r.writes).toEqual([1]);
    await sleep(120);
    expect(r.writes).toEqual([1, 51]);
  });

  it('flush writes what is pending without waiting out the gap', async () => {
    const r = recorder();
    r.change();
    await sleep(1);
    r.change();
    const started = performance.now();
    await r.writer.flush();
    expect(performance.now() - started).toBeLessThan(80);
    expect(r.writes).toEqual([1, 2]);
  });

  it('reports a failed write and writes again on the next change', async () => {
    const r = recorder();
    r.failNextWrite();
    r.change();
    await r.writer.flush();
    expect(r.errors).toHaveLength(1);
    expect(r.writes).toEqual([]);
    r.change();
    await r.writer.flush();
    expect(r.writes).toEqual([2]);
  });
});
