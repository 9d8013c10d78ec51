// Nested deployments (Microsoft.Resources/deployments inside a template): inner and outer scope, outputs read by the parent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ArmHarness, startArm } from './arm-harness.js';
import { DEPLOY_V, deploy, identity, SCHEMA, template } from './deployment-harness.js';

const nested = (name: string, properties: Record<string, unknown>) => ({
  type: 'Microsoft.Resources/deployments',
  apiVersion: '2021-04-01',
  name,
  properties: { mode: 'Incremental', ...properties },
});

describe('ARM surface: nested deployments', () => {
  let h: ArmHarness;
  let group: string;

  beforeAll(async () => {
    h = await startArm();
    group = `/subscriptions/${h.sub}/resourceGroups/nested-rg`;
    await h.arm('PUT', `${group}?${DEPLOY_V}`, {
      token: h.admin,
      body: { location: 'westeurope' },
    });
  });
  afterAll(async () => {
    await h.close();
  });

  it('runs an inner-scope template with its own parameters, and the parent reads its outputs', async () => {
    const { status, deployment } = await deploy(h, group, 'parent', {
      template: {
        ...template(
          [
            nested('child', {
              expressionEvaluationOptions: { scope: 'inner' },
              parameters: { name: { value: "[concat(variables('prefix'), '-inner')]" } },
              template: {
                $schema: SCHEMA,
                contentVersion: '1.0.0.0',
                parameters: { name: { type: 'string' } },
                resources: [identity("[parameters('name')]")],
                outputs: {
                  principalId: {
                    type: 'string',
                    value: "[reference(parameters('name')).principalId]",
                  },
                },
              },
            }),
            // Outer scope (the default): the nested template's expressions are the parent's.
            nested('outer', {
              template: {
                $schema: SCHEMA,
                contentVersion: '1.0.0.0',
                resources: [identity("[concat(variables('prefix'), '-outer')]")],
              },
            }),
          ],
          {
            outputs: {
              fromChild: {
                type: 'string',
                value: "[reference('child').outputs.principalId.value]",
              },
            },
          },
        ),
        variables: { prefix: 'made' },
      },
    });
    expect(status).toEqual({ status: 'Succeeded' });
    const inner = await h.arm(
      'GET',
      `${group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/made-inner?api-version=2023-01-31`,
      { token: h.admin },
    );
    expect(inner.status).toBe(200);
    expect((deployment.body?.properties as { outputs: unknown }).outputs).toEqual({
      fromChild: {
        type: 'String',
        value: (inner.body?.properties as { principalId: string }).principalId,
      },
    });
    const outer = await h.arm(
      'GET',
      `${group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/made-outer?api-version=2023-01-31`,
      { token: h.admin },
    );
    expect(outer.status).toBe(200);
    const listed = await h.arm(
      'GET',
      `${group}/providers/Microsoft.Resources/deployments?${DEPLOY_V}`,
      {
        token: h.admin,
      },
    );
    expect((listed.body?.value as { name: string }[]).map((d) => d.name).sort()).toEqual([
      'child',
      'outer',
      'parent',
    ]);
  });

  it('fails the parent when a nested deployment fails, naming the nested failure', async () => {
    const { status } = await deploy(h, group, 'failing-parent', {
      template: template([
        nested('failing-child', {
          template: {
            $schema: SCHEMA,
            contentVersion: '1.0.0.0',
            resources: [
              {
                type: 'Microsoft.Storage/storageAccounts',
                apiVersion: '2023-01-01',
                name: 'x',
                location: 'westeurope',
              },
            ],
          },
        }),
      ]),
    });
    const error = status.error as {
      code: string;
      details: { code: string; details?: { code: string }[] }[];
    };
    expect(error.code).toBe('DeploymentFailed');
    expect(error.details[0]?.code).toBe('ResourceDeploymentFailure');
    expect(error.details[0]?.details?.[0]?.code).toBe('DeploymentFailed');
  });
});
