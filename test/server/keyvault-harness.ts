// A running server with a vault, and a small Key Vault data-plane client that names the vault by Host header.
import { request } from 'node:http';
import { BUILT_IN_ROLE_IDS } from '../../src/core/rbac/index.js';
import { type ArmHarness, startArm } from './arm-harness.js';

export const VAULT_V = 'api-version=2023-07-01';
export const KV_V = 'api-version=7.5';
/** `tessera up`'s default suffix: tokens for vaults carry this audience. */
export const KV_SCOPE = 'https://vault.localhost/.default';

export interface KvResult {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Record<string, unknown> | undefined;
  readonly text: string;
}

export interface KvHarness extends ArmHarness {
  /** The default vault's name and ARM id. */
  readonly vault: { readonly name: string; readonly id: string };
  /** An application holding Key Vault Secrets Officer on the default vault. */
  readonly officer: {
    readonly objectId: string;
    readonly appId: string;
    readonly secret: string;
    readonly token: string;
  };
  /** Calls vault `vault` (default the harness's) at `path`; a string body is sent as is. */
  kv(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; vault?: string; headers?: Record<string, string> },
  ): Promise<KvResult>;
  /** Creates vault `name` in the harness's group. */
  createVault(name: string): Promise<string>;
  /** Grants `principalId` a built-in role at `scope` through ARM. */
  grant(principalId: string, role: keyof typeof BUILT_IN_ROLE_IDS, scope: string): Promise<void>;
  /** A new Application principal with a Key Vault token. */
  newKvClient(
    displayName: string,
  ): Promise<{ objectId: string; appId: string; secret: string; token: string }>;
}

/**
 * Starts a server with resource group `kv-rg`, vault `vault-one` and an officer of it (`dir`: see
 * startArm).
 */
export async function startKeyVault(options: { dir?: string } = {}): Promise<KvHarness> {
  const h = await startArm(options);
  const port = new URL(h.server.url).port;
  const group = `/subscriptions/${h.sub}/resourceGroups/kv-rg`;
  await h.arm('PUT', `${group}?api-version=2021-04-01`, {
    token: h.admin,
    body: { location: 'westeurope' },
  });
  const createVault = async (name: string): Promise<string> => {
    const path = `${group}/providers/Microsoft.KeyVault/vaults/${name}`;
    const created = await h.arm('PUT', `${path}?${VAULT_V}`, {
      token: h.admin,
      body: { location: 'westeurope' },
    });
    if (created.status !== 201 && created.status !== 200) {
      throw new Error(`vault ${name}: ${created.status}`);
    }
    return path;
  };
  const vault = { name: 'vault-one', id: await createVault('vault-one') };

  const kv: KvHarness['kv'] = (method, path, options = {}) =>
    new Promise((resolve, reject) => {
      const body =
        options.body === undefined
          ? undefined
          : typeof options.body === 'string'
            ? options.body
            : JSON.stringify(options.body);
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method,
          path,
          headers: {
            host: `${options.vault ?? vault.name}.vault.localhost:${port}`,
            ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
            ...(body === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
            ...options.headers,
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => {
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text,
              body: (text === '' ? undefined : JSON.parse(text)) as Record<string, unknown>,
            });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  const grant: KvHarness['grant'] = async (principalId, role, scope) => {
    const id = crypto.randomUUID();
    const result = await h.arm(
      'PUT',
      `${scope}/providers/Microsoft.Authorization/roleAssignments/${id}?api-version=2022-04-01`,
      {
        token: h.admin,
        body: {
          properties: {
            roleDefinitionId: `/subscriptions/${h.sub}/providers/Microsoft.Authorization/roleDefinitions/${BUILT_IN_ROLE_IDS[role]}`,
            principalId,
          },
        },
      },
    );
    if (result.status !== 201) {
      throw new Error(`grant ${role}: ${result.status} ${JSON.stringify(result.body)}`);
    }
  };

  const newKvClient: KvHarness['newKvClient'] = async (displayName) => {
    const principal = await h.server.services.directory.createPrincipal({
      tenantId: h.server.tenant.id,
      displayName,
      type: 'Application',
    });
    const { secret } = await h.server.services.directory.addClientSecret(principal.objectId);
    const token = await h.token(principal.appId, secret, KV_SCOPE);
    return { objectId: principal.objectId, appId: principal.appId, secret, token };
  };

  const officer = await newKvClient('kv-officer');
  await grant(officer.objectId, 'keyVaultSecretsOfficer', vault.id);
  return Object.assign(h, { vault, kv, createVault, grant, newKvClient, officer });
}
