// Attacks of issue 18 point 7, each through real processes: a `tessera server` and a `tessera
// agent` (a VM on 127.0.0.23 asks the agent's IMDS), the public token endpoint, and two
// `tessera signing-key rotate --immediate` at once on one data directory.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withStore } from '../../src/cli/operator-store.js';
import { serviceSettingsFrom } from '../../src/server/runtime.js';
import { createServerServices } from '../../src/server/services.js';
import { httpRequest, imdsToken, until } from '../compat/imds-probe.js';
import {
  closeStarted,
  startTesseraAgent,
  startTesseraServer,
  type TesseraAgent,
  type TesseraServer,
} from '../compat/processes.js';
import {
  closeAll,
  runTessera,
  spawnTessera,
  stopTessera,
  type TesseraProcess,
} from '../compat/tessera-cli.js';

const GROUP = 'small-items-rg';
const VM_V = 'api-version=2024-07-01';
const UAI_V = 'api-version=2023-01-31';
const EVENTS = '/providers/Tessera.Audit/events?api-version=2026-11-01';
/** The VM's private address: where its IMDS calls come from. */
const VM_ADDRESS = '127.0.0.23';
const ARM_RESOURCE = 'https://management.azure.com/';

interface Identity {
  readonly id: string;
  readonly principalId: string;
  readonly clientId: string;
}

/** IMDS's answer to a token request from the VM; `query` is sent as written. */
async function askImds(imdsUrl: string, query: string) {
  const answer = await httpRequest(
    `${imdsUrl}/metadata/identity/oauth2/token?api-version=2018-02-01&${query}`,
    { from: VM_ADDRESS, headers: { Metadata: 'true' } },
  );
  return { status: answer.status, body: JSON.parse(answer.text) as Record<string, unknown> };
}

describe('attacks: issue 18 point 7, through real processes', () => {
  let server: TesseraServer;
  let agent: TesseraAgent;
  const uai: Record<'ok' | 'off', Identity> = {} as Record<'ok' | 'off', Identity>;
  /** Stopped and removed in afterAll whatever happened. */
  const started: TesseraProcess[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    server = await startTesseraServer();
    agent = await startTesseraAgent(server, 'small-items-host');
    const groupPath = `${server.subscriptionPath}/resourceGroups/${GROUP}`;
    expect(
      (await server.arm('PUT', `${groupPath}?api-version=2021-04-01`, { location: 'westeurope' }))
        .status,
    ).toBe(201);
    for (const name of ['ok', 'off'] as const) {
      const created = await server.arm(
        'PUT',
        `${groupPath}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uai-${name}?${UAI_V}`,
        { location: 'westeurope' },
      );
      expect(created.status).toBe(201);
      const body = created.body as { id: string; properties: Omit<Identity, 'id'> };
      uai[name] = { id: body.id, ...body.properties };
    }
    const vm = await server.arm(
      'PUT',
      `${groupPath}/providers/Microsoft.Compute/virtualMachines/vm-small?${VM_V}`,
      {
        location: 'westeurope',
        identity: {
          type: 'UserAssigned',
          userAssignedIdentities: { [uai.ok.id]: {}, [uai.off.id]: {} },
        },
        properties: { tessera: { hostId: agent.hostId, privateIpAddresses: [VM_ADDRESS] } },
      },
    );
    expect(vm.status).toBe(201);
    // Both identities serve tokens (their keys are certified) before anything is attacked.
    await Promise.all(
      [uai.ok, uai.off].map((identity) =>
        imdsToken(agent.imdsUrl, {
          from: VM_ADDRESS,
          resource: ARM_RESOURCE,
          selector: { client_id: identity.clientId },
        }),
      ),
    );
  }, 120_000);

  afterAll(async () => {
    await closeAll(
      ...started.map((proc) => () => stopTessera(proc)),
      closeStarted,
      ...dirs.map((dir) => () => rm(dir, { recursive: true, force: true })),
    );
  }, 30_000);

  it('an IMDS resource (or selector) with CR/LF is refused, at IMDS and at the token endpoint', async () => {
    const injected = encodeURIComponent(`${ARM_RESOURCE}\r\nX-Injected: 1`);
    const refused = await askImds(
      agent.imdsUrl,
      `resource=${injected}&client_id=${uai.ok.clientId}`,
    );
    expect(refused).toEqual({
      status: 400,
      body: {
        error: 'invalid_request',
        error_description:
          "Bad request. Query parameter 'resource' must not contain control characters.",
      },
    });
    for (const control of ['%00', '%09', '%7F', '%C2%85']) {
      expect((await askImds(agent.imdsUrl, `resource=https%3A%2F%2Fx${control}`)).status).toBe(400);
    }
    for (const selector of ['client_id', 'object_id', 'msi_res_id']) {
      expect(
        await askImds(agent.imdsUrl, `resource=${ARM_RESOURCE}&${selector}=${uai.ok.clientId}%0A`),
      ).toEqual({
        status: 400,
        body: {
          error: 'invalid_request',
          error_description: `Bad request. Query parameter '${selector}' must not contain control characters.`,
        },
      });
    }
    expect(
      (await askImds(agent.imdsUrl, `resource=https%3A%2F%2Fx%2F${'r'.repeat(2040)}`)).body,
    ).toEqual({
      error: 'invalid_request',
      error_description:
        "Bad request. Query parameter 'resource' must be at most 2048 characters long.",
    });

    // The public token endpoint, as the administrator's client-credentials login.
    const { TESSERA_COMPAT_CLIENT_ID: clientId, TESSERA_COMPAT_SECRET_FILE: secretFile } =
      server.clientEnv;
    const secret = (await readFile(secretFile!, 'utf8')).trim();
    const tokenEndpoint = async (version: 'v1' | 'v2', value: Record<string, string>) => {
      const path = version === 'v1' ? 'oauth2/token' : 'oauth2/v2.0/token';
      const response = await fetch(`${server.url}/${server.tenantId}/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: clientId!,
          client_secret: secret,
          ...value,
        }).toString(),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const entraRefusal = {
      status: 400,
      body: expect.objectContaining({ error: 'invalid_request', error_codes: [90100] }) as unknown,
    };
    expect(await tokenEndpoint('v1', { resource: `${ARM_RESOURCE}\r\nX-Injected: 1` })).toEqual(
      entraRefusal,
    );
    expect(
      await tokenEndpoint('v2', { scope: 'https://management.azure.com\u0000/.default' }),
    ).toEqual(entraRefusal);
    expect(await tokenEndpoint('v1', { resource: `https://x/${'r'.repeat(4096)}` })).toEqual(
      entraRefusal,
    );
    // What clients send is still served.
    expect((await tokenEndpoint('v1', { resource: ARM_RESOURCE })).status).toBe(200);
  });

  it('two simultaneous `signing-key rotate --immediate` cannot both claim to sign', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tessera-rotate-race-'));
    dirs.push(dataDir);
    // What `tessera signing-key` asks an operator for on a data directory without a master key.
    await writeFile(join(dataDir, 'master.key'), `${randomBytes(32).toString('base64')}\n`, {
      mode: 0o600,
    });
    const args = ['signing-key', 'rotate', '--data-dir', dataDir];
    await runTessera('tessera signing-key rotate', args);

    for (let round = 0; round < 2; round += 1) {
      const rotations = [0, 1].map(() => {
        const proc = spawnTessera('tessera signing-key rotate --immediate', [
          ...args,
          '--immediate',
        ]);
        started.push(proc);
        return { proc, exited: once(proc.child, 'exit') as Promise<[number | null]> };
      });
      for (const { proc, exited } of rotations) {
        expect((await exited)[0], proc.stderr).toBe(0);
      }
      const told = rotations.map(({ proc: { stdout } }) => ({
        kid: /^rotated: (\S+) {2}\w+ /m.exec(stdout)?.[1],
        state: /^rotated: \S+ {2}(\w+) /m.exec(stdout)?.[1],
        unpublished: /^unpublished: ([^(]+) \(/m.exec(stdout)?.[1]?.split(' ') ?? [],
        signing: /^signing now: (\S+)$/m.exec(stdout)?.[1],
      }));
      const story = JSON.stringify(told);
      // An immediate rotation leaves one key published, and it signs.
      const published = await withStore({ dataDir }, (store) =>
        store.signingKeys.listPublished(Date.now()),
      );
      expect(published, story).toHaveLength(1);
      const active = published[0]!.kid;
      const winner = told.find((t) => t.kid === active);
      const loser = told.find((t) => t !== winner);
      expect(winner, story).toMatchObject({ state: 'active', signing: active });
      // The other key: its own command saw it superseded, or the winner says it unpublished it.
      const superseded = loser?.state === 'retired' && loser.signing === active;
      expect(superseded || winner!.unpublished.includes(loser!.kid!), story).toBe(true);
    }
  }, 120_000);

  it('a disabled principal is refused at IMDS with Entra’s unauthorized_client, as Azure IMDS passes it on', async () => {
    // Tessera has no API that disables a principal (Azure: `az ad sp update --id <appId> --set
    // accountEnabled=false`); an operator on the server's machine does it through the store, as
    // the `tessera` operator commands do (src/cli/operator-store.ts).
    await withStore({ dataDir: server.dataDir }, async (store, config) => {
      const services = createServerServices(
        store,
        { now: () => Date.now() },
        serviceSettingsFrom(config, ''),
      );
      await services.directory.setEnabled(uai.off.principalId, false);
    });
    // A resource the agent has no token cached for: the server is asked, and refuses.
    const refused = await askImds(
      agent.imdsUrl,
      `resource=${encodeURIComponent('https://vault.azure.net')}&client_id=${uai.off.clientId}`,
    );
    expect(refused.status).toBe(400);
    expect(Object.keys(refused.body)).toEqual(['error', 'error_description']);
    expect(refused.body.error).toBe('unauthorized_client');
    expect(refused.body.error_description).toMatch(
      new RegExp(`^AADSTS7000112: Application '${uai.off.clientId}'\\(uai-off\\) is disabled\\.$`),
    );
    // The other identity of the VM is untouched.
    expect(
      (
        await askImds(
          agent.imdsUrl,
          `resource=https%3A%2F%2Fvault.azure.net&client_id=${uai.ok.clientId}`,
        )
      ).status,
    ).toBe(200);
  });

  it('an IMDS token is audited with the calling VM’s address', async () => {
    const resource = 'api://small-items-peer';
    const issued = await askImds(
      agent.imdsUrl,
      `resource=${encodeURIComponent(resource)}&client_id=${uai.ok.clientId}`,
    );
    expect(issued.status).toBe(200);
    const listed = await until('the audit event of the IMDS token', async () => {
      const page = await server.arm(
        'GET',
        `${EVENTS}&kind=token&outcome=issued&principalId=${uai.ok.principalId}`,
      );
      const events = (
        page.body as {
          value: { id: string; resource: string; vmId: string | null; hostId: string | null }[];
        }
      ).value;
      return events.find((event) => event.resource === resource);
    });
    expect(listed.vmId).toMatch(/\/virtualMachines\/vm-small$/);
    expect(listed.hostId).toBe(agent.hostId);
    // The events API shows no `details` (src/server/arm/audit-events.ts keeps them server-side):
    // the operator reads the event's `peer` where the server keeps it.
    const stored = await withStore({ dataDir: server.dataDir }, async (store) =>
      (
        await store.audit.list(
          { kind: 'token', outcome: 'issued', principalId: uai.ok.principalId },
          { limit: 100 },
        )
      ).items.find((event) => event.id === listed.id),
    );
    expect(stored?.details).toMatchObject({ peer: VM_ADDRESS });
  });
});
