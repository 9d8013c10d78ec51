import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { collectGarbage } from './release-memory.js';

/** A reference to an object nothing else holds. */
const unreferenced = (): WeakRef<object> => new WeakRef({ payload: Buffer.alloc(1024) });

describe('collectGarbage', () => {
  it('collects what nothing references any more, every time it is called', async () => {
    for (let round = 0; round < 2; round++) {
      const ref = unreferenced();
      // A WeakRef's target stays alive until the end of the job that made or read it.
      await nextTurn();
      collectGarbage();
      expect(ref.deref()).toBeUndefined();
    }
  });
});
