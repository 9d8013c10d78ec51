import { describe, expect, it } from 'vitest';
import { isIpv6, normaliseAddress } from './address.js';

describe('normaliseAddress', () => {
  it.each([
    ['10.0.0.4', '10.0.0.4'],
    ['::ffff:10.0.0.4', '10.0.0.4'],
    ['::FFFF:127.0.0.2', '127.0.0.2'],
    ['FD00::4', 'fd00::4'],
    ['::1', '::1'],
    ['::ffff:a00:4', '::ffff:a00:4'],
  ])('%s → %s', (given, expected) => {
    expect(normaliseAddress(given)).toBe(expected);
  });

  it('tells IPv6 from IPv4', () => {
    expect(isIpv6('fd00::4')).toBe(true);
    expect(isIpv6('10.0.0.4')).toBe(false);
  });
});
