// Compatibility: the real @azure/arm-msi client with @azure/identity's ClientSecretCredential,
// run in a child process against an in-process Tessera over HTTPS from its local CA.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportedError } from './client-kit.js';
import {
  type ClientOutput,
  type CompatTessera,
  GUID,
  killClients,
  runClient,
  startCompatTessera,
} from './harness.js';

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
  let tessera: CompatTessera | undefined;
  let output: ClientOutput<Results>;

  beforeAll(async () => {
    tessera = await startCompatTessera();
    // arm-msi has no resource groups, so the group is made over the ARM API with the same secret.
    const group = await tessera.arm(
      'PUT',
      `${tessera.subscriptionPath}/resourceGroups/${GROUP}?api-version=2021-04-01`,
      { location: 'westeurope' },
    );
    expect(group.status).toBe(201);
    output = await runClient<Results>(CLIENT_SCRIPT, {
      ...tessera.clientEnv,
      TESSERA_COMPAT_RESOURCE_GROUP: GROUP,
    });
  }, 60_000);

  afterAll(async () => {
    killClients();
    await tessera?.close();
  });

  const started = (): CompatTessera => {
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

  it('createOrUpdate returns the identity with its principal, client and tenant ids', async () => {
    const { server, store } = started();
    const created = output.results.created!;
    expect(created).toMatchObject({
      id: idOf('id1'),
      name: 'id1',
      type: UAI,
      location: 'westeurope',
      tenantId: server.tenant.id,
    });
    expect(created.tags).toEqual({ a: 'b' });
    expect(created.principalId).toMatch(GUID);
    expect(created.clientId).toMatch(GUID);
    // id1 is gone by now; id2, made the same way, shows what its principal looks like.
    const kept = output.results.kept!;
    const principal = await store.principals.get(kept.principalId);
    expect(principal).toMatchObject({
      appId: kept.clientId,
      tenantId: server.tenant.id,
      type: 'ManagedIdentity',
      alternativeNames: [idOf('id2')],
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
      tenantId: started().server.tenant.id,
    });
  });

  it('delete removes the identity and its principal; get then fails with ResourceNotFound', async () => {
    const { store } = started();
    expect(output.results.deleted).toBe(true);
    expect(output.results.afterDelete?.error).toMatchObject({
      name: 'RestError',
      code: 'ResourceNotFound',
      statusCode: 404,
    });
    const created = output.results.created!;
    expect(await store.principals.get(created.principalId)).toBeUndefined();
    expect(await store.principals.getByAlternativeName(idOf('id1'))).toBeUndefined();
  });
});
