// A Key Vault secrets client that reaches a vault through the server's own address, naming it by Host header.
import { isRecord } from '../core/guards.js';
import { ClientError, errorFromAnswer } from './errors.js';
import type { HttpSend } from './http.js';
import type { TokenProvider } from './credentials.js';

/** The data-plane api-version the client speaks. */
const API_VERSION = '7.5';

/** A JSON object as Key Vault returns it (SecretBundle, SecretItem, DeletedSecretBundle). */
export type SecretObject = Record<string, unknown>;

/** The secrets operations of one vault; each fails with Key Vault's code (`SecretNotFound`). */
export interface VaultClient {
  /** The Host header the vault is named by: `{vault}.{dnsSuffix}[:{port}]`. */
  readonly host: string;
  setSecret(name: string, value: string): Promise<SecretObject>;
  /** The latest version, or `version`. */
  getSecret(name: string, version?: string): Promise<SecretObject>;
  /** Every secret's properties (never values), following `nextLink`. */
  listSecrets(): Promise<SecretObject[]>;
  deleteSecret(name: string): Promise<SecretObject>;
}

/** The token scope of vaults under `dnsSuffix`. */
export const vaultScope = (dnsSuffix: string): string => `https://${dnsSuffix}/.default`;

/** Vault names as Key Vault takes them (3-24 letters, digits and hyphens). */
const VAULT_NAME = /^[a-zA-Z0-9-]{3,24}$/;

/**
 * Makes the client for vault `vaultName`. Requests go to `serverUrl` with the Host header
 * `{vaultName}.{dnsSuffix}` plus the URL's port, so the vault needs no DNS entry; over https the
 * certificate is checked for that name. A bad vault name fails at once with `VaultNameNotValid`.
 */
export function createVaultClient(options: {
  readonly serverUrl: string;
  readonly vaultName: string;
  readonly dnsSuffix: string;
  readonly send: HttpSend;
  readonly tokens: TokenProvider;
}): VaultClient {
  const { serverUrl, vaultName, dnsSuffix, send, tokens } = options;
  if (!VAULT_NAME.test(vaultName)) {
    throw new ClientError(
      'VaultNameNotValid',
      `'${vaultName}' is not a vault name: 3-24 letters, digits and hyphens`,
    );
  }
  const port = new URL(serverUrl).port;
  const host = `${vaultName.toLowerCase()}.${dnsSuffix}${port === '' ? '' : `:${port}`}`;
  const scope = vaultScope(dnsSuffix);

  const call = async (method: string, path: string, body?: unknown): Promise<SecretObject> => {
    const token = await tokens.getToken(scope);
    const answer = await send({
      method,
      url: `${serverUrl}${path}`,
      host,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (answer.status >= 400) {
      throw errorFromAnswer(answer.status, answer.text, `${method} ${host}${path}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer.text);
    } catch {
      parsed = undefined;
    }
    if (!isRecord(parsed)) {
      throw new ClientError('UnexpectedResponse', `not a JSON object from ${method} ${host}`, {
        status: answer.status,
      });
    }
    return parsed;
  };

  const secretPath = (name: string, version?: string): string =>
    `/secrets/${encodeURIComponent(name)}${version === undefined ? '' : `/${encodeURIComponent(version)}`}?api-version=${API_VERSION}`;

  return {
    host,
    setSecret: (name, value) => call('PUT', secretPath(name), { value }),
    getSecret: (name, version) => call('GET', secretPath(name, version)),
    deleteSecret: (name) => call('DELETE', secretPath(name)),
    async listSecrets() {
      const items: SecretObject[] = [];
      let path: string | undefined = `/secrets?api-version=${API_VERSION}`;
      while (path !== undefined) {
        const page = await call('GET', path);
        if (Array.isArray(page.value)) items.push(...page.value.filter(isRecord));
        path = typeof page.nextLink === 'string' ? nextPath(page.nextLink, host) : undefined;
      }
      return items;
    },
  };
}

/**
 * The path and query of `nextLink`, which must name this vault: the token is sent with it, so a
 * link elsewhere is refused (`UnexpectedResponse`) rather than followed.
 */
function nextPath(nextLink: string, host: string): string {
  let next: URL;
  try {
    next = new URL(nextLink);
  } catch {
    throw new ClientError('UnexpectedResponse', `nextLink is not a URL: ${nextLink}`);
  }
  const expected = new URL(`http://${host}`);
  if (next.hostname.toLowerCase() !== expected.hostname) {
    throw new ClientError('UnexpectedResponse', `nextLink names another host: ${next.host}`);
  }
  return `${next.pathname}${next.search}`;
}
