// Where Tessera may fetch a foreign OIDC issuer's documents from: the URL policy and the address policy, checked as each connection is made.
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { ClientError } from './errors.js';

/** Which non-public destinations an issuer's URLs may reach. */
export interface AddressPolicy {
  /** Loopback addresses, and http:// to a loopback host (development only). */
  readonly allowLoopback: boolean;
  /** RFC 1918, IPv6 unique-local (fc00::/7) and carrier-grade NAT (100.64.0.0/10) addresses. */
  readonly allowPrivate: boolean;
}

/** One address a host name resolves to. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host name to all its addresses (the contract of `dns.promises.lookup(name, {all: true})`). */
export type Resolve = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** The system resolver, every address of the name. */
export const systemResolve: Resolve = async (hostname) => {
  const found = await dnsLookup(hostname, { all: true });
  return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

/** The ipaddr.js ranges `allowPrivate` opens (`loopback` is `allowLoopback`'s; only `unicast` is always open). */
const PRIVATE_RANGES = new Set<string>(['private', 'uniqueLocal', 'carrierGradeNat']);

/** NAT64's well-known prefix (RFC 6052 section 2.1): DNS64 gives it for IPv4-only hosts. */
const NAT64_PREFIX: [ipaddr.IPv6, number] = [ipaddr.IPv6.parse('64:ff9b::'), 96];

/** A host that `localhost` names (RFC 6761 section 6.3): it must resolve to loopback only. */
const isLocalhostName = (hostname: string): boolean =>
  hostname === 'localhost' || hostname.endsWith('.localhost');

/** The host of a URL without IPv6 brackets. */
export const bareHost = (url: URL): string => url.hostname.replace(/^\[|\]$/g, '');

/** The IPv4 address an IPv6 one carries and is routed by, if any. */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  if (address.isIPv4MappedAddress()) return address.toIPv4Address();
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0, h = 0] = address.parts;
  const low = new ipaddr.IPv4([g >> 8, g & 0xff, h >> 8, h & 0xff]);
  // IPv4-compatible ::a.b.c.d (RFC 4291 section 2.5.5.1, deprecated); :: and ::1 are IPv6's own.
  const compatible = a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && f === 0;
  if (compatible && !(g === 0 && (h === 0 || h === 1))) return low;
  // Through NAT64 the packet goes to the IPv4 address inside, so that is what is judged.
  if (address.match(NAT64_PREFIX)) return low;
  return undefined;
}

/** The ipaddr.js range an address is judged by (that of the IPv4 address inside, if any). */
function judgedRange(address: string): { range: string; inner: ipaddr.IPv4 | undefined } {
  if (isIP(address) === 0 || !ipaddr.isValid(address)) {
    return { range: 'not an IP address', inner: undefined };
  }
  const parsed = ipaddr.parse(address);
  const inner = parsed.kind() === 'ipv6' ? embeddedIPv4(parsed as ipaddr.IPv6) : undefined;
  return { range: (inner ?? parsed).range(), inner };
}

const isLoopback = (address: string): boolean => judgedRange(address).range === 'loopback';

/**
 * Why a connection to `address` is refused under `policy`, or undefined when it is allowed. Only
 * ipaddr.js's plain `unicast` is always allowed; `private`, `uniqueLocal` and `carrierGradeNat`
 * with `allowPrivate`, `loopback` with `allowLoopback`. Everything else is refused: unspecified,
 * broadcast, multicast, link-local (169.254.0.0/16 with the cloud metadata address, fe80::/10),
 * reserved and documentation ranges, 6to4, Teredo and the like. IPv4-mapped, IPv4-compatible and
 * NAT64 (64:ff9b::/96) IPv6 addresses are judged by the IPv4 address inside.
 */
export function addressRefusal(address: string, policy: AddressPolicy): string | undefined {
  const { range, inner } = judgedRange(address);
  if (range === 'unicast') return undefined;
  if (policy.allowPrivate && PRIVATE_RANGES.has(range)) return undefined;
  if (policy.allowLoopback && range === 'loopback') return undefined;
  return `${address} (${range}${inner === undefined ? '' : ` ${inner.toString()}`})`;
}

/** The error a refused address fails the connection with. */
function forbidden(detail: string, hostname: string): ClientError {
  return new ClientError('ForbiddenAddress', `forbidden address ${detail} for ${hostname}`);
}

/**
 * The addresses to connect to for `hostname` (an IP literal is its own), all of them allowed by
 * `policy`. Rejects with a `ForbiddenAddress` {@link ClientError} when any one is not (a name
 * with one bad address among good ones is refused whole), and when a `localhost` name resolves
 * to anything but loopback; with the resolver's error when the name does not resolve.
 */
export async function allowedAddresses(
  hostname: string,
  policy: AddressPolicy,
  resolve: Resolve,
): Promise<readonly ResolvedAddress[]> {
  const literal = isIP(hostname);
  const addresses: readonly ResolvedAddress[] =
    literal === 0
      ? await resolve(hostname)
      : [{ address: hostname, family: literal === 6 ? 6 : 4 }];
  for (const { address } of addresses) {
    const refusal = addressRefusal(address, policy);
    if (refusal !== undefined) throw forbidden(refusal, hostname);
    if (isLocalhostName(hostname) && !isLoopback(address)) {
      throw forbidden(`${address} (a localhost name must be loopback)`, hostname);
    }
  }
  if (addresses.length === 0) {
    throw Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' });
  }
  return addresses;
}

/**
 * A `lookup` for `net.connect` (and so for an http/https agent) that resolves with `resolve` and
 * hands the socket only addresses {@link allowedAddresses} passed: the address checked is the
 * address connected to, so a name that resolves differently the next time (DNS rebinding) gains
 * nothing. TLS still checks the certificate against the URL's host name.
 */
export function createGuardedLookup(policy: AddressPolicy, resolve: Resolve): LookupFunction {
  return (hostname, options, callback) => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
    allowedAddresses(hostname, policy, resolve).then(
      (addresses) => {
        const usable = addresses.filter((a) => !family || a.family === family);
        const first = usable[0];
        if (first === undefined) {
          const error = new Error(`${hostname} has no IPv${family} address`);
          callback(Object.assign(error, { code: 'ENOTFOUND' }), '');
        } else if (options.all === true) {
          callback(
            null,
            usable.map((a) => ({ address: a.address, family: a.family })),
          );
        } else {
          callback(null, first.address, first.family);
        }
      },
      (error: unknown) => {
        callback(error as NodeJS.ErrnoException, '');
      },
    );
  };
}

/**
 * `text` as a URL Tessera may fetch from, or why not: an absolute URL with no credentials and no
 * fragment, over https, or over http only when `allowLoopback` and the host is loopback (an IP
 * literal or a `localhost` name). An IP literal host must pass {@link addressRefusal}; a name is
 * judged when it is resolved, at connection time.
 */
export function checkedUrl(text: string, policy: AddressPolicy): URL | string {
  if (!URL.canParse(text)) return 'is not an absolute URL';
  const url = new URL(text);
  if (url.username !== '' || url.password !== '') return 'has credentials';
  // `href` keeps even an empty fragment's `#`, which `hash` does not show.
  if (url.href.includes('#')) return 'has a fragment';
  const host = bareHost(url);
  const literal = isIP(host) !== 0;
  if (url.protocol === 'http:') {
    const loopback = literal ? isLoopback(host) : isLocalhostName(host);
    if (!policy.allowLoopback || !loopback) return 'is not https';
  } else if (url.protocol !== 'https:') {
    return 'is not https';
  }
  const refusal = literal ? addressRefusal(host, policy) : undefined;
  return refusal === undefined ? url : `has a forbidden address ${refusal}`;
}
