// Tests of Key Vault's challenge: the resource carries the request's port, and passes the SDKs' checks.
import { describe, expect, it } from 'vitest';
import { challengeResource, hostPort, keyVaultChallenge, keyVaultResource } from './challenge.js';

/**
 * `azure-keyvault-secrets` 4.7's `on_challenge` (PROTOCOL-TOOLS.md Part A section 5.1): the vault
 * URL's `netloc` must end with `.{netloc of the resource}`, port included. WHATWG's `host` is
 * urlparse's `netloc` for these URLs (no user info; a default port is dropped by both the URL and
 * the Host header the SDK sends).
 */
const pythonAccepts = (vaultUrl: string, resource: string): boolean =>
  new URL(vaultUrl).host.toLowerCase().endsWith(`.${new URL(resource).host.toLowerCase()}`);
/** `@azure/keyvault-common`'s `verifyChallengeResource` (section 5.2): host names only. */
const jsAccepts = (vaultUrl: string, resource: string): boolean =>
  new URL(vaultUrl).hostname.endsWith(`.${new URL(resource).hostname}`);

describe('hostPort', () => {
  it.each([
    ['demo-vault.vault.localhost:8444', 8444],
    ['demo-vault.vault.localhost:1', 1],
    ['demo-vault.vault.localhost:65535', 65_535],
    ['demo-vault.vault.localhost:08444', 8444],
  ])('%s -> %s', (host, port) => {
    expect(hostPort(host)).toBe(port);
  });

  it.each([
    undefined,
    '',
    'demo-vault.vault.localhost',
    'demo-vault.vault.localhost:',
    'demo-vault.vault.localhost:0',
    'demo-vault.vault.localhost:65536',
    'demo-vault.vault.localhost:99999',
    'demo-vault.vault.localhost:844444',
    'demo-vault.vault.localhost:8444"',
    'demo-vault.vault.localhost:8444, resource="https://evil"',
    'demo-vault.vault.localhost:+8444',
    'demo-vault.vault.localhost:8444:1',
    '[::1]:8444',
  ])('%s has no port', (host) => {
    expect(hostPort(host)).toBeUndefined();
  });
});

describe('challengeResource', () => {
  it.each([
    ['https', 'demo-vault.vault.localhost:8444', 'https://vault.localhost:8444'],
    ['https', 'DEMO-VAULT.vault.localhost:8444', 'https://vault.localhost:8444'],
    ['http', 'demo-vault.vault.localhost:8080', 'https://vault.localhost:8080'],
    ['https', 'demo-vault.vault.localhost:80', 'https://vault.localhost:80'],
    ['http', 'demo-vault.vault.localhost:443', 'https://vault.localhost:443'],
    // The scheme's default port, no port, or no valid port: the plain resource.
    ['https', 'demo-vault.vault.localhost:443', 'https://vault.localhost'],
    ['http', 'demo-vault.vault.localhost:80', 'https://vault.localhost'],
    ['https', 'demo-vault.vault.localhost', 'https://vault.localhost'],
    ['https', 'demo-vault.vault.localhost:99999', 'https://vault.localhost'],
    ['https', undefined, 'https://vault.localhost'],
  ] as const)('%s with Host %s -> %s', (scheme, host, resource) => {
    expect(challengeResource('vault.localhost', scheme, host)).toBe(resource);
  });

  it('never carries the text of the Host header, only the port number', () => {
    const resource = challengeResource('vault.localhost', 'https', 'a.vault.localhost:08444');
    expect(resource).toBe('https://vault.localhost:8444');
  });

  it("passes the Python 4.7 and JS SDKs' checks of a vault on a port other than 443", () => {
    const vaultUrl = 'https://demo-vault.vault.localhost:8444/';
    const resource = challengeResource('vault.localhost', 'https', new URL(vaultUrl).host);
    expect([pythonAccepts(vaultUrl, resource), jsAccepts(vaultUrl, resource)]).toEqual([
      true,
      true,
    ]);
    // The resource without the port, what Tessera sent before: Python refuses it.
    const plain = keyVaultResource('vault.localhost');
    expect([pythonAccepts(vaultUrl, plain), jsAccepts(vaultUrl, plain)]).toEqual([false, true]);
  });

  it("passes both SDKs' checks of a vault on 443, as Azure's does", () => {
    const vaultUrl = 'https://demo-vault.vault.azure.net/';
    const resource = challengeResource('vault.azure.net', 'https', new URL(vaultUrl).host);
    expect(resource).toBe('https://vault.azure.net');
    expect([pythonAccepts(vaultUrl, resource), jsAccepts(vaultUrl, resource)]).toEqual([
      true,
      true,
    ]);
  });
});

describe('keyVaultChallenge', () => {
  it("is Azure's `Bearer authorization=…, resource=…`, no `=` inside a value", () => {
    const tenant = '72f988bf-86f1-41af-91ab-2d7cd011db47';
    const header = keyVaultChallenge(
      `https://localhost:8444/${tenant}`,
      'https://vault.localhost:8444',
    );
    expect(header).toBe(
      `Bearer authorization="https://localhost:8444/${tenant}", resource="https://vault.localhost:8444"`,
    );
    // What the Python parser (http_challenge.py) reads: params split on `,` then `=`.
    const params = Object.fromEntries(
      header
        .slice('Bearer '.length)
        .split(',')
        .map((p) => p.trim().split('='))
        .map(([k = '', v = '']) => [k, v.replace(/"/g, '')]),
    );
    expect(params).toEqual({
      authorization: `https://localhost:8444/${tenant}`,
      resource: 'https://vault.localhost:8444',
    });
  });
});
