import { describe, expect, it } from 'vitest';
import { GROUP_SCOPE } from '../../../test/fixtures/expression-context.js';
import { planDeployment } from '../templates/plan.js';
import { readTemplate } from '../templates/template.js';
import { executeDeployment, operationIdFor, type ExecutionOptions } from './executor.js';
import type { DispatchResult, ResourceDispatcher } from './references.js';

const UAI = 'Microsoft.ManagedIdentity/userAssignedIdentities';
const uai = (name: string, extra: Record<string, unknown> = {}) => ({
  type: UAI,
  apiVersion: '2023-01-31',
  name,
  location: 'westus',
  ...extra,
});
const plan = (resources: unknown[], outputs: Record<string, unknown> = {}) =>
  planDeployment(
    readTemplate({
      $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
      contentVersion: '1.0.0.0',
      resources,
      outputs,
    } as never),
    { scope: GROUP_SCOPE, newGuid: () => 'g', now: () => 0 },
  );

/** A dispatcher that writes into a map, failing the ids in `failing`, and counts what runs at once. */
function fakeProvider(failing: readonly string[] = []) {
  const stored = new Map<string, unknown>();
  const calls: string[] = [];
  let running = 0;
  let most = 0;
  const answer = async (id: string, body: unknown): Promise<DispatchResult> => {
    running++;
    most = Math.max(most, running);
    await new Promise((resolve) => setTimeout(resolve, 1));
    running--;
    if (failing.some((f) => id.endsWith(`/${f}`))) {
      return { status: 409, error: { code: 'Conflict', message: `no ${id}` } };
    }
    const resource = {
      ...(body as object),
      properties: { principalId: `p-${id.split('/').at(-1) ?? ''}` },
    };
    stored.set(id.toLowerCase(), resource);
    return { status: 201, body: resource, requestId: `r-${calls.length}` };
  };
  const dispatcher: ResourceDispatcher = {
    put: (id, _v, body) => {
      calls.push(`PUT ${id.split('/').at(-1) ?? ''}`);
      return answer(id, body);
    },
    get: (id) => {
      calls.push(`GET ${id.split('/').at(-1) ?? ''}`);
      const found = stored.get(id.toLowerCase());
      return Promise.resolve(
        found === undefined
          ? { status: 404, error: { code: 'ResourceNotFound', message: 'gone' } }
          : { status: 200, body: found },
      );
    },
    delete: (id) => {
      calls.push(`DELETE ${id.split('/').at(-1) ?? ''}`);
      return Promise.resolve({ status: 200 });
    },
  };
  return { dispatcher, calls, most: () => most };
}

const options = (
  p: ReturnType<typeof plan>,
  dispatcher: ResourceDispatcher,
  over: Partial<ExecutionOptions> = {},
): ExecutionOptions => ({
  plan: p,
  dispatcher,
  clock: { now: () => 0 },
  signal: new AbortController().signal,
  wait: () => Promise.resolve(),
  progress: () => Promise.resolve(true),
  describe: (error) => ({ code: 'InvalidTemplate', message: String(error) }),
  ...over,
});

describe('executeDeployment', () => {
  it('writes waves in order, each wave at most `concurrency` at once, references answered from the writes', async () => {
    const { dispatcher, calls, most } = fakeProvider();
    const p = plan(
      [
        uai("[concat('id', copyIndex())]", { copy: { name: 'ids', count: 6 } }),
        uai('last', { tags: { first: "[reference('id0').principalId]" } }),
      ],
      { seen: { type: 'string', value: "[reference('last').principalId]" } },
    );
    const result = await executeDeployment(options(p, dispatcher, { concurrency: 2 }));
    expect(result.state).toBe('Succeeded');
    expect(result.outputs).toEqual({ seen: { type: 'String', value: 'p-last' } });
    expect(most()).toBe(2);
    expect(calls.at(-1)).toBe('PUT last');
    expect(calls.filter((c) => c.startsWith('GET'))).toEqual([]);
    expect(
      result.operations.map((op) => [op.resourceName, op.state, op.statusCode]),
    ).toContainEqual(['last', 'Succeeded', 201]);
    expect(result.operations[0]?.operationId).toBe(operationIdFor(p.resources[0]?.id ?? ''));
  });

  it('fails what failed, skips what depends on it, goes on with the rest, and evaluates no outputs', async () => {
    const { dispatcher, calls } = fakeProvider(['bad']);
    const p = plan([uai('bad'), uai('after', { dependsOn: ['bad'] }), uai('independent')], {
      never: { type: 'string', value: "[reference('after').principalId]" },
    });
    const result = await executeDeployment(options(p, dispatcher));
    expect(result.state).toBe('Failed');
    expect(result.outputs).toBeUndefined();
    expect(calls.sort()).toEqual(['PUT bad', 'PUT independent']);
    expect(result.operations.map((op) => [op.resourceName, op.state, op.error?.code])).toEqual([
      ['bad', 'Failed', 'Conflict'],
      ['independent', 'Succeeded', undefined],
    ]);
    expect(result.outputResources.map((id) => id.split('/').at(-1))).toEqual(['independent']);
  });

  it('stops before the next wave when cancelled, and deletes what a Complete deployment leaves out', async () => {
    const controller = new AbortController();
    const first = fakeProvider();
    const cancelled = await executeDeployment(
      options(plan([uai('a'), uai('b', { dependsOn: ['a'] })]), first.dispatcher, {
        signal: controller.signal,
        progress: () => {
          controller.abort();
          return Promise.resolve(true);
        },
      }),
    );
    expect([cancelled.state, first.calls]).toEqual(['Canceled', ['PUT a']]);

    const second = fakeProvider();
    const complete = await executeDeployment(
      options(plan([uai('a')]), second.dispatcher, {
        cleanup: [{ id: '/x/old', type: UAI, name: 'old', apiVersion: '2023-01-31' }],
      }),
    );
    expect(second.calls).toEqual(['PUT a', 'DELETE old']);
    expect(complete.operations.map((op) => [op.resourceName, op.kind])).toEqual([
      ['a', 'Create'],
      ['old', 'Delete'],
    ]);
  });
});
