// Service principals in SQL.

import type { Principal, PrincipalType } from '../../core/model.js';
import type { Page, PageRequest, PrincipalStore, PrincipalUpdate } from '../../core/ports.js';
import { decodeCursor, toPage } from '../paging.js';
import type { PrincipalsTable } from '../schema.js';
import {
  affected,
  chunked,
  type Executor,
  fromFlag,
  fromJson,
  insertOrConflict,
  keyOf,
  toFlag,
  toJson,
} from './shared.js';
import { prepared } from '../prepared.js';

const toPrincipal = (row: PrincipalsTable): Principal => ({
  objectId: row.object_id,
  appId: row.app_id,
  tenantId: row.tenant_id,
  displayName: row.display_name,
  type: row.type as PrincipalType,
  alternativeNames: fromJson<string[]>(row.alternative_names),
  enabled: fromFlag(row.enabled),
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const alternativeKeys = (names: readonly string[]): string => toJson(names.map(keyOf));

const byAppId = prepared((db, appId: string) =>
  db.selectFrom('principals').selectAll().where('app_id', '=', appId),
);

export class SqlPrincipalStore implements PrincipalStore {
  constructor(private readonly db: Executor) {}

  async create(p: Principal): Promise<void> {
    await insertOrConflict(
      () =>
        this.db
          .insertInto('principals')
          .values({
            object_id: p.objectId,
            app_id: p.appId,
            tenant_id: p.tenantId,
            display_name: p.displayName,
            type: p.type,
            alternative_names: toJson(p.alternativeNames),
            alternative_keys: alternativeKeys(p.alternativeNames),
            enabled: toFlag(p.enabled),
            created_at: p.createdAt,
            updated_at: p.updatedAt,
          })
          .execute(),
      `A service principal with object id '${p.objectId}' or app id '${p.appId}' already exists.`,
    );
  }

  async get(objectId: string): Promise<Principal | undefined> {
    const row = await this.db
      .selectFrom('principals')
      .selectAll()
      .where('object_id', '=', objectId)
      .executeTakeFirst();
    return row && toPrincipal(row);
  }

  async getMany(objectIds: readonly string[]): Promise<readonly Principal[]> {
    const found: Principal[] = [];
    for (const chunk of chunked([...new Set(objectIds)])) {
      const rows = await this.db
        .selectFrom('principals')
        .selectAll()
        .where('object_id', 'in', chunk)
        .execute();
      found.push(...rows.map(toPrincipal));
    }
    return found;
  }

  async getByAppId(appId: string): Promise<Principal | undefined> {
    const [row] = (await byAppId(this.db, appId)).rows;
    return row && toPrincipal(row);
  }

  async getByAlternativeName(armId: string): Promise<Principal | undefined> {
    // The JSON text holds each key quoted, so the quoted form narrows the scan; `like` wildcards
    // in the id (`_`) can only widen it, and the exact check below decides.
    const key = keyOf(armId);
    const rows = await this.db
      .selectFrom('principals')
      .selectAll()
      .where('alternative_keys', 'like', `%${toJson(key)}%`)
      .execute();
    const row = rows.find((r) => fromJson<string[]>(r.alternative_keys).includes(key));
    return row && toPrincipal(row);
  }

  async update(
    objectId: string,
    patch: PrincipalUpdate,
    at: number,
  ): Promise<Principal | undefined> {
    const result = await this.db
      .updateTable('principals')
      .set({
        updated_at: at,
        ...(patch.displayName === undefined ? {} : { display_name: patch.displayName }),
        ...(patch.enabled === undefined ? {} : { enabled: toFlag(patch.enabled) }),
        ...(patch.alternativeNames === undefined
          ? {}
          : {
              alternative_names: toJson(patch.alternativeNames),
              alternative_keys: alternativeKeys(patch.alternativeNames),
            }),
      })
      .where('object_id', '=', objectId)
      .executeTakeFirst();
    return affected(result) === 0 ? undefined : this.get(objectId);
  }

  async delete(objectId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('principals')
      .where('object_id', '=', objectId)
      .executeTakeFirst();
    return affected(result) > 0;
  }

  async list(tenantId: string, page: PageRequest): Promise<Page<Principal>> {
    let query = this.db
      .selectFrom('principals')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .orderBy('object_id')
      .limit(page.limit + 1);
    if (page.cursor !== undefined) {
      const [after] = decodeCursor(page.cursor, ['string']) as [string];
      query = query.where('object_id', '>', after);
    }
    return toPage(await query.execute(), page.limit, toPrincipal, (r) => [r.object_id]);
  }
}
