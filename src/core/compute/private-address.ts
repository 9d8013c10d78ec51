// One spelling per private address (`properties.tessera.privateIpAddresses`), as the agent compares them.
import { isIP } from 'node:net';

const MAPPED_V4 = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/**
 * The canonical form of a private address as the agent compares them (src/agent/vm-map.ts
 * `canonicalAddress`, which must agree): IPv4 as given (Node's `isIP` accepts only the plain
 * dotted quad); IPv6 lower-case and compressed as RFC 5952 section 4 writes it, without a zone
 * (`%eth0`); an IPv4-mapped IPv6 address (`::ffff:10.0.0.4`, `::ffff:a00:4`) as its IPv4
 * address. Anything that is not an address is returned lower-cased, unchanged otherwise.
 */
export function canonicalPrivateAddress(address: string): string {
  const zone = address.indexOf('%');
  const bare = (zone < 0 ? address : address.slice(0, zone)).toLowerCase();
  if (isIP(bare) !== 6) return bare;
  // WHATWG URL serialises an IPv6 host compressed and lower-case, as RFC 5952 does.
  const compressed = new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  const mapped = MAPPED_V4.exec(compressed);
  if (mapped === null) return compressed;
  const high = parseInt(mapped[1] ?? '0', 16);
  const low = parseInt(mapped[2] ?? '0', 16);
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}
