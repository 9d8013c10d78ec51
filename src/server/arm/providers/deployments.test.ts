import { describe, expect, it } from 'vitest';
import { parseTarget } from '../../../wire/arm/target.js';
import { resolveOperation } from '../provider.js';
import { deploymentOperations, deploymentStatuses } from './deployment-operations.js';
import { deployments } from './deployments.js';
import { ARM_REGISTRY } from './index.js';

const SUB = '/subscriptions/00000000-0000-0000-0000-000000000001';
const GROUP = `${SUB}/resourcegroups/rg`;
const DEPLOYMENTS = 'Microsoft.Resources/deployments';

describe('the deployments declarations', () => {
  it('sit at a group and a subscription, found from an id in any case, with or without the provider segments', () => {
    const item = parseTarget(`${GROUP}/providers/microsoft.resources/DEPLOYMENTS/d1`)!;
    expect(ARM_REGISTRY.get(item.type)).toBe(deployments);
    expect(item).toMatchObject({ names: ['d1'], collection: false, scopeKind: 'resourceGroup' });
    const atSub = parseTarget(`${SUB}/providers/Microsoft.Resources/deployments/d1`)!;
    expect(atSub).toMatchObject({ scopeKind: 'subscription', names: ['d1'] });
    // Python's list with its trailing slash.
    expect(parseTarget(`${GROUP}/providers/Microsoft.Resources/deployments/`)).toMatchObject({
      collection: true,
      type: 'Microsoft.Resources/deployments',
    });
    // Operations as the deployment-history docs and the SDKs address them.
    const bare = parseTarget(`${GROUP}/deployments/d1/operations`)!;
    expect(ARM_REGISTRY.get(bare.type)).toBe(deploymentOperations);
    expect(bare).toMatchObject({
      collection: true,
      names: ['d1'],
      id: `${GROUP}/providers/Microsoft.Resources/deployments/d1/operations`,
    });
    const status = parseTarget(
      `${GROUP}/providers/Microsoft.Resources/deployments/d1/operationStatuses/0858`,
    )!;
    expect(ARM_REGISTRY.get(status.type)).toBe(deploymentStatuses);
  });

  it('names their actions as Azure does, validate, whatIf, cancel and exportTemplate as POST actions', () => {
    const action = (method: string, name?: string): string | undefined =>
      resolveOperation(deployments, method, false, name)?.action;
    expect(action('GET')).toBe(`${DEPLOYMENTS}/read`);
    expect(action('PUT')).toBe(`${DEPLOYMENTS}/write`);
    expect(action('DELETE')).toBe(`${DEPLOYMENTS}/delete`);
    expect(action('PATCH')).toBeUndefined();
    expect(action('POST', 'validate')).toBe(`${DEPLOYMENTS}/validate/action`);
    expect(action('POST', 'whatIf')).toBe(`${DEPLOYMENTS}/whatIf/action`);
    expect(action('POST', 'cancel')).toBe(`${DEPLOYMENTS}/cancel/action`);
    expect(action('POST', 'exportTemplate')).toBe(`${DEPLOYMENTS}/exportTemplate/action`);
    const list = resolveOperation(deploymentOperations, 'GET', true);
    expect([list?.action, list?.authorizeAt]).toEqual([
      `${DEPLOYMENTS}/operations/read`,
      'container',
    ]);
    expect(resolveOperation(deploymentStatuses, 'GET', false)?.action).toBe(
      `${DEPLOYMENTS}/operationStatuses/read`,
    );
  });

  it('accept what az (2021-04-01) and the JS clients (2025-03-01, 2025-04-01, 2026-06-01) send, and check names as ARM', () => {
    expect(deployments.apiVersions.versions).toEqual(
      expect.arrayContaining(['2021-04-01', '2025-03-01', '2025-04-01', '2026-06-01']),
    );
    expect(() => deployments.validateName?.('guide.v1_(2)-x')).not.toThrow();
    expect(() => deployments.validateName?.('has space')).toThrow();
    expect(() => deployments.validateName?.('x'.repeat(65))).toThrow();
  });
});
