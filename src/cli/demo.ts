// The demo of `tessera up`: a host for the embedded agent and a VM on it with a system identity, bound to loopback.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Store } from '../core/ports.js';
import { agentStateDir } from '../agent/runtime.js';
import { issueJoinToken } from '../server/agent-api/hosts.js';
import { ADMIN_SECRET_FILE } from '../server/bootstrap.js';
import type { RunningServer } from '../server/runtime.js';

/** The embedded agent's host name. */
export const DEMO_HOST = 'local';
export const DEMO_GROUP = 'demo';
export const DEMO_VM = 'demo-vm';

/** What the demo set up: the host, a join token when the agent has not registered yet, the VM. */
export interface Demo {
  readonly hostId: string;
  readonly joinToken: string | undefined;
  /** The demo VM's ARM id. */
  readonly vmId: string;
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
 * is already in the data dir) and that the group `demo` holds `demo-vm`, with a system-assigned
 * identity, placed on that host at 127.0.0.1 and ::1, so that a local caller of IMDS is that VM.
 * The VM is written through ARM as the administrator, like any operator would; repeating it on
 * every start changes nothing.
 */
export async function ensureDemo(input: {
  readonly server: RunningServer;
  readonly store: Store;
  readonly dataDir: string;
  readonly administratorAppId: string;
}): Promise<Demo> {
  const { server, store, dataDir } = input;
  const registered = await fileExists(join(agentStateDir(dataDir), 'host.json'));
  const existing = await store.hosts.getByName(DEMO_HOST);
  let joinToken: string | undefined;
  let hostId = existing?.id;
  if (!registered || existing === undefined) {
    const issued = await issueJoinToken({ store, clock: { now: () => Date.now() } }, DEMO_HOST);
    joinToken = issued.host.joinToken;
    hostId = issued.host.id;
  }
  if (hostId === undefined) throw new Error('the demo host has no id');

  const secret = (await readFile(join(dataDir, ADMIN_SECRET_FILE), 'utf8')).trim();
  const tokenResponse = await fetch(`${server.url}/${server.tenant.id}/oauth2/v2.0/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: input.administratorAppId,
      client_secret: secret,
      scope: 'https://management.azure.com/.default',
    }),
  });
  if (!tokenResponse.ok) throw new Error(`demo: token request failed (${tokenResponse.status})`);
  const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
  const group = `/subscriptions/${server.subscriptionId}/resourceGroups/${DEMO_GROUP}`;
  const vmId = `${group}/providers/Microsoft.Compute/virtualMachines/${DEMO_VM}`;
  const put = async (path: string, apiVersion: string, body: unknown): Promise<void> => {
    const response = await fetch(`${server.url}${path}?api-version=${apiVersion}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) {
      throw new Error(`demo: PUT ${path} failed (${response.status}): ${await response.text()}`);
    }
  };
  await put(group, '2021-04-01', { location: 'westeurope' });
  await put(vmId, '2024-07-01', {
    location: 'westeurope',
    identity: { type: 'SystemAssigned' },
    properties: {
      hardwareProfile: { vmSize: 'Standard_B1s' },
      tessera: { hostId, privateIpAddresses: ['127.0.0.1', '::1'] },
    },
  });
  return { hostId, joinToken, vmId };
}
