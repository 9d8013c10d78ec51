// ARM resources (subscriptions and resource groups included) in SQL, keyed case-insensitively.

import { randomUUID } from 'node:crypto';
import { type SelectQueryBuilder, sql } from 'kysely';
import { AppError, conflict } from '../../core/errors.js';
import type { Resource } from '../../core/model.js';
import { placementOf } from '../../core/resources/change-feed.js';
import type {
  Page,
  PageRequest,
  PutCondition,
  ResourceQuery,
  ResourceStore,
} from '../../core/ports.js';
import { isUniqueViolation } from '../dialect.js';
import { decodeCursor, toPage } from '../paging.js';
import type { Database, ResourcesTable } from '../schema.js';

type ResourceSelect = SelectQueryBuilder<Database, 'resources', ResourcesTable>;
import { affected, type Executor, fromJson, keyOf, toJson } from './shared.js';
import { prepared } from '../prepared.js';

const toResource = (row: ResourcesTable): Resource => ({
  id: row.id,
  type: row.type,
  name: row.name,
  subscriptionId: row.subscription_id,
  resourceGroup: row.resource_group,
  location: row.location,
  tags: fromJson<Record<string, string>>(row.tags),
  properties: fromJson<Record<string, unknown>>(row.properties),
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  etag: row.etag ?? `"m${String(row.updated_at)}"`,
});

/** A fresh strong entity tag, quoted as HTTP writes it. */
const newEtag = (): string => `"${randomUUID()}"`;

function preconditionFailed(id: string, condition: string | null): AppError {
  return new AppError(
    'PreconditionFailed',
    condition === null
      ? `The resource '${id}' already exists.`
      : `The resource '${id}' has changed: its etag is no longer ${condition}.`,
    { status: 412 },
  );
}

/**
 * The key range of the ids under `prefix`: a range rather than `like`, as ids may hold `_`, a
 * `like` wildcard. '0' is the character after '/'.
 */
function underRange(prefix: string): [low: string, high: string] {
  return [`${keyOf(prefix)}/`, `${keyOf(prefix)}0`];
}

/** The placement columns of a resource's row (migration 0008), derived on every write. */
export function placementColumns(
  resource: Parameters<typeof placementOf>[0],
): Pick<ResourcesTable, 'host_id' | 'holder_key'> {
  const { hostId, holderId } = placementOf(resource);
  return { host_id: hostId, holder_key: holderId === null ? null : keyOf(holderId) };
}

const byKey = prepared((db, key: string) =>
  db.selectFrom('resources').selectAll().where('id_key', '=', key),
);

export class SqlResourceStore implements ResourceStore {
  constructor(private readonly db: Executor) {}

  async put(
    r: Resource,
    condition: PutCondition = {},
  ): Promise<{ created: boolean; etag: string }> {
    const idKey = keyOf(r.id);
    const etag = newEtag();
    const { ifMatch } = condition;
    const values = {
      id: r.id,
      type_key: keyOf(r.type),
      type: r.type,
      name: r.name,
      subscription_key: keyOf(r.subscriptionId),
      subscription_id: r.subscriptionId,
      resource_group_key: r.resourceGroup === null ? null : keyOf(r.resourceGroup),
      resource_group: r.resourceGroup,
      location: r.location,
      tags: toJson(r.tags),
      properties: toJson(r.properties),
      updated_at: r.updatedAt,
      etag,
      ...placementColumns(r),
    };
    // Insert-or-nothing first, so two writers racing on a new id cannot both create it. An
    // update keeps the id's original case and creation time, as ARM does.
    if (ifMatch === undefined || ifMatch === null) {
      const inserted = await this.db
        .insertInto('resources')
        .values({ ...values, id_key: idKey, created_at: r.createdAt })
        .onConflict((oc) => oc.column('id_key').doNothing())
        .executeTakeFirst()
        .catch((error: unknown) => {
          // Another unique index than the id's: a vault name taken, whatever its case.
          if (isUniqueViolation(error)) {
            throw conflict(`A ${r.type} named '${r.name}' already exists.`, { cause: error });
          }
          throw error;
        });
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0) return { created: true, etag };
      if (ifMatch === null) throw preconditionFailed(r.id, null);
    }
    const changes: Partial<typeof values> = { ...values };
    delete changes.id;
    let update = this.db.updateTable('resources').set(changes).where('id_key', '=', idKey);
    if (typeof ifMatch === 'string') update = update.where('etag', '=', ifMatch);
    const result = await update.executeTakeFirst();
    if (typeof ifMatch === 'string' && affected(result) === 0)
      throw preconditionFailed(r.id, ifMatch);
    return { created: false, etag };
  }

  async get(id: string): Promise<Resource | undefined> {
    const [row] = (await byKey(this.db, keyOf(id))).rows;
    return row && toResource(row);
  }

  list(q: ResourceQuery, page: PageRequest): Promise<Page<Resource>> {
    return this.pageOf(page, (query) => {
      let filtered = query;
      if (q.subscriptionId !== undefined)
        filtered = filtered.where('subscription_key', '=', keyOf(q.subscriptionId));
      if (q.resourceGroup !== undefined)
        filtered = filtered.where('resource_group_key', '=', keyOf(q.resourceGroup));
      if (q.type !== undefined) filtered = filtered.where('type_key', '=', keyOf(q.type));
      if (q.types !== undefined) {
        filtered = filtered.where(
          'type_key',
          'in',
          q.types.length === 0 ? [''] : q.types.map(keyOf),
        );
      }
      if (q.name !== undefined)
        filtered = filtered.where(sql<string>`lower(name)`, '=', q.name.toLowerCase());
      return filtered;
    });
  }

  listPlacedOn(hostId: string, page: PageRequest): Promise<Page<Resource>> {
    return this.pageOf(page, (query) => query.where('host_id', '=', hostId));
  }

  /** The resources `filter` keeps, in id order, one page from `page.cursor` on. */
  private async pageOf(
    page: PageRequest,
    filter: (query: ResourceSelect) => ResourceSelect,
  ): Promise<Page<Resource>> {
    let query = filter(this.db.selectFrom('resources').selectAll())
      .orderBy('id_key')
      .limit(page.limit + 1);
    if (page.cursor !== undefined) {
      const [after] = decodeCursor(page.cursor, ['string']) as [string];
      query = query.where('id_key', '>', after);
    }
    return toPage(await query.execute(), page.limit, toResource, (r) => [r.id_key]);
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('resources')
      .where('id_key', '=', keyOf(id))
      .executeTakeFirst();
    return affected(result) > 0;
  }

  listUnder(prefix: string, page: PageRequest): Promise<Page<Resource>> {
    const [low, high] = underRange(prefix);
    return this.pageOf(page, (query) =>
      query.where('id_key', '>=', low).where('id_key', '<', high),
    );
  }

  async deleteUnder(prefix: string): Promise<number> {
    const [low, high] = underRange(prefix);
    const result = await this.db
      .deleteFrom('resources')
      .where('id_key', '>=', low)
      .where('id_key', '<', high)
      .executeTakeFirst();
    return affected(result);
  }
}
