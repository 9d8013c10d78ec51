// Large data for the scale benchmarks, written through the store's Kysely database in multi-row
// batches inside one transaction (seconds for 50,000 identities, where ARM calls would take
// minutes): rows exactly as the store's repositories write them (src/store/repos), so the server
// reads them back as if ARM had made them.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { placementColumns } from '../src/store/repos/resources.js';
import type { Database } from '../src/store/schema.js';

const BATCH = 500;
const VM_TYPE = 'Microsoft.Compute/virtualMachines';
const UAI_TYPE = 'Microsoft.ManagedIdentity/userAssignedIdentities';

/** Where seeded resources go: an existing resource group of the server's subscription. */
export interface SeedPlace {
  readonly tenantId: string;
  readonly subscriptionId: string;
  readonly groupName: string;
}

export interface SeededIdentity {
  readonly id: string;
  readonly principalId: string;
  readonly clientId: string;
}

export interface SeededVm {
  readonly id: string;
  readonly address: string;
  readonly principalId: string;
}

type Rows = { [T in keyof Database]?: Database[T][] };

const groupPath = (p: SeedPlace): string =>
  `/subscriptions/${p.subscriptionId}/resourceGroups/${p.groupName}`;

function resourceRow(
  p: SeedPlace,
  id: string,
  type: string,
  name: string,
  properties: unknown,
  at: number,
): Database['resources'] {
  return {
    id_key: id.toLowerCase(),
    id,
    type_key: type.toLowerCase(),
    type,
    name,
    subscription_key: p.subscriptionId.toLowerCase(),
    subscription_id: p.subscriptionId,
    resource_group_key: p.groupName.toLowerCase(),
    resource_group: p.groupName,
    location: 'westeurope',
    tags: '{}',
    properties: JSON.stringify(properties),
    created_at: at,
    updated_at: at,
    etag: `"${randomUUID()}"`,
    ...placementColumns({ id, type, properties: properties as Record<string, unknown> }),
  };
}

function principalRow(p: SeedPlace, name: string, armId: string, at: number) {
  const row: Database['principals'] = {
    object_id: randomUUID(),
    app_id: randomUUID(),
    tenant_id: p.tenantId,
    display_name: name,
    type: 'ManagedIdentity',
    alternative_names: JSON.stringify([armId]),
    alternative_keys: JSON.stringify([armId.toLowerCase()]),
    enabled: 1,
    created_at: at,
    updated_at: at,
  };
  return row;
}

async function insertAll(db: Kysely<Database>, rows: Rows): Promise<void> {
  await db.transaction().execute(async (trx) => {
    for (const [table, list] of Object.entries(rows) as [keyof Database, never[]][]) {
      for (let i = 0; i < list.length; i += BATCH) {
        // One table at a time: its rows are that table's rows.
        await trx
          .insertInto(table)
          .values(list.slice(i, i + BATCH))
          .execute();
      }
    }
  });
}

/** `count` user-assigned identities named `<prefix>-<n>` with their principals. */
export async function seedIdentities(
  db: Kysely<Database>,
  place: SeedPlace,
  prefix: string,
  count: number,
): Promise<SeededIdentity[]> {
  const at = Date.now();
  const resources: Database['resources'][] = [];
  const principals: Database['principals'][] = [];
  const out: SeededIdentity[] = [];
  for (let n = 0; n < count; n++) {
    const name = `${prefix}-${n}`;
    const id = `${groupPath(place)}/providers/${UAI_TYPE}/${name}`;
    const principal = principalRow(place, name, id, at);
    principals.push(principal);
    resources.push(
      resourceRow(
        place,
        id,
        UAI_TYPE,
        name,
        {
          tenantId: place.tenantId,
          principalId: principal.object_id,
          clientId: principal.app_id,
          isolationScope: 'None',
        },
        at,
      ),
    );
    out.push({ id, principalId: principal.object_id, clientId: principal.app_id });
  }
  await insertAll(db, { principals, resources });
  return out;
}

/**
 * `count` VMs named `<prefix>-<n>` on host `hostId`, each with a system-assigned identity and
 * the private address `address(n)`, and a change-feed entry for each (as ARM writes one).
 */
export async function seedVms(
  db: Kysely<Database>,
  place: SeedPlace,
  options: { prefix: string; count: number; hostId: string; address: (n: number) => string },
): Promise<SeededVm[]> {
  const at = Date.now();
  const rows = {
    principals: [] as Database['principals'][],
    resources: [] as Database['resources'][],
    identity_attachments: [] as Database['identity_attachments'][],
    compute_changes: [] as Database['compute_changes'][],
  };
  const out: SeededVm[] = [];
  for (let n = 0; n < options.count; n++) {
    const name = `${options.prefix}-${n}`;
    const id = `${groupPath(place)}/providers/${VM_TYPE}/${name}`;
    const address = options.address(n);
    const principal = principalRow(place, name, id, at);
    rows.principals.push(principal);
    rows.resources.push(
      resourceRow(
        place,
        id,
        VM_TYPE,
        name,
        {
          vmId: randomUUID(),
          tessera: { hostId: options.hostId, privateIpAddresses: [address] },
        },
        at,
      ),
    );
    rows.identity_attachments.push({
      resource_key: id.toLowerCase(),
      resource_id: id,
      principal_id: principal.object_id,
      kind: 'SystemAssigned',
      identity_resource_id: id,
      created_at: at,
    });
    rows.compute_changes.push({ at, resource_id: id, host_id: options.hostId } as never);
    out.push({ id, address, principalId: principal.object_id });
  }
  await insertAll(db, rows);
  return out;
}

/** The default tenant's id (the server made it at its first start). */
export async function defaultTenantId(db: Kysely<Database>): Promise<string> {
  const row = await db
    .selectFrom('tenants')
    .select('id')
    .where('is_default', '=', 1)
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Loopback address number `n` (from 1) outside 127.0.0.0/16: 127.1.0.1, 127.1.0.2, ... */
export const loopbackAddress = (n: number): string =>
  `127.${1 + Math.floor(n / 65536)}.${Math.floor(n / 256) % 256}.${n % 256}`;
