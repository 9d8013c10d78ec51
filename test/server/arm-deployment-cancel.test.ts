// A deployment held mid-run (its caller's RBAC check waits): a second PUT, a DELETE and cancel, as ARM answers them.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerifiedAccessToken } from '../../src/core/tokens/index.js';
import type { ArmResponse, ArmServices } from '../../src/server/arm/context.js';
import { runPipeline } from '../../src/server/arm/pipeline.js';
import { ARM_REGISTRY } from '../../src/server/arm/providers/index.js';
import { DIRECT_PIPELINE } from '../fixtures/arm-pipeline.js';
import { type ArmHarness, startArm } from './arm-harness.js';
import { identity, template } from './deployment-harness.js';

const IDENTITY_WRITE = 'Microsoft.ManagedIdentity/userAssignedIdentities/write';

describe('ARM surface: a running deployment', () => {
  let h: ArmHarness;
  let group: string;
  /** Resolves once the run asks to write its first identity; `release` lets it go on. */
  let reached: Promise<void>;
  let release: () => void;

  beforeAll(async () => {
    h = await startArm();
    group = `/subscriptions/${h.sub}/resourceGroups/held-rg`;
    const made = await h.arm('PUT', `${group}?api-version=2021-04-01`, {
      token: h.admin,
      body: { location: 'westeurope' },
    });
    expect(made.status).toBe(201);
  });
  afterAll(async () => {
    await h.close();
  });

  /** Calls the deployment `name` through the pipeline with `services`, errors as `{status, body: {code}}`. */
  const caller = (services: ArmServices, name: string) => {
    const principal = {
      objectId: randomUUID(),
      tenantId: h.server.tenant.id,
    } as VerifiedAccessToken;
    const path = `${group}/providers/Microsoft.Resources/deployments/${name}`;
    return (method: string, suffix = '', body?: unknown): Promise<ArmResponse> =>
      runPipeline(
        { services, registry: ARM_REGISTRY, ...DIRECT_PIPELINE },
        {
          caller: principal,
          method,
          path: `${path}${suffix}`,
          query: { 'api-version': '2021-04-01' },
          headers: {},
          body: body === undefined ? '' : JSON.stringify(body),
          url: `${h.server.url}${path}${suffix}`,
        },
      ).catch((error: unknown) => {
        const e = error as { status: number; wire: { arm?: string } };
        return { status: e.status, body: { code: e.wire.arm } };
      });
  };

  it('refuses a second PUT and a DELETE while it runs, cancels, and keeps what ran', async () => {
    let arrived: () => void = () => undefined;
    reached = new Promise((resolve) => (arrived = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));
    const services: ArmServices = {
      store: h.store,
      clock: { now: () => Date.now() },
      rbac: {
        check: async ({ action }) => {
          if (action === IDENTITY_WRITE) {
            arrived();
            await gate;
          }
          return { allowed: true };
        },
      },
      newId: () => randomUUID(),
    };
    const call = caller(services, 'held');
    const body = {
      properties: {
        mode: 'Incremental',
        template: template([identity('first'), identity('second', { dependsOn: ['first'] })]),
      },
    };

    expect((await call('PUT', '', body)).status).toBe(201);
    await reached;
    const again = await call('PUT', '', body);
    expect(again).toEqual({ status: 409, body: { code: 'DeploymentActive' } });
    expect(await call('DELETE')).toEqual({ status: 409, body: { code: 'DeploymentActive' } });
    expect((await call('POST', '/cancel')).status).toBe(204);
    release();

    // The run records its operations when it stops: wait for them.
    let states: string[] = [];
    for (let i = 0; i < 200 && (states.length === 0 || states.includes('Running')); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      const ops = await call('GET', '/operations');
      const value = (ops.body as { value: { properties: { provisioningState: string } }[] }).value;
      states = value.map((op) => op.properties.provisioningState);
    }
    // The write under way finished; the one waiting for it never started.
    expect(states).toEqual(['Succeeded']);
    const read = await call('GET');
    expect(read.body).toMatchObject({ properties: { provisioningState: 'Canceled' } });
    const second = await h.store.resources.get(
      `${group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/second`,
    );
    expect(second).toBeUndefined();
    expect(await call('POST', '/cancel')).toEqual({
      status: 409,
      body: { code: 'DeploymentCannotBeCancelled' },
    });
    expect((await call('DELETE')).status).toBe(204);
  });

  it('takes a deployment whose server stopped showing progress as failed, and lets its name be deployed again', async () => {
    let arrived: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (arrived = resolve));
    let offset = 0;
    const services: ArmServices = {
      store: h.store,
      clock: { now: () => Date.now() + offset },
      rbac: {
        // The first run's first write never gets its answer: a server that stopped.
        check: async ({ action }) => {
          if (action === IDENTITY_WRITE && offset === 0) {
            arrived();
            await new Promise(() => undefined);
          }
          return { allowed: true };
        },
      },
      newId: () => randomUUID(),
    };
    const call = caller(services, 'orphan');
    const body = {
      properties: { mode: 'Incremental', template: template([identity('orphaned')]) },
    };
    expect((await call('PUT', '', body)).status).toBe(201);
    await held;
    expect(await call('PUT', '', body)).toEqual({
      status: 409,
      body: { code: 'DeploymentActive' },
    });
    // A minute and more without a heartbeat.
    offset = 61_000;
    const read = await call('GET');
    expect(read.body).toMatchObject({
      properties: {
        provisioningState: 'Failed',
        error: {
          code: 'DeploymentFailed',
          message: expect.stringMatching(
            /^The server running this deployment stopped before it finished/,
          ) as unknown,
        },
      },
    });
    const again = await call('PUT', '', body);
    expect(again.status).toBe(200);
    await expect
      .poll(
        async () =>
          ((await call('GET')).body as { properties: { provisioningState: string } }).properties
            .provisioningState,
      )
      .toBe('Succeeded');
  });
});
