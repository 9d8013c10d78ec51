// The demo vault of `tessera up`: `demo-vault` with `demo-secret`, readable by the demo VM's identity.
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { BUILT_IN_ROLE_IDS } from '../core/rbac/index.js';
import type { LaunchedServer } from './server-launcher.js';

export const DEMO_VAULT = 'demo-vault';
export const DEMO_SECRET = 'demo-secret';
const VAULT_API = '2023-07-01';
const ROLE_API = '2022-04-01';

/** What {@link ensureDemoVault} needs: ARM and Key Vault calls as the administrator. */
export interface DemoVaultInput {
  readonly server: Pick<LaunchedServer, 'url' | 'subscriptionId'>;
  readonly dnsSuffix: string;
  readonly groupId: string;
  /** `PUT {path}?api-version=…` on ARM as the administrator; returns the status and body. */
  readonly arm: (path: string, apiVersion: string, body: unknown) => Promise<[number, unknown]>;
  /** A Key Vault token of the administrator. */
  readonly vaultToken: () => Promise<string>;
  readonly administratorObjectId: string;
  readonly vmPrincipalId: string;
}

/** A role assignment name fixed by what it grants, so repeating the demo grants nothing new. */
function assignmentName(scope: string, principalId: string, roleId: string): string {
  const hex = createHash('sha256').update(`${scope}|${principalId}|${roleId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Makes sure vault `demo-vault` exists in the demo group, that the administrator holds Key Vault
 * Secrets Officer and the demo VM's identity Key Vault Secrets User on it, and that it holds
 * `demo-secret` (set once; a value changed by the user is kept). Returns the vault's URI.
 */
export async function ensureDemoVault(input: DemoVaultInput): Promise<string> {
  const vaultId = `${input.groupId}/providers/Microsoft.KeyVault/vaults/${DEMO_VAULT}`;
  const [status, vault] = await input.arm(vaultId, VAULT_API, { location: 'westeurope' });
  if (status !== 200 && status !== 201) {
    throw new Error(`demo: the vault could not be made (${status}): ${JSON.stringify(vault)}`);
  }
  const grants: [string, string][] = [
    [input.administratorObjectId, BUILT_IN_ROLE_IDS.keyVaultSecretsOfficer],
    [input.vmPrincipalId, BUILT_IN_ROLE_IDS.keyVaultSecretsUser],
  ];
  for (const [principalId, roleId] of grants) {
    const name = assignmentName(vaultId, principalId, roleId);
    const [granted, body] = await input.arm(
      `${vaultId}/providers/Microsoft.Authorization/roleAssignments/${name}`,
      ROLE_API,
      {
        properties: {
          roleDefinitionId: `/subscriptions/${input.server.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`,
          principalId,
        },
      },
    );
    // 409: this assignment (or the same grant under another name) is already there.
    if (granted !== 201 && granted !== 200 && granted !== 409) {
      throw new Error(`demo: a role could not be granted (${granted}): ${JSON.stringify(body)}`);
    }
  }
  const token = await input.vaultToken();
  const existing = await vaultCall(input, token, 'GET', `/secrets/${DEMO_SECRET}`);
  if (existing === 404) {
    const set = await vaultCall(input, token, 'PUT', `/secrets/${DEMO_SECRET}`, {
      value: 'Hello from Tessera Key Vault',
      contentType: 'text/plain',
    });
    if (set !== 200) throw new Error(`demo: the demo secret could not be set (${set})`);
  }
  const uri = (vault as { properties?: { vaultUri?: unknown } }).properties?.vaultUri;
  return typeof uri === 'string' ? uri : '';
}

/** One data-plane call to the demo vault through the server's plain-HTTP port; the status. */
function vaultCall(
  input: DemoVaultInput,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<number> {
  const server = new URL(input.server.url);
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: server.hostname,
        port: server.port,
        method,
        path: `${path}?api-version=7.5`,
        headers: {
          // The vault is named by Host; no DNS is involved.
          host: `${DEMO_VAULT}.${input.dnsSuffix}:${server.port}`,
          authorization: `Bearer ${token}`,
          ...(text === undefined ? {} : { 'content-type': 'application/json' }),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          resolve(res.statusCode ?? 0);
        });
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}
