// Tests of the token-endpoint success bodies: exact bytes, member order and number types.
import { describe, expect, it } from 'vitest';

import { v1TokenResponse, v2TokenResponse } from './token-response.js';

describe('v1TokenResponse', () => {
  it("serializes exactly as Azure's v1 endpoint does (PROTOCOL.md 5.5)", () => {
    const body = v1TokenResponse({
      accessToken: 'eyJ0eXAi.x.y',
      resource: 'https://management.core.windows.net/',
      expiresOn: 1617389804,
      notBefore: 1617303104,
      now: 1617303405,
    });
    expect(JSON.stringify(body)).toBe(
      '{"token_type":"Bearer","expires_in":"86399","ext_expires_in":"86399",' +
        '"expires_on":"1617389804","not_before":"1617303104",' +
        '"resource":"https://management.core.windows.net/","access_token":"eyJ0eXAi.x.y"}',
    );
  });

  it('takes a separate ext_expires_in and never reports a negative lifetime', () => {
    const body = v1TokenResponse({
      accessToken: 't',
      resource: 'r',
      expiresOn: 100,
      notBefore: 0,
      now: 200,
      extExpiresIn: 262800,
    });
    expect([body.expires_in, body.ext_expires_in]).toEqual(['0', '262800']);
  });

  it('refuses times that are not whole seconds', () => {
    expect(() =>
      v1TokenResponse({ accessToken: 't', resource: 'r', expiresOn: 1.5, notBefore: 0, now: 0 }),
    ).toThrow(RangeError);
  });
});

describe('v2TokenResponse', () => {
  it('serializes the v2 body with JSON numbers, in Azure order', () => {
    const body = v2TokenResponse({ accessToken: 'a.b.c', expiresIn: 3599, extExpiresIn: 3599 });
    expect(JSON.stringify(body)).toBe(
      '{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"a.b.c"}',
    );
  });

  it('refuses a non-integer lifetime', () => {
    expect(() =>
      v2TokenResponse({ accessToken: 't', expiresIn: Number.NaN, extExpiresIn: 1 }),
    ).toThrow(RangeError);
  });
});
