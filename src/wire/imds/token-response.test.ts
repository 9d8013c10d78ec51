import { describe, expect, it } from 'vitest';
import { renderTokenBody } from './token-response.js';

const token = {
  accessToken: 'eyJ0eXAi.payload.sig',
  clientId: 'b84e06d3-aba1-4bcc-9626-2e0d76cba2ce',
  resource: 'https://management.azure.com/',
  expiresOn: 1702488677,
  notBefore: 1702401977,
};

describe('renderTokenBody', () => {
  it('matches the captured IMDS body byte for byte', () => {
    // PROTOCOL.md 1.4, real capture (token elided): expires_in 85753 at 1702402924.
    expect(renderTokenBody(token, 'https://management.azure.com/', 1702402924)).toBe(
      '{"access_token":"eyJ0eXAi.payload.sig","client_id":"b84e06d3-aba1-4bcc-9626-2e0d76cba2ce","expires_in":"85753","expires_on":"1702488677","ext_expires_in":"86399","not_before":"1702401977","resource":"https://management.azure.com/","token_type":"Bearer"}',
    );
  });

  it('counts down, floors fractions and never goes below zero', () => {
    const at = (now: number) =>
      (JSON.parse(renderTokenBody(token, token.resource, now)) as { expires_in: string })
        .expires_in;
    expect(at(1702488677 - 100.7)).toBe('100');
    expect(at(1702488677 - 99)).toBe('99');
    expect(at(1702488677 + 5)).toBe('0');
  });

  it('echoes the request’s resource and escapes it, even for a cached rendering', () => {
    renderTokenBody(token, token.resource, 1702402924);
    const body = JSON.parse(renderTokenBody(token, 'api://x/"y"', 1702402924)) as Record<
      string,
      string
    >;
    expect(body.resource).toBe('api://x/"y"');
  });

  it('never claims an extended lifetime beyond the token’s own', () => {
    const short = { ...token, notBefore: token.expiresOn - 3600 };
    const body = JSON.parse(renderTokenBody(short, token.resource, short.notBefore)) as Record<
      string,
      string
    >;
    expect(body.ext_expires_in).toBe('3600');
    expect(body.expires_in).toBe('3600');
  });

  it('escapes an access token that is not a plain JWT', () => {
    const odd = { ...token, accessToken: 'a"b\\c\u0001d' };
    const body = renderTokenBody(odd, token.resource, 1702402924);
    expect(body.startsWith(`{"access_token":${JSON.stringify(odd.accessToken)},"client_id"`)).toBe(
      true,
    );
    expect((JSON.parse(body) as Record<string, string>).access_token).toBe(odd.accessToken);
  });
});
