import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { mapConcurrently } from './concurrency.js';

describe('mapConcurrently', () => {
  it('keeps the order, runs at most `limit` at once and starts the next as one ends', async () => {
    let running = 0;
    let most = 0;
    const results = await mapConcurrently([30, 5, 5, 5, 5, 5], 2, async (ms) => {
      running += 1;
      most = Math.max(most, running);
      await sleep(ms);
      running -= 1;
      return ms * 2;
    });
    expect(results).toEqual([60, 10, 10, 10, 10, 10]);
    expect(most).toBe(2);
  });

  it('answers an empty list and rejects with the first failure, starting nothing after it', async () => {
    expect(await mapConcurrently([], 4, () => Promise.resolve(1))).toEqual([]);
    const started: number[] = [];
    await expect(
      mapConcurrently([1, 2, 3, 4], 1, async (n) => {
        started.push(n);
        if (n === 2) throw new Error('two');
        return Promise.resolve(n);
      }),
    ).rejects.toThrow('two');
    expect(started).toEqual([1, 2]);
  });
});
