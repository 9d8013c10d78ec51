// Tenants in SQL.

import type { Tenant } from '../../core/model.js';
import type { TenantStore } from '../../core/ports.js';
import type { TenantsTable } from '../schema.js';
import { type Executor, fromFlag, insertOrConflict, toFlag } from './shared.js';

const toTenant = (row: TenantsTable): Tenant => ({
  id: row.id,
  displayName: row.display_name,
  isDefault: fromFlag(row.is_default),
  createdAt: row.created_at,
});

export class SqlTenantStore implements TenantStore {
  constructor(private readonly db: Executor) {}

  async create(tenant: Tenant): Promise<void> {
    await insertOrConflict(
      () =>
        this.db
          .insertInto('tenants')
          .values({
            id: tenant.id,
            display_name: tenant.displayName,
            is_default: toFlag(tenant.isDefault),
            created_at: tenant.createdAt,
          })
          .execute(),
      `Tenant '${tenant.id}' already exists.`,
    );
  }

  async get(id: string): Promise<Tenant | undefined> {
    const row = await this.db
      .selectFrom('tenants')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toTenant(row);
  }

  async getDefault(): Promise<Tenant | undefined> {
    const row = await this.db
      .selectFrom('tenants')
      .selectAll()
      .where('is_default', '=', 1)
      .orderBy('created_at')
      .executeTakeFirst();
    return row && toTenant(row);
  }

  async list(): Promise<readonly Tenant[]> {
    const rows = await this.db
      .selectFrom('tenants')
      .selectAll()
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toTenant);
  }
}
