// A template of 100 user-assigned identities and 100 role assignments (each granting Reader to an
// identity's principal through reference()) deployed through ARM (issue 23: under 2 s), against
// the same 200 writes made by a client directly, 16 at a time, in the same run.
//
// Setup: the Tessera server in a child process (imds-server.ts), this process as the operator.
// Subject: PUT the deployment, then poll its Azure-AsyncOperation URL every 10 ms until the status
// is final; the time is from the PUT's sending to the first final answer (az itself polls at the
// Retry-After of 1 s, which would only hide the figure). Baseline: the identities PUT 16 at a time,
// then the role assignments 16 at a time with the principals the identity PUTs answered: what the
// deployment does, without the template. Each repetition uses new groups. `opsPerSec` is resources
// written per second.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Benchmark, type Measurement, medianOf, repetitionsFor } from './harness.js';
import { type ServerChild, startServerChild, stopChild } from './imds-fixture.js';

const TARGET_S = 2;
const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const UAI = 'Microsoft.ManagedIdentity/userAssignedIdentities';
const LANES = 16;

const template = (count: number) => ({
  $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
  contentVersion: '1.0.0.0',
  resources: [
    {
      type: UAI,
      apiVersion: '2023-01-31',
      name: "[concat('id-', copyIndex())]",
      location: '[resourceGroup().location]',
      copy: { name: 'ids', count },
    },
    {
      type: 'Microsoft.Authorization/roleAssignments',
      apiVersion: '2022-04-01',
      name: '[guid(resourceGroup().id, string(copyIndex()))]',
      copy: { name: 'grants', count },
      properties: {
        roleDefinitionId: `[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '${READER}')]`,
        principalId: `[reference(resourceId('${UAI}', concat('id-', copyIndex()))).principalId]`,
        principalType: 'ServicePrincipal',
      },
    },
  ],
});

async function newGroup(server: ServerChild, name: string): Promise<string> {
  const path = `/subscriptions/${server.subscriptionId}/resourceGroups/${name}`;
  await server.arm('PUT', `${path}?api-version=2021-04-01`, { location: 'westeurope' });
  return path;
}

/** Seconds from the PUT to the final status of a deployment of `count` + `count` resources. */
async function deployed(server: ServerChild, count: number, name: string): Promise<number> {
  const group = await newGroup(server, name);
  const started = performance.now();
  const response = await fetch(
    `${server.url}${group}/providers/Microsoft.Resources/deployments/bench?api-version=2021-04-01`,
    {
      method: 'PUT',
      headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ properties: { mode: 'Incremental', template: template(count) } }),
    },
  );
  const statusUrl = response.headers.get('azure-asyncoperation');
  await response.arrayBuffer();
  if (response.status !== 201 || statusUrl === null) throw new Error(`PUT ${response.status}`);
  const { pathname, search } = new URL(statusUrl);
  for (;;) {
    const polled = await server.arm('GET', `${pathname}${search}`);
    const status = polled.body.status as string;
    if (status === 'Succeeded') return (performance.now() - started) / 1000;
    if (status !== 'Running') throw new Error(`deployment ended ${JSON.stringify(polled.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Runs `work` over `items`, {@link LANES} at a time. */
async function lanes<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: LANES }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await work(items[i] as T);
      }
    }),
  );
  return out;
}

/** Seconds for the same writes made directly. */
async function direct(server: ServerChild, count: number, name: string): Promise<number> {
  const group = await newGroup(server, name);
  const indexes = Array.from({ length: count }, (_, i) => i);
  const started = performance.now();
  const principals = await lanes(indexes, async (i) => {
    const made = await server.arm(
      'PUT',
      `${group}/providers/${UAI}/id-${i}?api-version=2023-01-31`,
      {
        location: 'westeurope',
      },
    );
    return (made.body.properties as { principalId: string }).principalId;
  });
  await lanes(indexes, (i) =>
    server.arm(
      'PUT',
      `${group}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=2022-04-01`,
      {
        properties: {
          roleDefinitionId: `/subscriptions/${server.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${READER}`,
          principalId: principals[i],
          principalType: 'ServicePrincipal',
        },
      },
    ),
  );
  return (performance.now() - started) / 1000;
}

const asMeasurement = (seconds: number, writes: number): Measurement => ({
  opsPerSec: writes / seconds,
  p50Ms: seconds * 1000,
  p99Ms: seconds * 1000,
});

export const benchmark: Benchmark = {
  name: 'template deployment: 100 identities + 100 role assignments vs the same writes made directly',
  async run(options) {
    const count = options.smoke ? 5 : 100;
    const repetitions = repetitionsFor(options);
    const dir = await mkdtemp(join(tmpdir(), 'tessera-bench-deploy-'));
    let server: ServerChild | undefined;
    const deploySeconds: number[] = [];
    const directSeconds: number[] = [];
    try {
      server = await startServerChild(dir);
      // One of each first, untimed: the server's first requests warm its caches and JIT.
      await deployed(server, 5, 'warm-deploy');
      await direct(server, 5, 'warm-direct');
      for (let r = 0; r < repetitions; r++) {
        // Alternating which goes first, so drift in the machine's load favours neither.
        if (r % 2 === 0) directSeconds.push(await direct(server, count, `direct-${r}`));
        deploySeconds.push(await deployed(server, count, `deploy-${r}`));
        if (r % 2 === 1) directSeconds.push(await direct(server, count, `direct-${r}`));
      }
    } finally {
      if (server !== undefined) await stopChild(server.child);
      await rm(dir, { recursive: true, force: true });
    }
    const subject = medianOf(deploySeconds);
    return {
      name: this.name,
      subject: asMeasurement(subject, 2 * count),
      baselineName: 'direct ARM writes, 16 at a time',
      baseline: asMeasurement(medianOf(directSeconds), 2 * count),
      absoluteTargets: [
        {
          name: 'deployment, PUT to Succeeded (median)',
          value: subject,
          unit: 's',
          below: TARGET_S,
        },
      ],
    };
  },
};
