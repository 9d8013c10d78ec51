// The URL and address policy for fetching from foreign OIDC issuers: which ranges each policy opens, and the lookup that enforces it.
import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { ClientError } from './errors.js';
import {
  addressRefusal,
  allowedAddresses,
  checkedUrl,
  createGuardedLookup,
  type AddressPolicy,
  type Resolve,
} from './issuer-address.js';

const STRICT: AddressPolicy = { allowLoopback: false, allowPrivate: false };
const PRIVATE: AddressPolicy = { allowLoopback: false, allowPrivate: true };
const LOOPBACK: AddressPolicy = { allowLoopback: true, allowPrivate: false };
const BOTH: AddressPolicy = { allowLoopback: true, allowPrivate: true };

const resolver =
  (table: Record<string, string[]>): Resolve =>
  (hostname) => {
    const addresses = table[hostname];
    if (addresses === undefined) {
      return Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }));
    }
    return Promise.resolve(
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }) as const),
    );
  };

describe('addressRefusal', () => {
  it('allows public unicast under every policy', () => {
    for (const address of ['140.82.112.3', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8']) {
      for (const policy of [STRICT, PRIVATE, LOOPBACK, BOTH]) {
        expect(addressRefusal(address, policy)).toBeUndefined();
      }
    }
  });

  it('refuses whatever is not unicast under every policy, naming the range', () => {
    const always = {
      '0.0.0.0': 'unspecified',
      '::': 'unspecified',
      '255.255.255.255': 'broadcast',
      '224.0.0.1': 'multicast',
      'ff02::1': 'multicast',
      '169.254.169.254': 'linkLocal',
      'fe80::1': 'linkLocal',
      '192.0.2.1': 'reserved',
      '240.0.0.1': 'reserved',
      '2001:db8::1': 'reserved',
      '2002:a9fe:a9fe::': '6to4',
      'not-an-address': 'not an IP address',
    };
    for (const [address, range] of Object.entries(always)) {
      for (const policy of [STRICT, BOTH]) {
        expect(addressRefusal(address, policy)).toContain(range);
      }
    }
  });

  it('judges IPv4-mapped, IPv4-compatible and NAT64 IPv6 by the IPv4 address inside', () => {
    expect(addressRefusal('::ffff:169.254.169.254', BOTH)).toBe(
      '::ffff:169.254.169.254 (linkLocal 169.254.169.254)',
    );
    expect(addressRefusal('::ffff:a9fe:a9fe', BOTH)).toContain('linkLocal');
    expect(addressRefusal('::169.254.169.254', BOTH)).toContain('linkLocal 169.254.169.254');
    expect(addressRefusal('64:ff9b::169.254.169.254', BOTH)).toContain('linkLocal');
    expect(addressRefusal('64:ff9b::8.8.8.8', STRICT)).toBeUndefined();
    expect(addressRefusal('::ffff:10.0.0.1', STRICT)).toContain('private 10.0.0.1');
    expect(addressRefusal('::ffff:10.0.0.1', PRIVATE)).toBeUndefined();
    expect(addressRefusal('::ffff:127.0.0.1', STRICT)).toContain('loopback');
    expect(addressRefusal('::ffff:127.0.0.1', LOOPBACK)).toBeUndefined();
    // :: and ::1 are IPv6's own unspecified and loopback, not IPv4-compatible forms.
    expect(addressRefusal('::1', LOOPBACK)).toBeUndefined();
    expect(addressRefusal('::', BOTH)).toContain('unspecified');
  });

  it('opens private ranges only with allowPrivate, and loopback only with allowLoopback', () => {
    for (const address of ['10.0.0.1', '172.16.5.4', '192.168.1.1', 'fd00::1', '100.64.0.1']) {
      expect(addressRefusal(address, STRICT)).toBeDefined();
      expect(addressRefusal(address, LOOPBACK)).toBeDefined();
      expect(addressRefusal(address, PRIVATE)).toBeUndefined();
    }
    for (const address of ['127.0.0.1', '127.8.9.10', '::1']) {
      expect(addressRefusal(address, STRICT)).toContain('loopback');
      expect(addressRefusal(address, PRIVATE)).toContain('loopback');
      expect(addressRefusal(address, LOOPBACK)).toBeUndefined();
    }
  });
});

describe('checkedUrl', () => {
  it('takes an https URL and gives it parsed', () => {
    const url = checkedUrl('https://token.actions.githubusercontent.com', STRICT);
    expect(url).toBeInstanceOf(URL);
    expect((url as URL).hostname).toBe('token.actions.githubusercontent.com');
  });

  it('refuses relative URLs, credentials, fragments and other schemes', () => {
    expect(checkedUrl('/relative', BOTH)).toBe('is not an absolute URL');
    expect(checkedUrl('https://user:pass@issuer.example', BOTH)).toBe('has credentials');
    expect(checkedUrl('https://user@issuer.example', BOTH)).toBe('has credentials');
    expect(checkedUrl('https://issuer.example/#', BOTH)).toBe('has a fragment');
    expect(checkedUrl('https://issuer.example/#x', BOTH)).toBe('has a fragment');
    expect(checkedUrl('ftp://issuer.example/', BOTH)).toBe('is not https');
    expect(checkedUrl('file:///etc/passwd', BOTH)).toBe('is not https');
  });

  it('takes http only to a loopback host with allowLoopback', () => {
    expect(checkedUrl('http://127.0.0.1:8080/', LOOPBACK)).toBeInstanceOf(URL);
    expect(checkedUrl('http://[::1]:8080/', LOOPBACK)).toBeInstanceOf(URL);
    expect(checkedUrl('http://localhost:8080/', LOOPBACK)).toBeInstanceOf(URL);
    expect(checkedUrl('http://127.0.0.1:8080/', PRIVATE)).toBe('is not https');
    expect(checkedUrl('http://issuer.example/', BOTH)).toBe('is not https');
    expect(checkedUrl('http://10.0.0.1/', BOTH)).toBe('is not https');
  });

  it('judges an IP literal host at once, in whatever form the URL wrote it', () => {
    expect(checkedUrl('https://169.254.169.254/', BOTH)).toBe(
      'has a forbidden address 169.254.169.254 (linkLocal)',
    );
    // WHATWG URL parsing normalizes these to 169.254.169.254.
    expect(checkedUrl('https://0xa9fea9fe/', BOTH)).toContain('linkLocal');
    expect(checkedUrl('https://2852039166/', BOTH)).toContain('linkLocal');
    expect(checkedUrl('https://[::ffff:169.254.169.254]/', BOTH)).toContain('linkLocal');
    expect(checkedUrl('https://127.0.0.1/', PRIVATE)).toContain('loopback');
    expect(checkedUrl('https://10.0.0.1/', PRIVATE)).toBeInstanceOf(URL);
  });
});

describe('allowedAddresses', () => {
  const resolve = resolver({
    'public.test': ['140.82.112.3', '2606:4700::1111'],
    'mixed.test': ['140.82.112.3', '169.254.169.254'],
    'private.test': ['10.0.0.1'],
    localhost: ['127.0.0.1', '::1'],
    'evil.localhost': ['140.82.112.3'],
  });

  it('gives every address of a name when all are allowed', async () => {
    expect(await allowedAddresses('public.test', STRICT, resolve)).toEqual([
      { address: '140.82.112.3', family: 4 },
      { address: '2606:4700::1111', family: 6 },
    ]);
    expect(await allowedAddresses('private.test', PRIVATE, resolve)).toHaveLength(1);
    expect(await allowedAddresses('localhost', LOOPBACK, resolve)).toHaveLength(2);
  });

  it('refuses a name when any one address is forbidden', async () => {
    await expect(allowedAddresses('mixed.test', BOTH, resolve)).rejects.toMatchObject({
      code: 'ForbiddenAddress',
      message: 'forbidden address 169.254.169.254 (linkLocal) for mixed.test',
    });
    await expect(allowedAddresses('private.test', LOOPBACK, resolve)).rejects.toThrow(
      'forbidden address 10.0.0.1 (private)',
    );
    await expect(allowedAddresses('localhost', PRIVATE, resolve)).rejects.toThrow('loopback');
  });

  it('refuses a localhost name that does not resolve to loopback', async () => {
    await expect(allowedAddresses('evil.localhost', BOTH, resolve)).rejects.toThrow(
      'a localhost name must be loopback',
    );
  });

  it('judges an IP literal itself, without asking the resolver', async () => {
    const never: Resolve = () => Promise.reject(new Error('resolver called'));
    expect(await allowedAddresses('::1', LOOPBACK, never)).toEqual([{ address: '::1', family: 6 }]);
    await expect(allowedAddresses('169.254.169.254', BOTH, never)).rejects.toBeInstanceOf(
      ClientError,
    );
  });

  it("passes on the resolver's error, and fails a name with no address", async () => {
    await expect(allowedAddresses('nowhere.test', BOTH, resolve)).rejects.toMatchObject({
      code: 'ENOTFOUND',
    });
    const empty: Resolve = () => Promise.resolve([]);
    await expect(allowedAddresses('empty.test', BOTH, empty)).rejects.toMatchObject({
      code: 'ENOTFOUND',
    });
  });
});

describe('createGuardedLookup', () => {
  const lookup = createGuardedLookup(
    STRICT,
    resolver({
      'public.test': ['140.82.112.3', '2606:4700::1111'],
      'metadata.test': ['169.254.169.254'],
      'v4only.test': ['140.82.112.3'],
    }),
  );
  const call = (
    hostname: string,
    options: Parameters<typeof lookup>[1],
  ): Promise<{ error: NodeJS.ErrnoException | null; address: unknown; family?: number }> =>
    new Promise((resolve) => {
      lookup(hostname, options, (error, address, family) => {
        resolve({ error, address, ...(family === undefined ? {} : { family }) });
      });
    });

  it('answers as dns.lookup does: one address, or all of them, of the family asked', async () => {
    expect(await call('public.test', {})).toEqual({
      error: null,
      address: '140.82.112.3',
      family: 4,
    });
    expect(await call('public.test', { family: 6 })).toEqual({
      error: null,
      address: '2606:4700::1111',
      family: 6,
    });
    const all = await call('public.test', { all: true });
    expect(all.address as LookupAddress[]).toEqual([
      { address: '140.82.112.3', family: 4 },
      { address: '2606:4700::1111', family: 6 },
    ]);
    expect((await call('v4only.test', { family: 'IPv6' })).error).toMatchObject({
      code: 'ENOTFOUND',
    });
  });

  it('fails the connection with ForbiddenAddress for a forbidden address', async () => {
    const { error } = await call('metadata.test', { all: true });
    expect(error).toBeInstanceOf(ClientError);
    expect(error).toMatchObject({ code: 'ForbiddenAddress' });
  });
});
