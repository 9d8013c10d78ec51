// Agent hosts in SQL.

import { sql } from 'kysely';
import type { Host } from '../../core/model.js';
import type { HostStore } from '../../core/ports.js';
import type { SqlDialect } from '../dialect.js';
import type { HostsTable } from '../schema.js';
import { affected, type Executor, insertOrConflict } from './shared.js';
import { prepared } from '../prepared.js';

/** The resource types that are VMs placed on a host (`type_key`, lower case). */
const VM_TYPE_KEYS = [
  'microsoft.compute/virtualmachines',
  'microsoft.compute/virtualmachinescalesets/virtualmachines',
] as const;

const toHost = (row: HostsTable): Host => ({
  id: row.id,
  name: row.name,
  joinTokenHash: row.join_token_hash,
  certificateThumbprint: row.certificate_thumbprint,
  registeredAt: row.registered_at,
  lastSeenAt: row.last_seen_at,
  createdAt: row.created_at,
  certificateNotAfter: row.certificate_not_after,
});

const byId = prepared((db, id: string) => db.selectFrom('hosts').selectAll().where('id', '=', id));

export class SqlHostStore implements HostStore {
  constructor(
    private readonly db: Executor,
    private readonly dialect: SqlDialect,
  ) {}

  async create(h: Host): Promise<void> {
    await insertOrConflict(
      () =>
        this.db
          .insertInto('hosts')
          .values({
            id: h.id,
            name: h.name,
            join_token_hash: h.joinTokenHash,
            certificate_thumbprint: h.certificateThumbprint,
            registered_at: h.registeredAt,
            last_seen_at: h.lastSeenAt,
            created_at: h.createdAt,
            certificate_not_after: h.certificateNotAfter ?? null,
          })
          .execute(),
      `A host named '${h.name}' already exists.`,
    );
  }

  async get(id: string): Promise<Host | undefined> {
    const [row] = (await byId(this.db, id)).rows;
    return row && toHost(row);
  }

  async getByName(name: string): Promise<Host | undefined> {
    const row = await this.db
      .selectFrom('hosts')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return row && toHost(row);
  }

  async update(
    id: string,
    patch: Partial<
      Pick<
        Host,
        | 'joinTokenHash'
        | 'certificateThumbprint'
        | 'certificateNotAfter'
        | 'registeredAt'
        | 'lastSeenAt'
      >
    >,
  ): Promise<boolean> {
    const set = {
      ...(patch.joinTokenHash === undefined ? {} : { join_token_hash: patch.joinTokenHash }),
      ...(patch.certificateThumbprint === undefined
        ? {}
        : { certificate_thumbprint: patch.certificateThumbprint }),
      ...(patch.certificateNotAfter === undefined
        ? {}
        : { certificate_not_after: patch.certificateNotAfter }),
      ...(patch.registeredAt === undefined ? {} : { registered_at: patch.registeredAt }),
      ...(patch.lastSeenAt === undefined ? {} : { last_seen_at: patch.lastSeenAt }),
    };
    if (Object.keys(set).length === 0) return (await this.get(id)) !== undefined;
    const result = await this.db
      .updateTable('hosts')
      .set(set)
      .where('id', '=', id)
      .executeTakeFirst();
    return affected(result) > 0;
  }

  /** Deletes the host; the certificates issued to it for identities are revoked with it. */
  async delete(id: string): Promise<boolean> {
    await this.db
      .updateTable('credentials')
      .set({ revoked: 1 })
      .where('host_id', '=', id)
      .where('revoked', '=', 0)
      .execute();
    const result = await this.db.deleteFrom('hosts').where('id', '=', id).executeTakeFirst();
    return affected(result) > 0;
  }

  async list(): Promise<readonly Host[]> {
    const rows = await this.db.selectFrom('hosts').selectAll().orderBy('name').execute();
    return rows.map(toHost);
  }

  async countVms(): Promise<ReadonlyMap<string, number>> {
    // The same test as the agent's sync (`hostOf`): a string at `properties.tessera.hostId`.
    const hostId =
      this.dialect === 'postgres'
        ? sql<string>`cast(properties as jsonb) -> 'tessera' ->> 'hostId'`
        : sql<string>`json_extract(properties, '$.tessera.hostId')`;
    const isString =
      this.dialect === 'postgres'
        ? sql<boolean>`jsonb_typeof(cast(properties as jsonb) -> 'tessera' -> 'hostId') = 'string'`
        : sql<boolean>`json_type(properties, '$.tessera.hostId') = 'text'`;
    const rows = await this.db
      .selectFrom('resources')
      .select([hostId.as('host_id'), (eb) => eb.fn.countAll<number | string>().as('vms')])
      .where('type_key', 'in', VM_TYPE_KEYS)
      .where(isString)
      .groupBy(hostId)
      .execute();
    return new Map(rows.map((row) => [row.host_id, Number(row.vms)]));
  }
}
