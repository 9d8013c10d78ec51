// Tests of the access-token verifier with real RSA keys, and of its JWKS resolvers over real HTTP.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import {
  SignJWT,
  base64url,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { AppError } from '../errors.js';
import {
  InvalidAccessTokenError,
  armUtcTime,
  createAccessTokenVerifier,
  localJwksResolver,
  remoteJwksResolver,
  type AccessTokenFailure,
  type KeyResolver,
} from './verifier.js';

const TENANT = '90a38eda-4006-4dd5-924c-6ca55cacc14d';
const ISSUER = `https://sts.windows.net/${TENANT}/`;
const ARM = 'https://management.azure.com/';
const NOW = Date.UTC(2023, 11, 12, 17, 26, 17); // ms
const NOW_S = NOW / 1000;
const clock = { now: () => NOW };

interface Pair {
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly jwk: JWK;
}

let k1: Pair;
let k2: Pair;
let impostor: Pair;

async function pair(kid: string): Promise<Pair> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, use: 'sig' } };
}

beforeAll(async () => {
  [k1, k2, impostor] = await Promise.all([pair('k1'), pair('k2'), pair('k1')]);
});

/** An MI token as Entra issues it (PROTOCOL.md 5.3), with overrides. */
function claims(overrides: JWTPayload = {}): JWTPayload {
  return {
    aud: ARM,
    iss: ISSUER,
    iat: NOW_S - 60,
    nbf: NOW_S - 60,
    exp: NOW_S + 86_640,
    appid: 'b84e06d3-aba1-4bcc-9626-2e0d76cba2ce',
    oid: '600a3bc8-7e2c-44e5-8a27-18c3eb963060',
    sub: '600a3bc8-7e2c-44e5-8a27-18c3eb963060',
    tid: TENANT,
    uti: 'P-bz3wdNeUq87SoRHuRIAA',
    ver: '1.0',
    ...overrides,
  };
}

async function sign(payload: JWTPayload = claims(), key: Pair = k1, kid = 'k1'): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ typ: 'JWT', alg: 'RS256', x5t: kid, kid })
    .sign(key.privateKey);
}

function resolverOf(...keys: Pair[]): KeyResolver {
  return vi.fn(async ({ kid }: { kid?: string }) =>
    Promise.resolve(keys.find((k) => k.jwk.kid === kid)?.publicKey),
  );
}

function verifier(keys: KeyResolver = resolverOf(k1), extra: { maxTokenAgeSeconds?: number } = {}) {
  return createAccessTokenVerifier({ issuers: [ISSUER], audiences: [ARM], clock, keys, ...extra });
}

async function refusal(promise: Promise<unknown>): Promise<InvalidAccessTokenError> {
  const error: unknown = await promise.then(
    () => new Error('expected the token to be refused'),
    (e: unknown) => e,
  );
  if (error instanceof InvalidAccessTokenError) return error;
  throw error;
}

async function expectRefused(
  token: string,
  reason: AccessTokenFailure,
  keys: KeyResolver = resolverOf(k1),
): Promise<InvalidAccessTokenError> {
  const error = await refusal(verifier(keys).verify(token));
  expect([error.reason, error.code, error.status]).toEqual([reason, 'InvalidToken', 401]);
  return error;
}

describe('createAccessTokenVerifier', () => {
  it('accepts a valid token and returns its identity claims', async () => {
    const verified = await verifier().verify(await sign());
    expect(verified).toMatchObject({
      objectId: '600a3bc8-7e2c-44e5-8a27-18c3eb963060',
      tenantId: TENANT,
      appId: 'b84e06d3-aba1-4bcc-9626-2e0d76cba2ce',
      audience: ARM,
      issuer: ISSUER,
      expiresAt: (NOW_S + 86_640) * 1000,
      tokenId: 'P-bz3wdNeUq87SoRHuRIAA',
    });
    expect(verified.claims.ver).toBe('1.0');
  });

  it("refuses alg 'none' before looking up a key", async () => {
    const keys = resolverOf(k1);
    const header = base64url.encode(JSON.stringify({ alg: 'none', kid: 'k1' }));
    const body = base64url.encode(JSON.stringify(claims()));
    const error = await expectRefused(`${header}.${body}.`, 'algorithm_not_allowed', keys);
    expect(error.wire.arm).toBe('InvalidAuthenticationToken');
    expect(keys).not.toHaveBeenCalled();
  });

  it('refuses HS256 keyed with the RSA public key (key confusion) before any key lookup', async () => {
    const keys = resolverOf(k1);
    const secret = new TextEncoder().encode(await exportSPKI(k1.publicKey));
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .sign(secret);
    await expectRefused(token, 'algorithm_not_allowed', keys);
    expect(keys).not.toHaveBeenCalled();
  });

  it('refuses an unknown kid and a missing kid', async () => {
    await expectRefused(await sign(claims(), k2, 'k2'), 'unknown_key');
    const noKid = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'RS256' })
      .sign(k1.privateKey);
    await expectRefused(noKid, 'missing_kid');
  });

  it("refuses a token expired beyond the skew with ARM's ExpiredAuthenticationToken", async () => {
    const exp = NOW_S - 301;
    const error = await expectRefused(await sign(claims({ exp })), 'expired');
    expect(error.wire.arm).toBe('ExpiredAuthenticationToken');
    expect(error.message).toBe(
      "The access token expiry UTC time '12/12/2023 5:21:16 PM' is earlier than current UTC time '12/12/2023 5:26:17 PM'.",
    );
  });

  it('accepts a token expired within the skew', async () => {
    const verified = await verifier().verify(await sign(claims({ exp: NOW_S - 299 })));
    expect(verified.expiresAt).toBe((NOW_S - 299) * 1000);
  });

  it('refuses a token whose nbf is in the future beyond the skew', async () => {
    await expectRefused(await sign(claims({ nbf: NOW_S + 301 })), 'not_yet_valid');
    await expect(verifier().verify(await sign(claims({ nbf: NOW_S + 299 })))).resolves.toBeTruthy();
  });

  it('refuses a token issued in the future beyond the skew', async () => {
    await expectRefused(await sign(claims({ iat: NOW_S + 301 })), 'issued_in_future');
  });

  it("refuses a wrong audience with ARM's InvalidAuthenticationTokenAudience text", async () => {
    const error = await expectRefused(
      await sign(claims({ aud: 'https://vault.azure.net' })),
      'wrong_audience',
    );
    expect(error.wire.arm).toBe('InvalidAuthenticationTokenAudience');
    expect(error.message).toBe(
      "The access token has been obtained for wrong audience or resource 'https://vault.azure.net'. It should exactly match with one of the allowed audiences 'https://management.azure.com/'.",
    );
  });

  it('compares audiences exactly: a missing trailing slash is only accepted when listed', async () => {
    const token = await sign(claims({ aud: 'https://management.azure.com' }));
    await expectRefused(token, 'wrong_audience');
    const both = createAccessTokenVerifier({
      issuers: [ISSUER],
      audiences: [ARM, 'https://management.azure.com'],
      clock,
      keys: resolverOf(k1),
    });
    expect((await both.verify(token)).audience).toBe('https://management.azure.com');
  });

  it('refuses a wrong issuer', async () => {
    const error = await expectRefused(
      await sign(claims({ iss: 'https://sts.windows.net/other/' })),
      'wrong_issuer',
    );
    expect(error.wire.arm).toBe('InvalidAuthenticationTokenTenant');
    expect(error.message).toContain("wrong issuer 'https://sts.windows.net/other/'");
  });

  it('refuses a tampered payload', async () => {
    const [header, , signature] = (await sign()).split('.');
    const forged = base64url.encode(JSON.stringify(claims({ oid: 'attacker' })));
    const error = await expectRefused(`${header}.${forged}.${signature}`, 'signature_invalid');
    expect(error.message).toBe('The access token is invalid. Its signature does not verify.');
  });

  it('refuses a token signed by another key under a published kid', async () => {
    await expectRefused(await sign(claims(), impostor, 'k1'), 'signature_invalid');
  });

  it("refuses a token without oid in ARM's words", async () => {
    const error = await expectRefused(await sign(claims({ oid: undefined })), 'missing_claim');
    expect(error.message).toContain("at least one of the claims 'puid' or 'altsecid' or 'oid'");
  });

  it('refuses garbage', async () => {
    await expectRefused('not-a-jwt', 'malformed');
    await expectRefused('', 'malformed');
  });

  it('refuses tokens older than maxTokenAgeSeconds beyond the skew', async () => {
    const aged = verifier(resolverOf(k1), { maxTokenAgeSeconds: 3600 });
    const old = await sign(claims({ iat: NOW_S - 3600 - 301 }));
    const error = await refusal(aged.verify(old));
    expect([error.reason, error.wire.arm]).toEqual(['too_old', 'ExpiredAuthenticationToken']);
    await expect(
      aged.verify(await sign(claims({ iat: NOW_S - 3600 - 299 }))),
    ).resolves.toBeTruthy();
  });

  it('answers 503 when the keys cannot be obtained', async () => {
    const failing: KeyResolver = () => Promise.reject(new Error('ECONNREFUSED'));
    const error: unknown = await verifier(failing)
      .verify(await sign())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect([(error as AppError).code, (error as AppError).status]).toEqual([
      'ServiceUnavailable',
      503,
    ]);
  });

  it('lets a resolver mistake (a key unfit for RS256) through as a non-token error', async () => {
    const { publicKey } = await generateKeyPair('ES256');
    const error: unknown = await verifier(() => Promise.resolve(publicKey))
      .verify(await sign())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
  });

  it('refuses bad options', () => {
    expect(() =>
      createAccessTokenVerifier({ issuers: [], audiences: [ARM], clock, keys: resolverOf(k1) }),
    ).toThrow(TypeError);
  });
});

describe('armUtcTime', () => {
  it("formats as ARM's messages do", () => {
    expect(armUtcTime(Date.UTC(2020, 10, 13, 7, 42, 16))).toBe('11/13/2020 7:42:16 AM');
    expect(armUtcTime(Date.UTC(2020, 10, 13, 0, 5, 6))).toBe('11/13/2020 12:05:06 AM');
    expect(armUtcTime(Date.UTC(2026, 5, 15, 12, 0, 0))).toBe('6/15/2026 12:00:00 PM');
  });
});

describe('localJwksResolver', () => {
  it('finds keys in the JWKS it is given and calls getJwks every time', async () => {
    const getJwks = vi.fn(() => Promise.resolve({ keys: [k1.jwk, k2.jwk] }));
    const v = verifier(localJwksResolver(getJwks));
    await v.verify(await sign(claims(), k2, 'k2'));
    await expectRefused(
      await sign(claims(), impostor, 'k3'),
      'unknown_key',
      localJwksResolver(getJwks),
    );
    expect(getJwks).toHaveBeenCalledTimes(2);
  });
});

describe('remoteJwksResolver', () => {
  let server: Server;
  let published: JWK[] = [];
  let requests = 0;
  let url: URL;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      requests += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/discovery/keys`);
  });

  afterAll(async () => {
    await new Promise<void>((resolve, reject) => {
      server.close((error) => {
        if (error) reject(error);
        else resolve();
      });
    });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('picks up a rotated key after the cooldown, and no sooner', async () => {
    // jose times its cache with Date.now(); only Date is faked, so sockets keep working.
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.UTC(2024, 0, 1);
    vi.setSystemTime(start);
    requests = 0;
    published = [k1.jwk];
    const v = verifier(remoteJwksResolver(url, { cooldownMs: 60_000 }));

    await v.verify(await sign());
    expect(requests).toBe(1);

    published = [k1.jwk, k2.jwk];
    const rotated = await sign(claims(), k2, 'k2');
    vi.setSystemTime(start + 1_000);
    expect((await refusal(v.verify(rotated))).reason).toBe('unknown_key');
    await refusal(v.verify(rotated));
    expect(requests).toBe(1);

    vi.setSystemTime(start + 61_000);
    await expect(v.verify(rotated)).resolves.toMatchObject({ tenantId: TENANT });
    expect(requests).toBe(2);

    await refusal(v.verify(await sign(claims(), impostor, 'k9')));
    expect(requests).toBe(2);

    vi.setSystemTime(start + 61_000 + 24 * 60 * 60 * 1000);
    await v.verify(await sign());
    expect(requests).toBe(3);
  });
});
