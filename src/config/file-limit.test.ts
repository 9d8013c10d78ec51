// The open-file limit as /proc/self/limits gives it, and the connection budgets derived from it.
import { describe, expect, it } from 'vitest';
import {
  connectionBudget,
  FALLBACK_OPEN_FILE_LIMIT,
  openFileLimit,
  parseOpenFileLimit,
} from './file-limit.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max processes             127764               127764               processes
Max open files            20000                524288               files
Max locked memory         8388608              8388608              bytes
`;

describe('openFileLimit', () => {
  it('reads the soft limit of "Max open files"', () => {
    expect(parseOpenFileLimit(LIMITS)).toBe(20_000);
    expect(openFileLimit(() => LIMITS)).toBe(20_000);
    expect(parseOpenFileLimit('Max open files  unlimited  unlimited  files\n')).toBe(
      Number.MAX_SAFE_INTEGER,
    );
  });

  it('falls back to 1024 when the file is missing or says nothing usable', () => {
    expect(
      openFileLimit(() => {
        throw new Error('ENOENT');
      }),
    ).toBe(FALLBACK_OPEN_FILE_LIMIT);
    expect(openFileLimit(() => 'Max processes 1 1 processes\n')).toBe(FALLBACK_OPEN_FILE_LIMIT);
    expect(openFileLimit(() => 'Max open files  0  0  files\n')).toBe(FALLBACK_OPEN_FILE_LIMIT);
  });

  it('reads this process on Linux', () => {
    if (process.platform !== 'linux') return;
    expect(openFileLimit()).toBeGreaterThan(0);
  });
});

describe('connectionBudget', () => {
  it('shares what the reserve leaves, within the ceiling', () => {
    // A fifth reserved above 1,280 files, 256 below.
    expect(connectionBudget(20_000, 0.5, 100_000)).toBe(8_000);
    expect(connectionBudget(20_000, 0.25, 100_000)).toBe(4_000);
    expect(connectionBudget(1_024, 0.5, 100_000)).toBe(384);
    expect(connectionBudget(1_000_000, 0.5, 16_384)).toBe(16_384);
    expect(connectionBudget(200, 0.5, 100_000)).toBe(0);
  });
});
