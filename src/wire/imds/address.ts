// Caller addresses as IMDS compares them: IPv4-mapped IPv6 folded to IPv4, IPv6 in lower case.

const MAPPED_PREFIX = '::ffff:';

/**
 * Normalises a socket's remote address for lookups: `::ffff:10.0.0.4` (what a dual-stack
 * listener reports for an IPv4 peer) becomes `10.0.0.4`, IPv6 is lower-cased, IPv4 is returned
 * as is. Zone ids (`fe80::1%eth0`) are kept. Does not validate.
 */
export function normaliseAddress(address: string): string {
  if (address.indexOf(':') < 0) return address;
  const lower = address.toLowerCase();
  if (lower.startsWith(MAPPED_PREFIX) && lower.indexOf('.', MAPPED_PREFIX.length) > 0) {
    return lower.slice(MAPPED_PREFIX.length);
  }
  return lower;
}

/** True for an IPv6 address (after {@link normaliseAddress}). */
export function isIpv6(address: string): boolean {
  return address.indexOf(':') >= 0;
}
