// ARM's Activity Log on SQLite: the first page (newest first) of a day's events in one subscription,
// against a single-row resources.get in the same run. 10,000 events (5,000 operations, Begin and
// End) over one day are seeded in batches of 500, one append each, in one transaction.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActivityEvent } from '../src/core/model.js';
import { activityEventsFor } from '../src/core/audit/activity-events.js';
import { ACTIVITY_LOG_PAGE_SIZE } from '../src/server/arm/providers/activity-log.js';
import { openStore } from '../src/store/index.js';
import { renderActivityEvent } from '../src/wire/arm/index.js';
import { type Benchmark, measureOnce, measurePair } from './harness.js';

const FULL_EVENTS = 10_000;
const SMOKE_EVENTS = 400;
const BATCH = 500;
const TARGET_P99_MS = 50;
const DAY_MS = 86_400_000;
const DAY_START = Date.UTC(2026, 4, 1);
const GROUPS = 20;

/** `count` events (Begin and End of `count / 2` operations) spread evenly over one day. */
function seedEvents(sub: string, tenant: string, count: number): ActivityEvent[] {
  const events: ActivityEvent[] = [];
  const step = DAY_MS / (count / 2);
  for (let op = 0; op < count / 2; op++) {
    const group = `rg-${op % GROUPS}`;
    const resourceId = `/subscriptions/${sub}/resourceGroups/${group}/providers/Microsoft.Compute/virtualMachines/vm-${op % 500}`;
    const objectId = randomUUID();
    const startedAt = DAY_START + Math.floor(op * step);
    events.push(
      ...activityEventsFor(
        {
          caller: {
            objectId,
            tenantId: tenant,
            appId: randomUUID(),
            claims: {
              aud: 'https://management.azure.com/',
              iss: `https://tessera.example/${tenant}/`,
              iat: startedAt / 1000,
              nbf: startedAt / 1000,
              exp: startedAt / 1000 + 3600,
              appidacr: '1',
              oid: objectId,
              sub: objectId,
              tid: tenant,
              ver: '1.0',
            },
          },
          subscriptionId: sub,
          resourceGroup: group,
          resourceId,
          resourceType: 'Microsoft.Compute/virtualMachines',
          action: 'Microsoft.Compute/virtualMachines/write',
          method: 'PUT',
          uri: `https://tessera.example${resourceId}?api-version=2024-03-01`,
          httpStatus: op % 50 === 0 ? 409 : 200,
          correlationId: randomUUID(),
          clientRequestId: randomUUID(),
          serviceRequestId: randomUUID(),
          clientIp: '10.0.0.4',
          startedAt,
          endedAt: startedAt + 180,
        },
        randomUUID,
      ),
    );
  }
  return events;
}

export const benchmark: Benchmark = {
  name: 'activity log: first page of a 10k-event day (SQLite)',
  async run(options) {
    const count = options.smoke ? SMOKE_EVENTS : FULL_EVENTS;
    const dir = await mkdtemp(join(tmpdir(), 'tessera-bench-activity-'));
    const database = { driver: 'sqlite', file: join(dir, 'bench.db') } as const;
    const { store } = await openStore({ database, masterKey: Buffer.alloc(32, 1) });
    try {
      const sub = randomUUID();
      const tenant = randomUUID();
      const events = seedEvents(sub, tenant, count);
      await store.transaction(async (tx) => {
        for (let i = 0; i < events.length; i += BATCH) {
          await tx.activity.append(events.slice(i, i + BATCH));
        }
        // The baseline's row, and neighbours so the table is not trivially small.
        for (let i = 0; i < 100; i++) {
          await tx.resources.put({
            id: `/subscriptions/${sub}/resourceGroups/rg-${i}`,
            type: 'Microsoft.Resources/resourceGroups',
            name: `rg-${i}`,
            subscriptionId: sub,
            resourceGroup: `rg-${i}`,
            location: 'westeurope',
            tags: {},
            properties: {},
            createdAt: DAY_START,
            updatedAt: DAY_START,
          });
        }
      });
      const query = { subscriptionId: sub, from: DAY_START, to: DAY_START + DAY_MS };
      const firstPage = () => store.activity.query(query, { limit: ACTIVITY_LOG_PAGE_SIZE });
      const check = await firstPage();
      if (check.items.length !== Math.min(ACTIVITY_LOG_PAGE_SIZE, count)) {
        throw new Error(`expected a full first page, got ${check.items.length} events`);
      }
      const groupId = `/subscriptions/${sub}/resourceGroups/rg-7`;
      const { subject, baseline } = await measurePair(
        firstPage,
        () => store.resources.get(groupId),
        options,
      );
      // What the handler adds on top: rendering the page and writing its JSON.
      const rendered = await measureOnce(async () => {
        const page = await firstPage();
        return JSON.stringify({ value: page.items.map((e) => renderActivityEvent(e)) });
      }, options);
      return {
        name: this.name,
        subject,
        baselineName: 'resources.get (one row)',
        baseline,
        absoluteTargets: [
          { name: 'first-page p99', value: subject.p99Ms, unit: 'ms', below: TARGET_P99_MS },
          { name: 'p99 / point-read p99', value: subject.p99Ms / baseline.p99Ms, unit: 'x' },
          { name: 'with render + JSON p99', value: rendered.p99Ms, unit: 'ms' },
          { name: 'events seeded', value: count, unit: 'events' },
        ],
      };
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
