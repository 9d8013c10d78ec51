// Migration 0008: where each compute resource runs and whose identities it has, so that whether
// an identity is attached on a host is one indexed read; credentials found by their host.

import { type Kysely, type Migration, sql } from 'kysely';
import { placementColumns } from '../repos/resources.js';
import { keyOf } from '../repos/shared.js';

const COMPUTE_TYPE_KEYS = [
  'microsoft.compute/virtualmachines',
  'microsoft.compute/virtualmachinescalesets/virtualmachines',
];

/**
 * `resources.host_id` is the host a VM or scale-set instance is placed on (its
 * `properties.tessera.hostId`), `resources.holder_key` the lower-cased id of the resource whose
 * identities it has (the VM itself, an instance's scale set); both null for other types. Existing
 * rows are filled from their properties. `resources_host` lists a host's VMs (private addresses are
 * unique per host). `credentials_host` finds a host's certificates, to revoke
 * those whose (identity, host) pair is no longer attached. Same on both dialects.
 */
export const placementAndHostCredentialsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('resources').addColumn('host_id', 'text').execute();
    await db.schema.alterTable('resources').addColumn('holder_key', 'text').execute();
    await db.schema
      .createIndex('resources_holder_host')
      .on('resources')
      .columns(['holder_key', 'host_id'])
      .execute();
    await db.schema
      .createIndex('resources_host')
      .on('resources')
      .columns(['host_id', 'id_key'])
      .execute();
    await db.schema
      .createIndex('credentials_host')
      .on('credentials')
      .columns(['host_id', 'revoked'])
      .execute();

    const rows = await sql<{ id: string; type: string; properties: string }>`
      select id, type, properties from resources
      where type_key in (${sql.join(COMPUTE_TYPE_KEYS)})`.execute(db);
    for (const row of rows.rows) {
      const columns = placementColumns({
        id: row.id,
        type: row.type,
        properties: JSON.parse(row.properties) as Record<string, unknown>,
      });
      await sql`update resources set host_id = ${columns.host_id},
        holder_key = ${columns.holder_key} where id_key = ${keyOf(row.id)}`.execute(db);
    }
  },
};
