// Key Vault's 401 challenge: where to get a token, and the resource (audience) to get it for.

/** The port a listener of `scheme` answers on when a URL names none. */
const DEFAULT_PORTS = { http: 80, https: 443 } as const;

/**
 * The resource URI of vaults under `dnsSuffix`: `https://{dnsSuffix}`, with `:{port}` when `port`
 * is given. Always `https`, as Azure's `https://vault.azure.net`: it names an audience, not a
 * listener.
 */
export function keyVaultResource(dnsSuffix: string, port?: number): string {
  return port === undefined ? `https://${dnsSuffix}` : `https://${dnsSuffix}:${String(port)}`;
}

/**
 * The port in `host` (a Host header, `name[:port]`), when it has one from 1 to 65535; undefined
 * otherwise (no port, or one that is not a TCP port). Only the number is returned, so nothing of
 * the header's text reaches what is built from it.
 */
export function hostPort(host: string | undefined): number | undefined {
  const match = /^[^:[\]]+:(\d{1,5})$/.exec(host ?? '');
  const port = match?.[1] === undefined ? undefined : Number(match[1]);
  return port !== undefined && port >= 1 && port <= 65_535 ? port : undefined;
}

/**
 * The resource a vault reached with `host` over `scheme` names in its challenge: the
 * {@link keyVaultResource} with the request's port, unless that is the scheme's default (or there
 * is none). The SDKs check it against the vault URL before they fetch a token (PROTOCOL-TOOLS.md
 * Part A section 5): Python's `azure-keyvault-*` 4.7 wants the URL's `host:port` to end with
 * `.{host:port of the resource}` (so a vault on `:8444` needs `:8444` here), the JS SDK compares
 * host names only. Then they ask for a token for this resource, port included.
 */
export function challengeResource(
  dnsSuffix: string,
  scheme: 'http' | 'https',
  host: string | undefined,
): string {
  const port = hostPort(host);
  return keyVaultResource(dnsSuffix, port === DEFAULT_PORTS[scheme] ? undefined : port);
}

/**
 * The `WWW-Authenticate` of a Key Vault 401: `Bearer authorization="{authority}",
 * resource="{resource}"`, as Azure sends it. `authorization` is the tenant's authority with
 * nothing after the tenant (the JS SDK reads the whole path as the tenant id).
 */
export function keyVaultChallenge(authorization: string, resource: string): string {
  return `Bearer authorization="${authorization}", resource="${resource}"`;
}
