// Role definitions and role assignments in SQL.

import type { Permission, RoleAssignment, RoleDefinition } from '../../core/model.js';
import type { AssignmentQuery, Page, PageRequest, RoleStore } from '../../core/ports.js';
import { decodeCursor, toPage } from '../paging.js';
import type { RoleAssignmentsTable, RoleDefinitionsTable } from '../schema.js';
import { affected, type Executor, fromJson, insertOrConflict, keyOf, toJson } from './shared.js';

const toDefinition = (row: RoleDefinitionsTable): RoleDefinition => ({
  id: row.id,
  roleName: row.role_name,
  type: row.type as RoleDefinition['type'],
  description: row.description,
  assignableScopes: fromJson<string[]>(row.assignable_scopes),
  permissions: fromJson<Permission[]>(row.permissions),
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const toAssignment = (row: RoleAssignmentsTable): RoleAssignment => ({
  id: row.id,
  scope: row.scope,
  roleDefinitionId: row.role_definition_id,
  principalId: row.principal_id,
  principalType: row.principal_type,
  createdAt: row.created_at,
  createdBy: row.created_by,
});

export class SqlRoleStore implements RoleStore {
  constructor(private readonly db: Executor) {}

  async putDefinition(d: RoleDefinition): Promise<{ created: boolean }> {
    const values = {
      role_name: d.roleName,
      type: d.type,
      description: d.description,
      assignable_scopes: toJson(d.assignableScopes),
      permissions: toJson(d.permissions),
      updated_at: d.updatedAt,
    };
    const taken = `A role definition named '${d.roleName}' exists.`;
    let created = false;
    await insertOrConflict(async () => {
      const inserted = await this.db
        .insertInto('role_definitions')
        .values({ ...values, id: keyOf(d.id), created_at: d.createdAt })
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      created = Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0;
      if (created) return;
      await this.db
        .updateTable('role_definitions')
        .set(values)
        .where('id', '=', keyOf(d.id))
        .execute();
    }, taken);
    return { created };
  }

  async getDefinition(id: string): Promise<RoleDefinition | undefined> {
    const row = await this.db
      .selectFrom('role_definitions')
      .selectAll()
      .where('id', '=', keyOf(id))
      .executeTakeFirst();
    return row && toDefinition(row);
  }

  async listDefinitions(): Promise<readonly RoleDefinition[]> {
    const rows = await this.db
      .selectFrom('role_definitions')
      .selectAll()
      .orderBy('role_name')
      .execute();
    return rows.map(toDefinition);
  }

  async deleteDefinition(id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('role_definitions')
      .where('id', '=', keyOf(id))
      .executeTakeFirst();
    return affected(result) > 0;
  }

  async createAssignment(a: RoleAssignment): Promise<void> {
    await insertOrConflict(
      () =>
        this.db
          .insertInto('role_assignments')
          .values({
            id: keyOf(a.id),
            scope: a.scope,
            scope_key: keyOf(a.scope),
            role_definition_id: keyOf(a.roleDefinitionId),
            principal_id: a.principalId,
            principal_type: a.principalType,
            created_at: a.createdAt,
            created_by: a.createdBy,
          })
          .execute(),
      'The role assignment already exists.',
    );
  }

  async getAssignment(id: string): Promise<RoleAssignment | undefined> {
    const row = await this.db
      .selectFrom('role_assignments')
      .selectAll()
      .where('id', '=', keyOf(id))
      .executeTakeFirst();
    return row && toAssignment(row);
  }

  async deleteAssignment(id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('role_assignments')
      .where('id', '=', keyOf(id))
      .executeTakeFirst();
    return affected(result) > 0;
  }

  async listAssignments(q: AssignmentQuery, page: PageRequest): Promise<Page<RoleAssignment>> {
    let query = this.db
      .selectFrom('role_assignments')
      .selectAll()
      .orderBy('id')
      .limit(page.limit + 1);
    if (q.principalId !== undefined) query = query.where('principal_id', '=', q.principalId);
    if (q.roleDefinitionId !== undefined)
      query = query.where('role_definition_id', '=', keyOf(q.roleDefinitionId));
    if (q.scope !== undefined) query = query.where('scope_key', '=', keyOf(q.scope));
    if (q.scopeUnder !== undefined) {
      const scope = keyOf(q.scopeUnder).replace(/\/+$/, '');
      // The scope itself, or anything below it: a key range, as ids may hold `like` wildcards.
      query = query.where((eb) =>
        eb.or([
          eb('scope_key', '=', scope === '' ? '/' : scope),
          eb.and([eb('scope_key', '>=', `${scope}/`), eb('scope_key', '<', `${scope}0`)]),
        ]),
      );
    }
    if (page.cursor !== undefined) {
      const [after] = decodeCursor(page.cursor, ['string']) as [string];
      query = query.where('id', '>', after);
    }
    return toPage(await query.execute(), page.limit, toAssignment, (r) => [r.id]);
  }

  async listAssignmentsForPrincipalAtScopes(
    principalIds: readonly string[],
    scopes: readonly string[],
  ): Promise<readonly RoleAssignment[]> {
    if (principalIds.length === 0 || scopes.length === 0) return [];
    // Served by role_assignments_principal_scope (migration 0004): one seek per pair.
    const rows = await this.db
      .selectFrom('role_assignments')
      .selectAll()
      .where('principal_id', 'in', [...new Set(principalIds)])
      .where('scope_key', 'in', [...new Set(scopes.map(keyOf))])
      .execute();
    return rows.map(toAssignment);
  }
}
