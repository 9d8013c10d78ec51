import { generateKeyPairSync } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { signRs256 } from './jws.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const header = { typ: 'JWT', alg: 'RS256', x5t: 'abc', kid: 'abc' };
const claims = { aud: 'https://vault.azure.net', iat: 1, exp: 2, uti: 'é-ü', xms_mirid: '/a/b' };

describe('signRs256', () => {
  it('writes the same bytes as jose (RSASSA-PKCS1-v1_5 is deterministic)', async () => {
    const ours = await signRs256(header, claims, privateKey);
    const theirs = await new SignJWT(claims).setProtectedHeader(header).sign(privateKey);
    expect(ours).toBe(theirs);
  });

  it('verifies with the public key, header and claims as given', async () => {
    const token = await signRs256({ typ: 'JWT', kid: 'k' }, claims, privateKey);
    const { payload, protectedHeader } = await jwtVerify(token, publicKey, {
      algorithms: ['RS256'],
      currentDate: new Date(1500),
    });
    expect(payload).toEqual(claims);
    expect(protectedHeader).toEqual({ typ: 'JWT', kid: 'k', alg: 'RS256' });
    expect(decodeProtectedHeader(token).alg).toBe('RS256');
  });

  it('refuses a key that is not an RSA private key', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await expect(signRs256(header, claims, publicKey)).rejects.toThrow('RSA private key');
    await expect(signRs256(header, claims, ec.privateKey)).rejects.toThrow('RSA private key');
  });
});
