// Foreign issuers' keys from a real local HTTPS issuer: discovery, key choice, the cache and its clock, and every refusal.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { jwtVerify, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSelfSignedCertificate, issueServerCertificate } from '../core/keys/x509.js';
import { FederatedKeyError } from '../core/tokens/federation-keys.js';
import type { SetTimer } from './http.js';
import type { Resolve } from './issuer-address.js';
import {
  createOidcIssuerKeys,
  OIDC_ISSUER_KEYS_DEFAULTS,
  type OidcIssuerKeys,
  type OidcIssuerKeysOptions,
} from './oidc-issuer-keys.js';

const DISCOVERY = '/.well-known/openid-configuration';
const T0 = 1_750_000_000_000;

let caPem: string;
let tls: HttpsServer;
let plain: HttpServer;
/** `https://127.0.0.1:{port}` and its port; `http://127.0.0.1:{port}` for the plain server. */
let base: string;
let port: number;
let plainBase: string;

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaOther = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ecNext = generateKeyPairSync('ec', { namedCurve: 'P-256' });

const jwkOf = (key: KeyObject, members: Record<string, unknown> = {}): Record<string, unknown> => ({
  ...(key.export({ format: 'jwk' }) as Record<string, unknown>),
  ...members,
});

const DEFAULT_KEYS = [
  jwkOf(rsa.publicKey, { kid: 'rsa1', alg: 'RS256', use: 'sig' }),
  jwkOf(ec.publicKey, { kid: 'ec1' }),
];

/** What the issuer serves: its key set, answers that replace the default by path, and every path asked. */
let jwks: unknown[] = DEFAULT_KEYS;
let overrides = new Map<string, (res: ServerResponse) => void>();
let hits: string[] = [];
const held: ServerResponse[] = [];

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

/** A handler that answers `body` (a string as is, else as JSON) with `status`. */
const answer =
  (status: number, body: unknown) =>
  (res: ServerResponse): void => {
    json(res, status, body);
  };

/** Any `{prefix}/.well-known/openid-configuration` is an issuer `{origin}{prefix}` with its keys at `{prefix}/keys`. */
function serve(scheme: string, req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url ?? '/', 'https://x').pathname;
  hits.push(path);
  const override = overrides.get(path);
  if (override !== undefined) {
    override(res);
    return;
  }
  const origin = `${scheme}://${req.headers.host ?? ''}`;
  if (path.endsWith(DISCOVERY)) {
    const prefix = path.slice(0, -DISCOVERY.length);
    json(res, 200, { issuer: `${origin}${prefix}`, jwks_uri: `${origin}${prefix}/keys` });
  } else if (path.endsWith('/keys')) {
    json(res, 200, { keys: jwks });
  } else {
    json(res, 404, { error: 'not found' });
  }
}

beforeAll(async () => {
  const now = Date.now();
  const caKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ca = await createSelfSignedCertificate({
    ...caKeys,
    commonName: 'issuer test CA',
    notBefore: now - 60_000,
    notAfter: now + 86_400_000,
    isCa: true,
  });
  const serverKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const cert = await issueServerCertificate({
    ca: { certificateDer: ca.der, privateKey: caKeys.privateKey },
    publicKey: serverKeys.publicKey,
    dnsNames: ['localhost', 'issuer.test', 'keys.test'],
    ipAddresses: ['127.0.0.1'],
    notBefore: now - 60_000,
    notAfter: now + 86_400_000,
  });
  caPem = ca.pem;
  tls = createHttpsServer(
    { cert: cert.pem, key: serverKeys.privateKey.export({ format: 'pem', type: 'pkcs8' }) },
    (req, res) => {
      serve('https', req, res);
    },
  );
  plain = createHttpServer((req, res) => {
    serve('http', req, res);
  });
  await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  port = (tls.address() as AddressInfo).port;
  base = `https://127.0.0.1:${port}`;
  plainBase = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const server of [tls, plain]) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

let clock = T0;
const opened: OidcIssuerKeys[] = [];

/** A key source trusting the test CA, loopback allowed, on the test's clock. */
function open(options: Partial<OidcIssuerKeysOptions> = {}): OidcIssuerKeys {
  const source = createOidcIssuerKeys({
    allowLoopback: true,
    allowPrivate: false,
    caPem,
    now: () => clock,
    ...options,
  });
  opened.push(source);
  return source;
}

afterEach(() => {
  for (const source of opened.splice(0)) source.close();
  for (const res of held.splice(0)) res.destroy();
  jwks = DEFAULT_KEYS;
  overrides = new Map();
  hits = [];
  clock = T0;
});

/** The error `promise` rejects with, which must be a {@link FederatedKeyError}. */
async function failure(promise: Promise<unknown>): Promise<FederatedKeyError> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(FederatedKeyError);
  return error as FederatedKeyError;
}

/** A resolver of fixed answers that records the names it was asked. */
function resolver(table: Record<string, string[]>): Resolve & { asked: string[] } {
  const asked: string[] = [];
  const resolve: Resolve = (hostname) => {
    asked.push(hostname);
    const addresses = table[hostname] ?? [];
    return Promise.resolve(
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }) as const),
    );
  };
  return Object.assign(resolve, { asked });
}

/** A timer the test fires by hand. */
function manualTimer(): { setTimer: SetTimer; fire(): void } {
  const due = new Set<() => void>();
  return {
    setTimer(callback) {
      due.add(callback);
      return () => due.delete(callback);
    },
    fire() {
      for (const callback of [...due]) {
        due.delete(callback);
        callback();
      }
    },
  };
}

async function served(path: string): Promise<void> {
  while (!hits.includes(path)) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('createOidcIssuerKeys: discovery and key choice', () => {
  it('finds RS256 and ES256 keys by kid, and the one fitting key when there is no kid', async () => {
    const keys = open();
    const issuer = `${base}/t`;
    expect((await keys.keyFor(issuer, { alg: 'RS256', kid: 'rsa1' })).equals(rsa.publicKey)).toBe(
      true,
    );
    expect((await keys.keyFor(issuer, { alg: 'ES256', kid: 'ec1' })).equals(ec.publicKey)).toBe(
      true,
    );
    expect((await keys.keyFor(issuer, { alg: 'RS256' })).equals(rsa.publicKey)).toBe(true);
    expect((await keys.keyFor(issuer, { alg: 'ES256' })).equals(ec.publicKey)).toBe(true);
    expect(hits).toEqual([`/t${DISCOVERY}`, '/t/keys']);

    // The key verifies a real token with jose, as the token endpoint will use it.
    const token = await new SignJWT({ sub: 'system:serviceaccount:ns:sa' })
      .setProtectedHeader({ alg: 'RS256', kid: 'rsa1' })
      .setIssuer(issuer)
      .sign(rsa.privateKey);
    const key = await keys.keyFor(issuer, { alg: 'RS256', kid: 'rsa1' });
    expect((await jwtVerify(token, key, { issuer })).payload.sub).toBe(
      'system:serviceaccount:ns:sa',
    );
  });

  it('takes RS384, RS512 and PS256 on RSA keys without an alg, and holds a key to its alg', async () => {
    jwks = [jwkOf(rsa.publicKey, { kid: 'pinned', alg: 'RS256' }), jwkOf(rsaOther.publicKey)];
    const keys = open();
    const issuer = `${base}/algs`;
    for (const alg of ['RS384', 'RS512', 'PS256']) {
      expect((await keys.keyFor(issuer, { alg })).equals(rsaOther.publicKey)).toBe(true);
      const refused = await failure(keys.keyFor(issuer, { alg, kid: 'pinned' }));
      expect(refused.failure).toBe('key_not_found');
      expect(refused.detail).toBe(`${base}/algs/keys: no ${alg} key with kid "pinned"`);
    }
    // Two RSA keys fit RS256 and the token does not say which.
    const ambiguous = await failure(keys.keyFor(issuer, { alg: 'RS256' }));
    expect(ambiguous.detail).toBe(`${base}/algs/keys: 2 RS256 keys and the token names no kid`);
  });

  it('refuses algorithms it does not accept without fetching anything', async () => {
    const keys = open();
    for (const alg of ['HS256', 'none', 'ES384', 'EdDSA', 'constructor', '__proto__']) {
      const refused = await failure(keys.keyFor(`${base}/t`, { alg, kid: 'rsa1' }));
      expect(refused.failure).toBe('key_not_found');
      expect(refused.detail).toContain('is not one of RS256, RS384, RS512, PS256, ES256');
    }
    expect(hits).toEqual([]);
  });

  it('skips entries that are not usable signing keys', async () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    jwks = [
      'rsa1',
      null,
      [jwkOf(rsa.publicKey, { kid: 'array' })],
      jwkOf(rsa.publicKey, { kid: 'enc', use: 'enc' }),
      jwkOf(rsa.publicKey, { kid: 'numeric-alg', alg: 256 }),
      jwkOf(rsa.publicKey, { kid: 'wrong-alg', alg: 'ES256' }),
      { kty: 'RSA', kid: 'garbage', n: 'AAAA', e: 'AQAB' },
      { kty: 'EC', kid: 'off-curve', crv: 'P-256', x: 'AAAA', y: 'AAAA' },
      jwkOf(small.publicKey, { kid: 'short' }),
      jwkOf(p384.publicKey, { kid: 'p384' }),
      { kty: 'oct', kid: 'secret', k: 'c2VjcmV0' },
      { ...jwkOf(ec.publicKey, { kid: 'ec1' }), kid: 7 },
      // Private members are never read: the key returned is the public one.
      jwkOf(rsa.privateKey, { kid: 'with-d', use: 'sig' }),
      jwkOf(ec.publicKey, { kid: 'ec1' }),
    ];
    const keys = open();
    const issuer = `${base}/skip`;
    for (const [alg, kid] of [
      ['RS256', 'array'],
      ['RS256', 'enc'],
      ['RS256', 'numeric-alg'],
      ['RS256', 'wrong-alg'],
      ['ES256', 'wrong-alg'],
      ['RS256', 'garbage'],
      ['ES256', 'off-curve'],
      ['RS256', 'short'],
      ['ES256', 'p384'],
      ['RS256', 'secret'],
      ['RS256', 'ec1'],
    ] as const) {
      expect((await failure(keys.keyFor(issuer, { alg, kid }))).failure).toBe('key_not_found');
    }
    const withD = await keys.keyFor(issuer, { alg: 'RS256', kid: 'with-d' });
    expect(withD.type).toBe('public');
    expect(withD.equals(rsa.publicKey)).toBe(true);
    expect((await keys.keyFor(issuer, { alg: 'ES256' })).equals(ec.publicKey)).toBe(true);
    expect((await keys.keyFor(issuer, { alg: 'RS256' })).equals(rsa.publicKey)).toBe(true);
  });

  it('uses only the first 100 entries of the key set', async () => {
    const ecJwk = jwkOf(ec.publicKey);
    jwks = Array.from({ length: 101 }, (_, i) => ({ ...ecJwk, kid: `k${i}` }));
    const keys = open();
    expect(
      (await keys.keyFor(`${base}/many`, { alg: 'ES256', kid: 'k99' })).equals(ec.publicKey),
    ).toBe(true);
    const refused = await failure(keys.keyFor(`${base}/many`, { alg: 'ES256', kid: 'k100' }));
    expect(refused.detail).toBe(`${base}/many/keys: no ES256 key with kid "k100"`);
    expect(OIDC_ISSUER_KEYS_DEFAULTS.maxKeys).toBe(100);
  });

  it('removes one trailing slash for discovery and holds the issuer to the document byte for byte', async () => {
    const keys = open();
    // The default document names `{origin}/slash`, not `{origin}/slash/`.
    const mismatch = await failure(keys.keyFor(`${base}/slash/`, { alg: 'ES256' }));
    expect(mismatch.failure).toBe('endpoint');
    expect(mismatch.detail).toBe(
      `${base}/slash${DISCOVERY}: issuer mismatch: the document has "${base}/slash"`,
    );
    expect(hits).toEqual([`/slash${DISCOVERY}`]);

    overrides.set(
      `/slash${DISCOVERY}`,
      answer(200, { issuer: `${base}/slash/`, jwks_uri: `${base}/slash/keys` }),
    );
    clock += OIDC_ISSUER_KEYS_DEFAULTS.failureTtlMs;
    expect((await keys.keyFor(`${base}/slash/`, { alg: 'ES256' })).equals(ec.publicKey)).toBe(true);

    overrides.set(
      `/case${DISCOVERY}`,
      answer(200, { issuer: `${base}/Case`, jwks_uri: `${base}/case/keys` }),
    );
    expect((await failure(keys.keyFor(`${base}/case`, { alg: 'ES256' }))).detail).toContain(
      'issuer mismatch',
    );
  });

  it('names what is wrong with an answer: status, redirect, body, size', async () => {
    const keys = open();
    const cases: [string, (res: ServerResponse) => void, string][] = [
      ['/s500', answer(500, {}), 'HTTP 500'],
      ['/s404', answer(404, {}), 'HTTP 404'],
      [
        '/moved',
        (res) => {
          res.writeHead(302, { location: `${base}/t${DISCOVERY}` });
          res.end();
        },
        'HTTP 302 (a redirect, not followed)',
      ],
      ['/text', answer(200, 'issuer: yes'), 'not JSON'],
      ['/array', answer(200, [{ issuer: 'x' }]), 'not a JSON object'],
      ['/nojwks', answer(200, { issuer: `${base}/nojwks` }), 'no jwks_uri'],
      [
        '/big',
        answer(200, { issuer: `${base}/big`, pad: 'x'.repeat(64 * 1024) }),
        'too large (over 65536 bytes)',
      ],
    ];
    for (const [prefix, answer, why] of cases) {
      overrides.set(`${prefix}${DISCOVERY}`, answer);
      const refused = await failure(keys.keyFor(`${base}${prefix}`, { alg: 'ES256' }));
      expect(refused.failure).toBe('endpoint');
      expect(refused.detail).toBe(`${base}${prefix}${DISCOVERY}: ${why}`);
    }
    expect(hits).not.toContain(`/t${DISCOVERY}`);

    const keySets: [string, (res: ServerResponse) => void, string][] = [
      ['/k503', answer(503, {}), 'HTTP 503'],
      ['/knokeys', answer(200, { keys: {} }), 'no keys array'],
      [
        '/kbig',
        answer(200, { keys: [], pad: 'x'.repeat(256 * 1024) }),
        'too large (over 262144 bytes)',
      ],
    ];
    for (const [prefix, answer, why] of keySets) {
      overrides.set(`${prefix}/keys`, answer);
      const refused = await failure(keys.keyFor(`${base}${prefix}`, { alg: 'ES256' }));
      expect(refused.detail).toBe(`${base}${prefix}/keys: ${why}`);
    }
    // A key set just under its cap is read.
    jwks = [jwkOf(ec.publicKey, { kid: 'ec1', pad: 'x'.repeat(200 * 1024) })];
    expect((await keys.keyFor(`${base}/fits`, { alg: 'ES256' })).equals(ec.publicKey)).toBe(true);
  });

  it('fails a fetch with no answer in time', async () => {
    const timer = manualTimer();
    overrides.set(`/slow${DISCOVERY}`, (res) => {
      held.push(res);
    });
    const keys = open({ setTimer: timer.setTimer });
    const pending = keys.keyFor(`${base}/slow`, { alg: 'ES256' });
    await served(`/slow${DISCOVERY}`);
    timer.fire();
    const refused = await failure(pending);
    expect(refused.failure).toBe('endpoint');
    expect(refused.detail).toBe(
      `${base}/slow${DISCOVERY}: no answer from ${base} within ${OIDC_ISSUER_KEYS_DEFAULTS.timeoutMs} ms`,
    );

    const short = open({ setTimer: timer.setTimer, timeoutMs: 50 });
    const again = short.keyFor(`${base}/slow`, { alg: 'ES256' });
    while (hits.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    timer.fire();
    expect((await failure(again)).detail).toContain('within 50 ms');
  });

  it('never shows a query or credentials of a URL in a detail', async () => {
    overrides.set(
      `/q${DISCOVERY}`,
      answer(200, { issuer: `${base}/q`, jwks_uri: `${base}/q/keys?sig=secret-value` }),
    );
    overrides.set('/q/keys', answer(500, {}));
    const keys = open();
    const refused = await failure(keys.keyFor(`${base}/q`, { alg: 'ES256' }));
    expect(refused.detail).toBe(`${base}/q/keys: HTTP 500`);

    const withCredentials = `https://user:hunter2@127.0.0.1:${port}/c`;
    const credentials = await failure(keys.keyFor(withCredentials, { alg: 'ES256' }));
    expect(credentials.detail).toBe(`the issuer ${base}/c has credentials`);
    expect(credentials.detail).not.toContain('hunter2');
  });
});

describe('createOidcIssuerKeys: the cache', () => {
  it('answers from memory for an hour, then fetches again', async () => {
    const keys = open();
    await keys.keyFor(`${base}/t`, { alg: 'RS256', kid: 'rsa1' });
    clock += OIDC_ISSUER_KEYS_DEFAULTS.cacheTtlMs - 1;
    await keys.keyFor(`${base}/t`, { alg: 'ES256', kid: 'ec1' });
    await keys.keyFor(`${base}/t`, { alg: 'RS256' });
    expect(hits).toHaveLength(2);
    clock += 1;
    await keys.keyFor(`${base}/t`, { alg: 'RS256', kid: 'rsa1' });
    expect(hits).toEqual([`/t${DISCOVERY}`, '/t/keys', `/t${DISCOVERY}`, '/t/keys']);
  });

  it('fetches again for an unknown kid only when the last fetch is five minutes old', async () => {
    const keys = open();
    const issuer = `${base}/rotate`;
    await keys.keyFor(issuer, { alg: 'ES256', kid: 'ec1' });
    jwks = [...DEFAULT_KEYS, jwkOf(ecNext.publicKey, { kid: 'ec2' })];

    clock += OIDC_ISSUER_KEYS_DEFAULTS.refreshIntervalMs - 1;
    const early = await failure(keys.keyFor(issuer, { alg: 'ES256', kid: 'ec2' }));
    expect(early.failure).toBe('key_not_found');
    expect(hits).toHaveLength(2);

    clock += 1;
    expect((await keys.keyFor(issuer, { alg: 'ES256', kid: 'ec2' })).equals(ecNext.publicKey)).toBe(
      true,
    );
    expect(hits).toHaveLength(4);

    // Callers asking for a kid while a refresh is under way wait for it rather than fail.
    jwks = [
      ...DEFAULT_KEYS,
      jwkOf(ecNext.publicKey, { kid: 'ec2' }),
      jwkOf(ec.publicKey, { kid: 'ec4' }),
    ];
    clock += OIDC_ISSUER_KEYS_DEFAULTS.refreshIntervalMs;
    const both = await Promise.all([
      keys.keyFor(issuer, { alg: 'ES256', kid: 'ec4' }),
      keys.keyFor(issuer, { alg: 'ES256', kid: 'ec4' }),
    ]);
    expect(both.every((key) => key.equals(ec.publicKey))).toBe(true);
    expect(hits).toHaveLength(6);

    // The refresh just happened: another unknown kid fails at once.
    expect((await failure(keys.keyFor(issuer, { alg: 'ES256', kid: 'ec3' }))).failure).toBe(
      'key_not_found',
    );
    // Without a kid, no refresh is tried: three ES256 keys now fit.
    expect((await failure(keys.keyFor(issuer, { alg: 'ES256' }))).failure).toBe('key_not_found');
    expect(hits).toHaveLength(6);
  });

  it('shares one fetch among concurrent callers', async () => {
    const keys = open();
    const found = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        keys.keyFor(`${base}/t`, i % 2 === 0 ? { alg: 'RS256', kid: 'rsa1' } : { alg: 'ES256' }),
      ),
    );
    expect(found.filter((key) => key.equals(rsa.publicKey))).toHaveLength(4);
    expect(hits).toEqual([`/t${DISCOVERY}`, '/t/keys']);

    overrides.set(`/down${DISCOVERY}`, answer(503, {}));
    const failures = await Promise.all(
      Array.from({ length: 4 }, () => failure(keys.keyFor(`${base}/down`, { alg: 'ES256' }))),
    );
    expect(new Set(failures).size).toBe(1);
    expect(hits.filter((path) => path.startsWith('/down'))).toHaveLength(1);
  });

  it('remembers a failed fetch for ten seconds, then tries again', async () => {
    overrides.set(`/flaky${DISCOVERY}`, answer(500, {}));
    const keys = open();
    const first = await failure(keys.keyFor(`${base}/flaky`, { alg: 'ES256' }));
    clock += OIDC_ISSUER_KEYS_DEFAULTS.failureTtlMs - 1;
    expect(await failure(keys.keyFor(`${base}/flaky`, { alg: 'RS256', kid: 'rsa1' }))).toBe(first);
    expect(hits).toEqual([`/flaky${DISCOVERY}`]);

    overrides.delete(`/flaky${DISCOVERY}`);
    clock += 1;
    expect((await keys.keyFor(`${base}/flaky`, { alg: 'ES256' })).equals(ec.publicKey)).toBe(true);
    expect(hits).toHaveLength(3);
  });

  it('keeps a failed refresh from hiding keys it still holds', async () => {
    const keys = open();
    await keys.keyFor(`${base}/t`, { alg: 'ES256' });
    overrides.set(`/t${DISCOVERY}`, answer(500, {}));
    clock += OIDC_ISSUER_KEYS_DEFAULTS.refreshIntervalMs;
    const refused = await failure(keys.keyFor(`${base}/t`, { alg: 'ES256', kid: 'new' }));
    expect(refused.failure).toBe('endpoint');
    expect(
      (await keys.keyFor(`${base}/t`, { alg: 'RS256', kid: 'rsa1' })).equals(rsa.publicKey),
    ).toBe(true);
  });

  it('forgets the least recently used issuer beyond its bound', async () => {
    const keys = open({ maxIssuers: 2 });
    const fetches = (name: string): number =>
      hits.filter((p) => p === `/${name}${DISCOVERY}`).length;
    const use = (name: string): Promise<KeyObject> =>
      keys.keyFor(`${base}/${name}`, { alg: 'ES256' });
    await use('a');
    await use('b');
    await use('a');
    await use('c'); // b is the least recently used
    await use('a');
    expect([fetches('a'), fetches('b'), fetches('c')]).toEqual([1, 1, 1]);
    await use('b'); // fetched again; c goes
    await use('c');
    expect([fetches('a'), fetches('b'), fetches('c')]).toEqual([1, 2, 2]);
    expect(OIDC_ISSUER_KEYS_DEFAULTS.maxIssuers).toBe(1000);
  });
});

describe('createOidcIssuerKeys: where it may connect', () => {
  it('refuses http:// unless loopback is allowed and the host is loopback', async () => {
    const strict = open({ allowLoopback: false });
    const refused = await failure(strict.keyFor(`${plainBase}/t`, { alg: 'ES256' }));
    expect(refused).toMatchObject({
      failure: 'endpoint',
      detail: `the issuer ${plainBase}/t is not https`,
    });
    const remote = await failure(open().keyFor('http://issuer.example/t', { alg: 'ES256' }));
    expect(remote.detail).toBe('the issuer http://issuer.example/t is not https');
    expect(hits).toEqual([]);

    // Development: a plain-http issuer on loopback.
    expect((await open().keyFor(`${plainBase}/t`, { alg: 'ES256' })).equals(ec.publicKey)).toBe(
      true,
    );
  });

  it('refuses loopback without allowLoopback, by literal or by name, before any traffic', async () => {
    const resolve = resolver({ localhost: ['127.0.0.1'] });
    const keys = open({ allowLoopback: false, resolve });
    const literal = await failure(keys.keyFor(`${base}/t`, { alg: 'ES256' }));
    expect(literal.detail).toBe(
      `the issuer ${base}/t has a forbidden address 127.0.0.1 (loopback)`,
    );
    const named = await failure(keys.keyFor(`https://localhost:${port}/t`, { alg: 'ES256' }));
    expect(named.detail).toBe(
      `https://localhost:${port}/t${DISCOVERY}: forbidden address 127.0.0.1 (loopback) for localhost`,
    );
    expect(resolve.asked).toEqual(['localhost']);
    expect(hits).toEqual([]);
  });

  it('refuses the metadata address, as a literal in any form or behind a name', async () => {
    const resolve = resolver({ 'metadata.test': ['169.254.169.254'] });
    const keys = open({ allowPrivate: true, resolve });
    for (const issuer of ['https://169.254.169.254', 'https://[::ffff:169.254.169.254]/x']) {
      const refused = await failure(keys.keyFor(issuer, { alg: 'ES256' }));
      expect(refused.failure).toBe('endpoint');
      expect(refused.detail).toMatch(
        /^the issuer https:\S+ has a forbidden address .* \(linkLocal/,
      );
    }
    expect(resolve.asked).toEqual([]);
    const named = await failure(keys.keyFor('https://metadata.test/x', { alg: 'ES256' }));
    expect(named.detail).toBe(
      `https://metadata.test/x${DISCOVERY}: forbidden address 169.254.169.254 (linkLocal) for metadata.test`,
    );
  });

  it('refuses a name resolving to a private address unless private networks are allowed', async () => {
    const resolve = resolver({
      'corp.test': ['10.0.0.1'],
      'split.test': ['127.0.0.1', '10.0.0.1'],
    });
    const keys = open({ resolve });
    const refused = await failure(keys.keyFor(`https://corp.test:${port}/t`, { alg: 'ES256' }));
    expect(refused.detail).toContain('forbidden address 10.0.0.1 (private) for corp.test');
    // One forbidden address among allowed ones refuses the name.
    const split = await failure(keys.keyFor(`https://split.test:${port}/t`, { alg: 'ES256' }));
    expect(split.detail).toContain('forbidden address 10.0.0.1 (private) for split.test');
    expect(hits).toEqual([]);
  });

  it('connects to the checked address and still checks the certificate by the URL host name', async () => {
    const resolve = resolver({ 'issuer.test': ['127.0.0.1'], 'other.test': ['127.0.0.1'] });
    const keys = open({ resolve });
    const issuer = `https://issuer.test:${port}/named`;
    expect((await keys.keyFor(issuer, { alg: 'ES256' })).equals(ec.publicKey)).toBe(true);
    expect(resolve.asked).toEqual(['issuer.test']);
    // Same address, but the certificate does not name other.test.
    const refused = await failure(keys.keyFor(`https://other.test:${port}/t`, { alg: 'ES256' }));
    expect(refused.detail).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('checks every new connection, so a name that later resolves elsewhere is refused', async () => {
    let answer = '127.0.0.1';
    const resolve: Resolve = (hostname) =>
      Promise.resolve(hostname === 'issuer.test' ? [{ address: answer, family: 4 }] : []);
    const keys = open({ resolve });
    const issuer = `https://issuer.test:${port}/rebind`;
    await keys.keyFor(issuer, { alg: 'ES256' });
    answer = '169.254.169.254';
    keys.close();
    clock += OIDC_ISSUER_KEYS_DEFAULTS.cacheTtlMs;
    const refused = await failure(keys.keyFor(issuer, { alg: 'ES256' }));
    expect(refused.detail).toContain(
      'forbidden address 169.254.169.254 (linkLocal) for issuer.test',
    );
    expect(hits).toHaveLength(2);
  });

  it('holds the jwks_uri to the same policy', async () => {
    const resolve = resolver({ 'keys.test': ['169.254.169.254'] });
    const keys = open({ resolve });
    const cases: [string, string, string][] = [
      [
        '/j1',
        'https://169.254.169.254/keys',
        'the jwks_uri https://169.254.169.254/keys has a forbidden address 169.254.169.254 (linkLocal)',
      ],
      ['/j2', 'http://keys.example/keys', 'the jwks_uri http://keys.example/keys is not https'],
      ['/j3', `${base}/keys#frag`, `the jwks_uri ${base}/keys has a fragment`],
      ['/j4', 'keys', 'the jwks_uri is not an absolute URL'],
    ];
    for (const [prefix, jwksUri, why] of cases) {
      overrides.set(
        `${prefix}${DISCOVERY}`,
        answer(200, { issuer: `${base}${prefix}`, jwks_uri: jwksUri }),
      );
      const refused = await failure(keys.keyFor(`${base}${prefix}`, { alg: 'ES256' }));
      expect(refused.detail).toBe(`${base}${prefix}${DISCOVERY}: ${why}`);
    }
    overrides.set(
      `/j5${DISCOVERY}`,
      answer(200, { issuer: `${base}/j5`, jwks_uri: `https://keys.test:${port}/j5/keys` }),
    );
    const named = await failure(keys.keyFor(`${base}/j5`, { alg: 'ES256' }));
    expect(named.detail).toBe(
      `https://keys.test:${port}/j5/keys: forbidden address 169.254.169.254 (linkLocal) for keys.test`,
    );
    expect(hits.filter((path) => path.endsWith('/keys'))).toEqual([]);
  });

  it('refuses issuers that are not plain URLs', async () => {
    const keys = open();
    const cases: [string, string][] = [
      ['not a url', 'the issuer is not an absolute URL'],
      [`${base}/t#`, `the issuer ${base}/t has a fragment`],
      [`${base}/t?tenant=1`, `the issuer ${base}/t has a query`],
      ['ftp://127.0.0.1/t', 'the issuer ftp://127.0.0.1/t is not https'],
      ['file:///etc/passwd', 'the issuer file:///etc/passwd is not https'],
    ];
    for (const [issuer, detail] of cases) {
      expect(await failure(keys.keyFor(issuer, { alg: 'ES256' }))).toMatchObject({
        failure: 'endpoint',
        detail,
      });
    }
    expect(hits).toEqual([]);
  });
});
