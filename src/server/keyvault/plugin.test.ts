// Tests of the audiences the data plane accepts: the plain resource and the server's ports.
import { describe, expect, it } from 'vitest';
import { keyVaultAudiences } from './plugin.js';

describe('keyVaultAudiences', () => {
  it('accepts the plain resource, and the resource with each listener port and the public port', () => {
    expect(
      keyVaultAudiences('vault.localhost', [8080, 8444], 'https://tessera.example:9443'),
    ).toEqual([
      'https://vault.localhost',
      'https://vault.localhost/',
      'https://vault.localhost:8080',
      'https://vault.localhost:8080/',
      'https://vault.localhost:8444',
      'https://vault.localhost:8444/',
      'https://vault.localhost:9443',
      'https://vault.localhost:9443/',
    ]);
  });

  it("adds nothing for a public URL on its scheme's default port, or a listener port twice", () => {
    expect(keyVaultAudiences('vault.azure.net', [8444], 'https://tessera.example/')).toEqual([
      'https://vault.azure.net',
      'https://vault.azure.net/',
      'https://vault.azure.net:8444',
      'https://vault.azure.net:8444/',
    ]);
    expect(keyVaultAudiences('vault.localhost', [8444, 8444], 'http://127.0.0.1:8444')).toEqual([
      'https://vault.localhost',
      'https://vault.localhost/',
      'https://vault.localhost:8444',
      'https://vault.localhost:8444/',
    ]);
  });

  it('is the plain resource alone without ports', () => {
    expect(keyVaultAudiences('vault.localhost')).toEqual([
      'https://vault.localhost',
      'https://vault.localhost/',
    ]);
  });
});
