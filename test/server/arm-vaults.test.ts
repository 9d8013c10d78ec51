// The ARM surface end to end: key vaults (Microsoft.KeyVault/vaults), RBAC-only, with their URIs.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_ROLE_IDS } from '../../src/core/rbac/index.js';
import { type ArmHarness, errorCode, startArm } from './arm-harness.js';
import { assignRole } from './arm-store-fixtures.js';

const V = 'api-version=2023-07-01';
const GROUP_V = 'api-version=2021-04-01';
const VAULTS = 'Microsoft.KeyVault/vaults';

describe('ARM surface: key vaults', () => {
  let h: ArmHarness;
  let admin: string;
  let sub: string;
  const arm: ArmHarness['arm'] = (method, path, options) => h.arm(method, path, options);
  const groupPath = (group: string): string => `/subscriptions/${sub}/resourceGroups/${group}`;
  const vaultPath = (group: string, name: string): string =>
    `${groupPath(group)}/providers/${VAULTS}/${name}`;
  const vaultCount = async (): Promise<number> =>
    (await h.store.resources.list({ subscriptionId: sub, type: VAULTS }, { limit: 1000 })).items
      .length;

  async function createGroup(group: string): Promise<void> {
    const result = await arm('PUT', `${groupPath(group)}?${GROUP_V}`, {
      token: admin,
      body: { location: 'westeurope' },
    });
    expect(result.status).toBe(201);
  }

  async function createVault(group: string, name: string): Promise<void> {
    const result = await arm('PUT', `${vaultPath(group, name)}?${V}`, {
      token: admin,
      body: { location: 'westeurope' },
    });
    expect(result.status).toBe(201);
  }

  beforeAll(async () => {
    h = await startArm();
    ({ admin, sub } = h);
    await createGroup('Kv-RG');
  });
  afterAll(async () => {
    await h.close();
  });

  it('creates a vault, then reads, replaces, patches and deletes it', async () => {
    const path = vaultPath('Kv-RG', 'app-vault-1');
    const created = await arm('PUT', `${path}?${V}`, {
      token: admin,
      body: {
        location: 'West Europe',
        tags: { env: 'test' },
        properties: { sku: { family: 'A', name: 'premium' }, enableRbacAuthorization: true },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: path,
      name: 'app-vault-1',
      type: VAULTS,
      location: 'westeurope',
      tags: { env: 'test' },
      properties: {
        sku: { family: 'A', name: 'premium' },
        tenantId: h.server.tenant.id,
        accessPolicies: [],
        enableRbacAuthorization: true,
        vaultUri: `http://app-vault-1.vault.localhost:${new URL(h.server.url).port}/`,
        provisioningState: 'Succeeded',
      },
    });

    const read = await arm('GET', `${path.toLowerCase()}?${V}`, { token: admin });
    expect([read.status, read.body]).toEqual([200, created.body]);

    const tenantId = randomUUID();
    const replaced = await arm('PUT', `${path}?${V}`, {
      token: admin,
      body: { location: 'westeurope', properties: { tenantId } },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body?.tags).toEqual({});
    expect(replaced.body?.properties).toMatchObject({
      tenantId,
      sku: { family: 'A', name: 'premium' },
      enableRbacAuthorization: true,
    });

    const patched = await arm('PATCH', `${path}?${V}`, {
      token: admin,
      body: { tags: { team: 'kv' } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body?.tags).toEqual({ team: 'kv' });
    expect(patched.body?.properties).toMatchObject({
      tenantId,
      vaultUri: `http://app-vault-1.vault.localhost:${new URL(h.server.url).port}/`,
    });

    expect((await arm('DELETE', `${path}?${V}`, { token: admin })).status).toBe(200);
    expect((await arm('DELETE', `${path}?${V}`, { token: admin })).status).toBe(204);
    const gone = await arm('GET', `${path}?${V}`, { token: admin });
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual({
      error: {
        code: 'ResourceNotFound',
        message: `The Resource '${VAULTS}/app-vault-1' under resource group 'Kv-RG' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
      },
    });
    const patchGone = await arm('PATCH', `${path}?${V}`, { token: admin, body: { tags: {} } });
    expect([patchGone.status, errorCode(patchGone.body)]).toEqual([404, 'ResourceNotFound']);
  });

  it('keeps vault names unique across groups, whatever their case', async () => {
    await createVault('Kv-RG', 'unique-name-1');
    await createGroup('Kv-Other');
    const taken = await arm('PUT', `${vaultPath('Kv-Other', 'UNIQUE-name-1')}?${V}`, {
      token: admin,
      body: { location: 'westeurope' },
    });
    expect(taken.status).toBe(409);
    expect(taken.body).toMatchObject({
      error: {
        code: 'VaultAlreadyExists',
        message:
          "The vault name 'UNIQUE-name-1' is already in use. Vault names are globally unique so it is possible that the name is already taken.",
      },
    });
    // Replacing the vault itself is no conflict.
    const again = await arm('PUT', `${vaultPath('Kv-RG', 'unique-name-1')}?${V}`, {
      token: admin,
      body: { location: 'westeurope' },
    });
    expect(again.status).toBe(200);
  });

  it('lists by group and by subscription, paged', async () => {
    await createGroup('Kv-List');
    for (const name of ['kva', 'kvb', 'kvc']) await createVault('Kv-List', name);
    const byGroup = `${groupPath('Kv-List')}/providers/${VAULTS}`;
    const first = await arm('GET', `${byGroup}?${V}&$top=2`, { token: admin });
    expect(first.status).toBe(200);
    expect((first.body?.value as { name: string }[]).map((v) => v.name)).toEqual(['kva', 'kvb']);
    const next = first.body?.nextLink as string;
    expect(next).toContain('$skipToken=');
    const second = await arm('GET', next.slice(h.server.url.length), { token: admin });
    expect((second.body?.value as { name: string }[]).map((v) => v.name)).toEqual(['kvc']);
    expect(second.body?.nextLink).toBeUndefined();

    const all = await arm('GET', `/subscriptions/${sub}/providers/${VAULTS}?${V}`, {
      token: admin,
    });
    const names = (all.body?.value as { name: string }[]).map((v) => v.name);
    expect(names).toEqual(expect.arrayContaining(['kva', 'kvb', 'kvc']));

    const noGroup = await arm('GET', `${groupPath('no-such-rg')}/providers/${VAULTS}?${V}`, {
      token: admin,
    });
    expect([noGroup.status, errorCode(noGroup.body)]).toEqual([404, 'ResourceGroupNotFound']);
  });

  it('refuses bad requests with ARM codes and changes nothing', async () => {
    const before = await vaultCount();
    const put = (path: string, body: unknown): ReturnType<ArmHarness['arm']> =>
      arm('PUT', path, { token: admin, body });
    const cases: [string, Promise<Awaited<ReturnType<ArmHarness['arm']>>>, number, string][] = [
      [
        'digit first',
        put(`${vaultPath('Kv-RG', '1vault')}?${V}`, { location: 'x' }),
        400,
        'VaultNameNotValid',
      ],
      [
        'too short',
        put(`${vaultPath('Kv-RG', 'kv')}?${V}`, { location: 'x' }),
        400,
        'VaultNameNotValid',
      ],
      [
        'too long',
        put(`${vaultPath('Kv-RG', 'k'.repeat(25))}?${V}`, { location: 'x' }),
        400,
        'VaultNameNotValid',
      ],
      [
        'double hyphen',
        put(`${vaultPath('Kv-RG', 'kv--one')}?${V}`, { location: 'x' }),
        400,
        'VaultNameNotValid',
      ],
      [
        'hyphen last',
        put(`${vaultPath('Kv-RG', 'kv-one-')}?${V}`, { location: 'x' }),
        400,
        'VaultNameNotValid',
      ],
      ['no location', put(`${vaultPath('Kv-RG', 'kv-new')}?${V}`, {}), 400, 'LocationRequired'],
      [
        'rbac off',
        put(`${vaultPath('Kv-RG', 'kv-new')}?${V}`, {
          location: 'westeurope',
          properties: { enableRbacAuthorization: false },
        }),
        400,
        'InvalidParameter',
      ],
      [
        'bad sku',
        put(`${vaultPath('Kv-RG', 'kv-new')}?${V}`, {
          location: 'westeurope',
          properties: { sku: { family: 'A', name: 'gold' } },
        }),
        400,
        'InvalidParameter',
      ],
      [
        'unknown group',
        put(`${vaultPath('No-RG', 'kv-new')}?${V}`, { location: 'x' }),
        404,
        'ResourceGroupNotFound',
      ],
      [
        'no api-version',
        put(vaultPath('Kv-RG', 'kv-new'), { location: 'x' }),
        400,
        'MissingApiVersionParameter',
      ],
    ];
    for (const [label, pending, status, code] of cases) {
      const result = await pending;
      expect([label, result.status, errorCode(result.body)]).toEqual([label, status, code]);
    }
    const bad = await put(`${vaultPath('Kv-RG', '1vault')}?${V}`, { location: 'x' });
    expect((bad.body?.error as { message: string }).message).toBe(
      "The vault name '1vault' is invalid. A vault's name must be between 3-24 alphanumeric characters. The name must begin with a letter, end with a letter or digit, and not contain consecutive hyphens. Follow this link for more information: https://go.microsoft.com/fwlink/?linkid=2147742",
    );
    const rbacOff = await put(`${vaultPath('Kv-RG', 'kv-new')}?${V}`, {
      location: 'westeurope',
      properties: { enableRbacAuthorization: false },
    });
    expect((rbacOff.body?.error as { target?: string }).target).toBe(
      'properties.enableRbacAuthorization',
    );
    expect(await vaultCount()).toBe(before);

    await createVault('Kv-RG', 'kv-keep');
    const path = vaultPath('Kv-RG', 'kv-keep');
    const patch = await arm('PATCH', `${path}?${V}`, {
      token: admin,
      body: { tags: { a: 'b' }, properties: { enableRbacAuthorization: false } },
    });
    expect([patch.status, errorCode(patch.body)]).toEqual([400, 'InvalidParameter']);
    expect((await arm('GET', `${path}?${V}`, { token: admin })).body?.tags).toEqual({});
  });

  it('authorizes reads and writes with Microsoft.KeyVault/vaults actions', async () => {
    await createVault('Kv-RG', 'kv-private');
    const path = vaultPath('Kv-RG', 'kv-private');
    const { principal, token } = await h.newClient('kv-reader');
    const denied = await arm('GET', `${path}?${V}`, { token });
    expect([denied.status, errorCode(denied.body)]).toEqual([403, 'AuthorizationFailed']);
    expect((denied.body?.error as { message: string }).message).toContain(
      `action '${VAULTS}/read' over scope '${path}'`,
    );
    const byGroup = `${groupPath('Kv-RG')}/providers/${VAULTS}?${V}`;
    expect((await arm('GET', byGroup, { token })).body?.value).toEqual([]);

    await assignRole(h, principal.objectId, BUILT_IN_ROLE_IDS.reader, path);
    expect((await arm('GET', `${path}?${V}`, { token })).status).toBe(200);
    const listed = (await arm('GET', byGroup, { token })).body?.value as { name: string }[];
    expect(listed.map((v) => v.name)).toEqual(['kv-private']);
    const write = await arm('PUT', `${path}?${V}`, { token, body: { location: 'westeurope' } });
    expect([write.status, errorCode(write.body)]).toEqual([403, 'AuthorizationFailed']);
    const remove = await arm('DELETE', `${path}?${V}`, { token });
    expect([remove.status, errorCode(remove.body)]).toEqual([403, 'AuthorizationFailed']);
  });
});
