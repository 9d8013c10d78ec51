// Compatibility: the real @azure/arm-msi client with @azure/identity's ClientSecretCredential,
// run in a child process against real `tessera server` and `tessera agent` processes over HTTPS
// from the server's local CA.
import { decodeJwt, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_ROLE_IDS } from '../../src/core/rbac/index.js';
import type { ReportedError } from './client-kit.js';
import { type ClientOutput, GUID, killClients, runClient } from './harness.js';
import { imdsToken } from './imds-probe.js';
import {
  assignRole,
  closeStarted,
  startTesseraAgent,
  startTesseraServer,
  type TesseraServer,
} from './processes.js';

const CLIENT_SCRIPT = new URL('./arm-msi-client.ts', import.meta.url);
const GROUP = 'compat-rg';
const UAI = 'Microsoft.ManagedIdentity/userAssignedIdentities';

/** The SDK's `Identity` model, as far as the test reads it. */
interface SdkIdentity {
  id: string;
  name: string;
  type: string;
  location: string;
  tags?: Record<string, string>;
  principalId: string;
  clientId: string;
  tenantId: string;
}

interface Results {
  created: SdkIdentity;
  kept: SdkIdentity;
  got: SdkIdentity;
  inGroup: string[];
  inSubscription: string[];
  updated: SdkIdentity;
  deleted: boolean;
  afterDelete: { value?: unknown; error?: ReportedError };
}

describe('compatibility: @azure/arm-msi with ClientSecretCredential over HTTPS', () => {
  let tessera: TesseraServer | undefined;
  let output: ClientOutput<Results>;
  /** The claims of an IMDS token for id2, which outlives the run, from a VM on the agent's host. */
  let id2Claims: JWTPayload;

  beforeAll(async () => {
    tessera = await startTesseraServer();
    // arm-msi has no resource groups, so the group is made over the ARM API with the same secret.
    const group = await tessera.arm(
      'PUT',
      `${tessera.subscriptionPath}/resourceGroups/${GROUP}?api-version=2021-04-01`,
      { location: 'westeurope' },
    );
    expect(group.status).toBe(201);
    // The agent, needed only afterwards, starts while the SDK runs.
    const [agent, clientOutput] = await Promise.all([
      startTesseraAgent(tessera, 'msi-host'),
      runClient<Results>(CLIENT_SCRIPT, {
        ...tessera.clientEnv,
        TESSERA_COMPAT_RESOURCE_GROUP: GROUP,
      }),
    ]);
    output = clientOutput;
    // What id2's principal is shows in a token for it: a VM on the agent's host holds it.
    const probe = await tessera.arm(
      'PUT',
      `${tessera.subscriptionPath}/resourceGroups/${GROUP}/providers/Microsoft.Compute/virtualMachines/probe?api-version=2024-07-01`,
      {
        location: 'westeurope',
        identity: { type: 'UserAssigned', userAssignedIdentities: { [idOf('id2')]: {} } },
        properties: { tessera: { hostId: agent.hostId, privateIpAddresses: ['127.0.0.1'] } },
      },
    );
    expect(probe.status).toBe(201);
    const token = await imdsToken(agent.imdsUrl, {
      from: '127.0.0.1',
      resource: 'https://management.azure.com',
      selector: { msi_res_id: idOf('id2') },
    });
    id2Claims = decodeJwt(token.access_token);
  }, 120_000);

  afterAll(async () => {
    killClients();
    await closeStarted();
  }, 30_000);

  const started = (): TesseraServer => {
    if (tessera === undefined) throw new Error('Tessera did not start');
    return tessera;
  };
  const idOf = (name: string): string =>
    `${started().subscriptionPath}/resourceGroups/${GROUP}/providers/${UAI}/${name}`;

  it('runs every call to the end, with api-version 2024-11-30', () => {
    expect(output.error).toBeUndefined();
    expect(output.ok).toBe(true);
    expect(output.requests).toHaveLength(8);
    for (const request of output.requests) expect(request).toContain('?api-version=2024-11-30');
  });

  it('createOrUpdate returns the identity with its principal, client and tenant ids', () => {
    const { tenantId } = started();
    const created = output.results.created!;
    expect(created).toMatchObject({
      id: idOf('id1'),
      name: 'id1',
      type: UAI,
      location: 'westeurope',
      tenantId,
    });
    expect(created.tags).toEqual({ a: 'b' });
    expect(created.principalId).toMatch(GUID);
    expect(created.clientId).toMatch(GUID);
    // id1 is gone by now; id2, made the same way, shows what its principal looks like.
    // A managed identity's token names its ARM id in xms_mirid.
    const kept = output.results.kept!;
    expect(id2Claims).toMatchObject({
      oid: kept.principalId,
      appid: kept.clientId,
      tid: tenantId,
      xms_mirid: idOf('id2'),
    });
  });

  it('get returns what createOrUpdate did', () => {
    const { created, got } = output.results;
    expect(got?.principalId).toMatch(GUID);
    expect(got).toEqual(created);
  });

  it('lists by group and by subscription', () => {
    expect(output.results.inGroup?.toSorted()).toEqual(['id1', 'id2']);
    expect(output.results.inSubscription?.toSorted()).toEqual([idOf('id1'), idOf('id2')]);
  });

  it('update replaces the tags and keeps the ids', () => {
    const { created, updated } = output.results;
    expect(updated?.tags).toEqual({ a: 'c', d: 'e' });
    expect(updated).toMatchObject({
      id: idOf('id1'),
      principalId: created?.principalId,
      clientId: created?.clientId,
      tenantId: started().tenantId,
    });
  });

  it('delete removes the identity and its principal; get then fails with ResourceNotFound', async () => {
    const { arm, subscriptionPath } = started();
    expect(output.results.deleted).toBe(true);
    expect(output.results.afterDelete?.error).toMatchObject({
      name: 'RestError',
      code: 'ResourceNotFound',
      statusCode: 404,
    });
    // The principal is gone from the directory: a role for it is PrincipalNotFound.
    const created = output.results.created!;
    const assigned = await assignRole(started(), {
      scope: `${subscriptionPath}/resourceGroups/${GROUP}`,
      roleId: BUILT_IN_ROLE_IDS.reader,
      principalId: created.principalId,
    });
    expect(assigned).toMatchObject({ status: 400, body: { error: { code: 'PrincipalNotFound' } } });
    // And under its ARM id: a VM cannot be given the identity.
    const vm = await arm(
      'PUT',
      `${subscriptionPath}/resourceGroups/${GROUP}/providers/Microsoft.Compute/virtualMachines/after-delete?api-version=2024-07-01`,
      {
        location: 'westeurope',
        identity: { type: 'UserAssigned', userAssignedIdentities: { [idOf('id1')]: {} } },
      },
    );
    expect(vm).toMatchObject({
      status: 400,
      body: {
        error: {
          message: expect.stringContaining(`Resource '${idOf('id1')}' was not found.`) as unknown,
        },
      },
    });
  });
});
