// The demo of `tessera up`: a host for the embedded agent and a VM on it with a system identity, bound to loopback.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ADMIN_SECRET_FILE } from '../config/index.js';
import { systemClock } from '../core/clock.js';
import { issueJoinToken } from '../core/hosts/join-tokens.js';
import type { Store } from '../core/ports.js';
import { agentStateDir } from '../agent/runtime.js';
import type { LaunchedServer } from './server-launcher.js';
import { ensureDemoVault } from './demo-vault.js';

/** The embedded agent's host name. */
export const DEMO_HOST = 'local';
export const DEMO_GROUP = 'demo-rg';
export const DEMO_IDENTITY = 'demo-identity';
export const DEMO_VM = 'demo-vm';

/** What the demo set up: the host, a join token when the agent has not registered yet, the VM. */
export interface Demo {
  readonly hostId: string;
  readonly joinToken: string | undefined;
  /** The demo VM's ARM id. */
  readonly vmId: string;
  /** The demo vault's data-plane URI. */
  readonly vaultUri: string;
  /** The user-assigned identity attached to the demo VM. */
  readonly identity: { readonly id: string; readonly clientId: string };
}

async function fileExists(path: string): Promise<boolean> {
  try {
    await readFile(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes sure the host `local` exists (with a join token for the embedded agent unless its state
 * is already in the data dir) and that the group `demo-rg` holds `demo-vm`, with a
 * system-assigned identity and the user-assigned `demo-identity`, placed on that host at
 * 127.0.0.1 and ::1, so that a local caller of IMDS is that VM,
 * and that `demo-vault` holds a secret that identity may read ({@link ensureDemoVault}).
 * The VM is written through ARM as the administrator, like any operator would; repeating it on
 * every start changes nothing.
 */
export async function ensureDemo(input: {
  readonly server: Pick<LaunchedServer, 'url' | 'tenant' | 'subscriptionId'>;
  readonly store: Store;
  readonly dataDir: string;
  readonly administratorAppId: string;
  readonly administratorObjectId: string;
  /** The Key Vault DNS suffix (`server.keyVault.dnsSuffix`). */
  readonly dnsSuffix: string;
}): Promise<Demo> {
  const { server, store, dataDir } = input;
  const registered = await fileExists(join(agentStateDir(dataDir), 'host.json'));
  const existing = await store.hosts.getByName(DEMO_HOST);
  let joinToken: string | undefined;
  let hostId = existing?.id;
  if (!registered || existing === undefined) {
    const issued = await issueJoinToken({ store, clock: systemClock }, DEMO_HOST);
    joinToken = issued.joinToken;
    hostId = issued.host.id;
  }
  if (hostId === undefined) throw new Error('the demo host has no id');

  const secret = (await readFile(join(dataDir, ADMIN_SECRET_FILE), 'utf8')).trim();
  const tokenFor = async (scope: string): Promise<string> => {
    const response = await fetch(`${server.url}/${server.tenant.id}/oauth2/v2.0/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: input.administratorAppId,
        client_secret: secret,
        scope,
      }),
    });
    if (!response.ok) throw new Error(`demo: token request failed (${response.status})`);
    return ((await response.json()) as { access_token: string }).access_token;
  };
  // Both tokens at once: each costs the server a slow hash of the secret. The vault one is awaited
  // only by the vault step; a failure before then must not surface as an unhandled rejection.
  const vaultToken = tokenFor(`https://${input.dnsSuffix}/.default`);
  void vaultToken.catch(() => undefined);
  const token = await tokenFor('https://management.azure.com/.default');
  const call = async (
    method: string,
    path: string,
    apiVersion: string,
    body?: unknown,
  ): Promise<[number, unknown]> => {
    const response = await fetch(`${server.url}${path}?api-version=${apiVersion}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return [response.status, text === '' ? undefined : (JSON.parse(text) as unknown)];
  };
  const write = async (method: string, path: string, apiVersion: string, body: unknown) => {
    const [status, answer] = await call(method, path, apiVersion, body);
    if (status >= 300) {
      throw new Error(`demo: ${method} ${path} failed (${status}): ${JSON.stringify(answer)}`);
    }
    return answer;
  };
  const group = `/subscriptions/${server.subscriptionId}/resourceGroups/${DEMO_GROUP}`;
  const vmId = `${group}/providers/Microsoft.Compute/virtualMachines/${DEMO_VM}`;
  const identityId = `${group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${DEMO_IDENTITY}`;
  await write('PUT', group, '2021-04-01', { location: 'westeurope' });
  const identity = (await write('PUT', identityId, '2023-01-31', {
    location: 'westeurope',
  })) as { properties: { clientId: string } };
  const identities = {
    type: 'SystemAssigned, UserAssigned',
    userAssignedIdentities: { [identityId]: {} },
  };
  // Made once; later starts only re-attach what the demo needs, keeping what the user changed.
  const [found] = await call('GET', vmId, '2024-07-01');
  const vm = (await (found === 404
    ? write('PUT', vmId, '2024-07-01', {
        location: 'westeurope',
        identity: identities,
        properties: {
          hardwareProfile: { vmSize: 'Standard_B1s' },
          tessera: { hostId, privateIpAddresses: ['127.0.0.1', '::1'] },
        },
      })
    : write('PATCH', vmId, '2024-07-01', { identity: identities }))) as {
    identity?: { principalId?: string };
  };
  const vaultUri = await ensureDemoVault({
    server,
    dnsSuffix: input.dnsSuffix,
    groupId: group,
    arm: (path, apiVersion, body) => call('PUT', path, apiVersion, body),
    vaultToken: () => vaultToken,
    administratorObjectId: input.administratorObjectId,
    vmPrincipalId: vm.identity?.principalId ?? '',
  });
  return {
    hostId,
    joinToken,
    vmId,
    vaultUri,
    identity: { id: identityId, clientId: identity.properties.clientId },
  };
}
