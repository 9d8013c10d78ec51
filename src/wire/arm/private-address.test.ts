// Tests of the private-address canonicaliser, and that it agrees with the agent's.
import { describe, expect, it } from 'vitest';
import { canonicalAddress } from '../../agent/vm-map.js';
import { canonicalPrivateAddress } from './private-address.js';

const CASES: readonly (readonly [given: string, canonical: string])[] = [
  ['10.0.0.4', '10.0.0.4'],
  ['::ffff:10.0.0.4', '10.0.0.4'],
  ['::FFFF:10.0.0.4', '10.0.0.4'],
  ['::ffff:a00:4', '10.0.0.4'],
  ['0:0:0:0:0:ffff:0a00:0004', '10.0.0.4'],
  ['::ffff:127.0.0.2', '127.0.0.2'],
  ['FD00:0:0:0::A', 'fd00::a'],
  ['fd00:0000:0000:0000:0000:0000:0000:000a', 'fd00::a'],
  ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
  ['0:0:0:0:0:0:0:1', '::1'],
  ['::', '::'],
  ['fe80::1%eth0', 'fe80::1'],
  // Not IPv4-mapped: the SIIT form and IPv4-compatible addresses stay IPv6.
  ['::ffff:0:10.0.0.4', '::ffff:0:a00:4'],
  ['::10.0.0.4', '::a00:4'],
];

describe('canonicalPrivateAddress', () => {
  it.each(CASES)('%s -> %s', (given, canonical) => {
    expect(canonicalPrivateAddress(given)).toBe(canonical);
  });

  it("agrees with the agent's canonical form, which decides who gets a caller's identities", () => {
    for (const [given] of CASES) {
      expect([given, canonicalPrivateAddress(given)]).toEqual([given, canonicalAddress(given)]);
    }
  });
});
