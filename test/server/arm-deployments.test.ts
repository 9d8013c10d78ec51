// Template deployments through ARM: PUT, poll, read, operations, failures, cancel, RBAC, Complete mode and subscription scope.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ArmHarness, type ArmResult, errorCode, startArm } from './arm-harness.js';
import {
  DEPLOY_V,
  deploy,
  deploymentPath,
  identity,
  settle,
  template,
} from './deployment-harness.js';

const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const UAI_V = 'api-version=2023-01-31';

/** `count` identities, each granted Reader on the group through `reference()` of its principal. */
const identitiesAndGrants = (count: number) =>
  template(
    [
      identity("[concat(parameters('prefix'), copyIndex())]", { copy: { name: 'ids', count } }),
      {
        type: 'Microsoft.Authorization/roleAssignments',
        apiVersion: '2022-04-01',
        name: "[guid(resourceGroup().id, parameters('prefix'), string(copyIndex()))]",
        copy: { name: 'grants', count },
        properties: {
          roleDefinitionId: `[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '${READER}')]`,
          principalId:
            "[reference(resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', concat(parameters('prefix'), copyIndex()))).principalId]",
          principalType: 'ServicePrincipal',
        },
      },
    ],
    {
      parameters: { prefix: { type: 'string', defaultValue: 'id' } },
      outputs: {
        first: {
          type: 'string',
          value:
            "[reference(resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', concat(parameters('prefix'), '0'))).principalId]",
        },
      },
    },
  );

describe('ARM surface: template deployments', () => {
  let h: ArmHarness;
  let sub: string;
  let group: string;
  const arm = (method: string, path: string, body?: unknown): Promise<ArmResult> =>
    h.arm(method, path, { token: h.admin, ...(body === undefined ? {} : { body }) });
  const newGroup = async (name: string): Promise<string> => {
    const id = `${sub}/resourceGroups/${name}`;
    expect((await arm('PUT', `${id}?${DEPLOY_V}`, { location: 'westeurope' })).status).toBe(201);
    return id;
  };
  const uai = (scope: string, name: string) =>
    arm(
      'GET',
      `${scope}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}?${UAI_V}`,
    );

  beforeAll(async () => {
    h = await startArm();
    sub = `/subscriptions/${h.sub}`;
    group = await newGroup('deploy-rg');
  });
  afterAll(async () => {
    await h.close();
  });

  it('deploys identities and grants to their principals, answering as az polls it', async () => {
    const started = await arm('PUT', deploymentPath(group, 'ids'), {
      properties: { mode: 'Incremental', template: identitiesAndGrants(3), parameters: {} },
    });
    expect(started.status).toBe(201);
    expect(started.headers.get('retry-after')).toBe('1');
    expect(started.headers.get('azure-asyncoperation')).toMatch(
      new RegExp(`/deployments/ids/operationStatuses/\\d{20}\\?api-version=2021-04-01$`),
    );
    expect(started.body).toMatchObject({
      id: `${group}/providers/Microsoft.Resources/deployments/ids`,
      name: 'ids',
      type: 'Microsoft.Resources/deployments',
      properties: { provisioningState: 'Accepted', mode: 'Incremental' },
    });
    expect(await settle(h, started)).toEqual({ status: 'Succeeded' });

    const done = await arm('GET', deploymentPath(group, 'ids'));
    const props = done.body?.properties as Record<string, unknown>;
    const first = await uai(group, 'id0');
    expect(props).toMatchObject({
      provisioningState: 'Succeeded',
      parameters: { prefix: { type: 'String', value: 'id' } },
      outputs: {
        first: {
          type: 'String',
          value: (first.body?.properties as { principalId: string }).principalId,
        },
      },
      correlationId: (started.body?.properties as { correlationId: string }).correlationId,
    });
    expect(props.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
    expect(props.duration).toMatch(/^PT(\d+M)?[\d.]+S$/);
    expect(props.outputResources).toHaveLength(6);
    expect(props.dependencies).toHaveLength(3);

    // Operations, also at the path without the provider segments (the deployment-history docs).
    const ops = await arm(
      'GET',
      `${sub}/resourcegroups/deploy-rg/deployments/ids/operations?${DEPLOY_V}`,
    );
    const value = ops.body?.value as { operationId: string; properties: Record<string, unknown> }[];
    expect(value).toHaveLength(6);
    expect(value[0]?.operationId).toMatch(/^[0-9A-F]{16}$/);
    expect(value[0]?.properties).toMatchObject({
      provisioningOperation: 'Create',
      provisioningState: 'Succeeded',
      statusCode: 'Created',
      targetResource: { resourceType: 'Microsoft.ManagedIdentity/userAssignedIdentities' },
    });
    const one = await arm(
      'GET',
      deploymentPath(group, 'ids', `/operations/${value[0]?.operationId}`),
    );
    expect(one.body).toEqual(value[0]);

    // Every resource write is in the Activity Log under the deployment's correlation id.
    const correlationId = props.correlationId as string;
    const since = new Date(Date.now() - 3_600_000).toISOString();
    const filter = `eventTimestamp ge '${since}' and correlationId eq '${correlationId}'`;
    const events = await arm(
      'GET',
      `${sub}/providers/Microsoft.Insights/eventtypes/management/values?api-version=2015-04-01&$filter=${encodeURIComponent(filter)}`,
    );
    const writes = (events.body?.value as { operationName: { value: string } }[]).map(
      (e) => e.operationName.value,
    );
    expect(
      writes.filter((w) => w === 'Microsoft.ManagedIdentity/userAssignedIdentities/write'),
    ).toHaveLength(6);
    expect(
      writes.filter((w) => w === 'Microsoft.Authorization/roleAssignments/write'),
    ).toHaveLength(6);
    expect(writes).toContain('Microsoft.Resources/deployments/write');
  });

  it('reads, lists (with the one filter ARM takes), checks existence and deletes the history entry', async () => {
    expect((await arm('HEAD', deploymentPath(group, 'ids'))).status).toBe(204);
    const missing = await arm('GET', deploymentPath(group, 'nope'));
    expect([missing.status, missing.body]).toEqual([
      404,
      { error: { code: 'DeploymentNotFound', message: "Deployment 'nope' could not be found." } },
    ]);
    expect((await arm('HEAD', deploymentPath(group, 'nope'))).status).toBe(404);
    // Python SDKs list with a trailing slash.
    const listed = await arm(
      'GET',
      `${group}/providers/Microsoft.Resources/deployments/?${DEPLOY_V}`,
    );
    expect((listed.body?.value as { name: string }[]).map((d) => d.name)).toContain('ids');
    const failedOnly = await arm(
      'GET',
      `${group}/providers/Microsoft.Resources/deployments?${DEPLOY_V}&$filter=${encodeURIComponent("provisioningState eq 'Failed'")}`,
    );
    expect(
      (failedOnly.body?.value as unknown[]).map((d) => (d as { name: string }).name),
    ).not.toContain('ids');
    const exported = await arm('POST', deploymentPath(group, 'ids', '/exportTemplate'));
    expect(exported.body).toEqual({ template: identitiesAndGrants(3) });

    await deploy(h, group, 'short-lived', { template: template([identity('kept')]) });
    expect((await arm('DELETE', deploymentPath(group, 'short-lived'))).status).toBe(204);
    expect((await arm('GET', deploymentPath(group, 'short-lived'))).status).toBe(404);
    // Deleting the history leaves what it deployed.
    expect((await uai(group, 'kept')).status).toBe(200);
  });

  it('fails a resource of a type Tessera does not serve with ARM’s error, keeps what succeeded, and skips its dependents', async () => {
    const { status, deployment } = await deploy(h, group, 'partial', {
      template: template([
        identity('survivor'),
        {
          type: 'Microsoft.Storage/storageAccounts',
          apiVersion: '2023-01-01',
          name: 'store1',
          location: 'westeurope',
          kind: 'StorageV2',
          sku: { name: 'Standard_LRS' },
        },
        identity('dependent', {
          dependsOn: ["[resourceId('Microsoft.Storage/storageAccounts', 'store1')]"],
        }),
      ]),
    });
    const deploymentId = `${group}/providers/Microsoft.Resources/deployments/partial`;
    const failure = {
      code: 'DeploymentFailed',
      target: deploymentId,
      message:
        'At least one resource deployment operation failed. Please list deployment operations for details. Please see https://aka.ms/arm-deployment-operations for usage details.',
      details: [
        {
          code: 'InvalidResourceNamespace',
          message: "The resource namespace 'Microsoft.Storage' is invalid.",
        },
      ],
    };
    expect(status).toEqual({ status: 'Failed', error: failure });
    expect(deployment.body?.properties).toMatchObject({
      provisioningState: 'Failed',
      error: failure,
    });
    expect((await uai(group, 'survivor')).status).toBe(200);
    expect((await uai(group, 'dependent')).status).toBe(404);
    const ops = await arm('GET', deploymentPath(group, 'partial', '/operations'));
    const states = (
      ops.body?.value as {
        properties: { provisioningState: string; targetResource: { resourceName: string } };
      }[]
    ).map((op) => [op.properties.targetResource.resourceName, op.properties.provisioningState]);
    expect(states.sort()).toEqual([
      ['store1', 'Failed'],
      ['survivor', 'Succeeded'],
    ]);
  });

  it('writes each resource with the caller’s own rights: deployments/write alone deploys nothing', async () => {
    const role = randomUUID();
    const defined = await arm(
      'PUT',
      `${sub}/providers/Microsoft.Authorization/roleDefinitions/${role}?api-version=2022-04-01`,
      {
        properties: {
          roleName: 'Deployer only',
          permissions: [{ actions: ['Microsoft.Resources/deployments/*'] }],
          assignableScopes: [sub],
        },
      },
    );
    expect(defined.status).toBe(201);
    const { principal, token } = await h.newClient('deployer');
    const granted = await arm(
      'PUT',
      `${group}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=2022-04-01`,
      {
        properties: {
          roleDefinitionId: `${sub}/providers/Microsoft.Authorization/roleDefinitions/${role}`,
          principalId: principal.objectId,
        },
      },
    );
    expect(granted.status).toBe(201);
    const { status } = await deploy(
      h,
      group,
      'unauthorized',
      { template: template([identity('forbidden')]) },
      { token },
    );
    const detail = (status.error as { details: { code: string; message: string }[] }).details[0];
    expect(detail?.code).toBe('AuthorizationFailed');
    expect(detail?.message).toContain("'Microsoft.ManagedIdentity/userAssignedIdentities/write'");
    expect((await uai(group, 'forbidden')).status).toBe(404);

    const reader = await h.newClient('reader-only');
    const refused = await h.arm('PUT', deploymentPath(group, 'as-nobody'), {
      token: reader.token,
      body: { properties: { mode: 'Incremental', template: template([]) } },
    });
    expect([refused.status, errorCode(refused.body)]).toEqual([403, 'AuthorizationFailed']);
    // Nor may it read anything of another's deployment: the record, its operations, its status.
    for (const [method, suffix] of [
      ['GET', ''],
      ['GET', '/operations'],
      ['GET', '/operations/0123456789ABCDEF'],
      ['GET', '/operationStatuses/08586061430124438587'],
      ['POST', '/exportTemplate'],
      ['POST', '/cancel'],
    ] as const) {
      const answer = await h.arm(method, deploymentPath(group, 'ids', suffix), {
        token: reader.token,
      });
      expect([suffix, answer.status, errorCode(answer.body)]).toEqual([
        suffix,
        403,
        'AuthorizationFailed',
      ]);
    }
    const listed = await h.arm(
      'GET',
      `${group}/providers/Microsoft.Resources/deployments?${DEPLOY_V}`,
      {
        token: reader.token,
      },
    );
    expect(listed.body?.value).toEqual([]);
  });

  it('in Complete mode deletes what the group holds and the template leaves out', async () => {
    const complete = await newGroup('complete-rg');
    await deploy(h, complete, 'first', {
      template: template([identity('keep'), identity('drop')]),
    });
    const { status } = await deploy(h, complete, 'second', {
      mode: 'Complete',
      template: template([identity('keep'), identity('skipped', { condition: false })]),
    });
    expect(status).toEqual({ status: 'Succeeded' });
    expect((await uai(complete, 'keep')).status).toBe(200);
    expect((await uai(complete, 'drop')).status).toBe(404);
    const ops = await arm('GET', deploymentPath(complete, 'second', '/operations'));
    const kinds = (
      ops.body?.value as {
        properties: { provisioningOperation: string; targetResource: { resourceName: string } };
      }[]
    ).map((op) => [op.properties.targetResource.resourceName, op.properties.provisioningOperation]);
    expect(kinds.sort()).toEqual([
      ['drop', 'Delete'],
      ['keep', 'Create'],
    ]);
  });

  it('deploys at subscription scope: a resource group and a role assignment on the subscription', async () => {
    const name = `sub-deploy-${randomUUID().slice(0, 8)}`;
    const target = randomUUID();
    const principal = await h.newClient('sub-grantee');
    const { status, deployment } = await deploy(
      h,
      sub,
      name,
      {
        template: {
          ...template([
            {
              type: 'Microsoft.Resources/resourceGroups',
              apiVersion: '2021-04-01',
              name: 'made-by-sub',
              location: '[deployment().location]',
            },
            {
              type: 'Microsoft.Authorization/roleAssignments',
              apiVersion: '2022-04-01',
              name: target,
              properties: {
                roleDefinitionId: `[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '${READER}')]`,
                principalId: principal.principal.objectId,
              },
            },
          ]),
          $schema:
            'https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#',
        },
      },
      { location: 'westeurope' },
    );
    expect(status).toEqual({ status: 'Succeeded' });
    expect(deployment.body).toMatchObject({
      id: `${sub}/providers/Microsoft.Resources/deployments/${name}`,
      location: 'westeurope',
    });
    expect((await arm('GET', `${sub}/resourceGroups/made-by-sub?${DEPLOY_V}`)).status).toBe(200);
    const assignment = await arm(
      'GET',
      `${sub}/providers/Microsoft.Authorization/roleAssignments/${target}?api-version=2022-04-01`,
    );
    expect(assignment.status).toBe(200);
    // Not among the group's deployments, and a subscription deployment needs a location.
    const listed = await arm(
      'GET',
      `${group}/providers/Microsoft.Resources/deployments?${DEPLOY_V}`,
    );
    expect((listed.body?.value as { name: string }[]).map((d) => d.name)).not.toContain(name);
    const noLocation = await arm('PUT', deploymentPath(sub, 'nowhere'), {
      properties: { mode: 'Incremental', template: template([]) },
    });
    expect([noLocation.status, errorCode(noLocation.body)]).toEqual([400, 'LocationRequired']);
  });
});
