// Bearer authentication: header forms, refusals, and the challenge a 401 carries.
import { describe, expect, it } from 'vitest';
import { invalidToken } from '../core/errors.js';
import type { AccessTokenVerifier, VerifiedAccessToken } from '../core/tokens/index.js';
import { authenticateBearer, bearerChallenge } from './bearer-auth.js';

const identity: VerifiedAccessToken = {
  claims: {},
  objectId: 'oid',
  tenantId: 'tid',
  audience: 'https://management.azure.com/',
  issuer: 'https://login.example/tid/',
  expiresAt: 0,
};

// A verifier that accepts exactly one token: the header parsing is what is under test here;
// the real verifier has its own suite and runs end to end in test/server.
const verifier: AccessTokenVerifier = {
  verify: (token) =>
    token === 'eyJ.good.sig' ? Promise.resolve(identity) : Promise.reject(invalidToken('bad')),
};

describe('authenticateBearer', () => {
  it('accepts the Bearer scheme in any case, with extra spaces', async () => {
    expect(await authenticateBearer('Bearer eyJ.good.sig', verifier)).toBe(identity);
    expect(await authenticateBearer('bearer  eyJ.good.sig ', verifier)).toBe(identity);
  });

  it.each<[string, string | string[] | undefined, RegExp]>([
    ['missing', undefined, /header is missing/],
    ['empty', '', /header is missing/],
    ['another scheme', 'Basic dXNlcjpwYXNz', /invalid format/],
    ['no token', 'Bearer ', /invalid format/],
    ['two headers', ['Bearer a', 'Bearer b'], /invalid format/],
    ['junk in the token', 'Bearer a b', /invalid format/],
    ['too long', `Bearer ${'a'.repeat(20_000)}`, /invalid format/],
  ])('refuses %s with AuthenticationRequired (401)', async (_name, header, message) => {
    await expect(authenticateBearer(header, verifier)).rejects.toMatchObject({
      code: 'AuthenticationRequired',
      status: 401,
      message: expect.stringMatching(message) as unknown,
    });
  });

  it("passes a bad token's InvalidToken through", async () => {
    await expect(authenticateBearer('Bearer eyJ.bad.sig', verifier)).rejects.toMatchObject({
      code: 'InvalidToken',
    });
  });
});

describe('bearerChallenge', () => {
  it('names where to get a token and, for a bad one, why', () => {
    expect(bearerChallenge({ authorizationUri: 'https://login.example/tid' })).toBe(
      'Bearer authorization_uri="https://login.example/tid"',
    );
    expect(
      bearerChallenge({
        authorizationUri: 'https://login.example/tid',
        error: 'invalid_token',
        description: 'The token "expired"\r\n',
      }),
    ).toBe(
      'Bearer authorization_uri="https://login.example/tid", error="invalid_token", error_description="The token expired"',
    );
  });
});
