// What-if through ARM: the changes a template would make to a group as it is, nothing written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ArmHarness, startArm } from './arm-harness.js';
import { storeSnapshot } from './arm-store-fixtures.js';
import { deploy, deploymentPath, identity, template } from './deployment-harness.js';

const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const UAI = 'Microsoft.ManagedIdentity/userAssignedIdentities';

describe('ARM surface: deployment what-if', () => {
  let h: ArmHarness;
  let group: string;
  const second = template([
    identity('app', { tags: { env: 'prod' } }),
    identity('bee'),
    {
      type: 'Microsoft.Authorization/roleAssignments',
      apiVersion: '2022-04-01',
      name: "[guid(resourceGroup().id, 'bee')]",
      properties: {
        roleDefinitionId: `[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '${READER}')]`,
        principalId: `[reference(resourceId('${UAI}', 'bee')).principalId]`,
      },
    },
  ]);
  const whatIf = async (properties: Record<string, unknown>) => {
    const answer = await h.arm('POST', deploymentPath(group, 'second', '/whatIf'), {
      token: h.admin,
      body: { properties: { mode: 'Incremental', template: second, ...properties } },
    });
    expect(answer.status).toBe(200);
    return answer.body as { status: string; properties: { changes: Record<string, unknown>[] } };
  };

  beforeAll(async () => {
    h = await startArm();
    group = `/subscriptions/${h.sub}/resourceGroups/what-if-rg`;
    await h.arm('PUT', `${group}?api-version=2021-04-01`, {
      token: h.admin,
      body: { location: 'westeurope' },
    });
    const { status } = await deploy(h, group, 'first', {
      template: template([identity('app', { tags: { env: 'dev' } }), identity('other')]),
    });
    expect(status).toEqual({ status: 'Succeeded' });
  });
  afterAll(async () => {
    await h.close();
  });

  it('shows a modify, two creates and an ignore, with the reference it cannot know yet as written', async () => {
    const before = await storeSnapshot(h);
    const result = await whatIf({ whatIfSettings: { resultFormat: 'FullResourcePayloads' } });
    expect(await storeSnapshot(h)).toEqual(before);
    expect(result.status).toBe('Succeeded');
    const byName = new Map(
      result.properties.changes.map((c) => [String(c.resourceId).split('/').at(-1), c]),
    );
    expect(byName.get('app')).toMatchObject({
      changeType: 'Modify',
      delta: [{ path: 'tags.env', propertyChangeType: 'Modify', before: 'dev', after: 'prod' }],
    });
    expect(byName.get('bee')).toMatchObject({
      changeType: 'Create',
      after: { name: 'bee', type: UAI, apiVersion: '2023-01-31', location: 'westeurope' },
    });
    expect(byName.get('other')).toMatchObject({ changeType: 'Ignore' });
    const grant = result.properties.changes.find((c) =>
      String(c.resourceId).includes('roleAssignments'),
    );
    expect(grant).toMatchObject({
      changeType: 'Create',
      after: {
        properties: { principalId: `[reference(resourceId('${UAI}', 'bee')).principalId]` },
      },
    });
    expect(result.properties.changes).toHaveLength(4);
  });

  it('answers ids only, and deletes in Complete mode', async () => {
    const ids = await whatIf({ whatIfSettings: { resultFormat: 'ResourceIdOnly' } });
    const named = ids.properties.changes.map((c) => {
      const id = String(c.resourceId);
      return [id.includes('roleAssignments') ? 'grant' : id.split('/').at(-1), c.changeType];
    });
    expect(named.sort()).toEqual([
      ['app', 'Deploy'],
      ['bee', 'Deploy'],
      ['grant', 'Deploy'],
      ['other', 'Ignore'],
    ]);
    expect(Object.keys(ids.properties.changes[0] ?? {}).sort()).toEqual([
      'changeType',
      'resourceId',
    ]);
    const complete = await whatIf({ mode: 'Complete' });
    const other = complete.properties.changes.find((c) => String(c.resourceId).endsWith('/other'));
    expect(other?.changeType).toBe('Delete');
  });
});
