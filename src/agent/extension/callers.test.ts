// The shim's caller rules: loopback only, and one deprecation warning per caller per hour.
import { describe, expect, it } from 'vitest';
import { createDeprecationNotices, isLoopbackAddress } from './callers.js';

describe('isLoopbackAddress', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.0.0.2', true],
    ['127.255.255.254', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['::FFFF:127.0.0.3', true],
    ['10.0.0.4', false],
    ['169.254.169.254', false],
    ['128.0.0.1', false],
    ['::ffff:10.0.0.4', false],
    ['fe80::1', false],
    ['::', false],
    ['', false],
  ])('%s → %s', (address, expected) => {
    expect(isLoopbackAddress(address)).toBe(expected);
  });
});

describe('createDeprecationNotices', () => {
  const clockAt = (ms: number): { ms: number; now(): number } => ({
    ms,
    now() {
      return this.ms;
    },
  });

  it('warns a caller once per interval, callers apart by address and User-Agent', () => {
    const clock = clockAt(0);
    const notices = createDeprecationNotices({ clock });
    expect(notices.shouldWarn('127.0.0.1', 'curl/8')).toBe(true);
    expect(notices.shouldWarn('127.0.0.1', 'curl/8')).toBe(false);
    expect(notices.shouldWarn('127.0.0.1', 'python-requests/2')).toBe(true);
    expect(notices.shouldWarn('127.0.0.2', 'curl/8')).toBe(true);
    clock.ms = 3_599_999;
    expect(notices.shouldWarn('127.0.0.1', 'curl/8')).toBe(false);
    clock.ms = 3_600_000;
    expect(notices.shouldWarn('127.0.0.1', 'curl/8')).toBe(true);
    expect(notices.shouldWarn('127.0.0.1', 'curl/8')).toBe(false);
  });

  it('stays bounded: at the limit old notices go first, then all', () => {
    const clock = clockAt(0);
    const notices = createDeprecationNotices({ clock, intervalMs: 1000, maxCallers: 2 });
    expect(notices.shouldWarn('a', '')).toBe(true);
    expect(notices.shouldWarn('b', '')).toBe(true);
    // Full, nothing expired: everything is forgotten to make room.
    expect(notices.shouldWarn('c', '')).toBe(true);
    expect(notices.shouldWarn('a', '')).toBe(true);
    expect(notices.shouldWarn('c', '')).toBe(false);
    clock.ms = 1000;
    // Full again: the expired notices of 'c' and 'a' are dropped, 'd' is remembered.
    expect(notices.shouldWarn('d', '')).toBe(true);
    expect(notices.shouldWarn('d', '')).toBe(false);
  });
});
