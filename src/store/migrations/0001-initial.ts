// Migration 0001: the first schema: directory, resources, RBAC, keys, hosts, vault secrets, audit.

import type { Kysely, Migration } from 'kysely';
import { sql } from 'kysely';
import type { SqlDialect } from '../dialect.js';

/** Builds the migration for one dialect (only auto-increment columns differ). */
export function initialMigration(dialect: SqlDialect): Migration {
  const serial = (column: string) =>
    dialect === 'postgres'
      ? sql.raw(`${column} bigserial primary key`)
      : sql.raw(`${column} integer primary key autoincrement`);

  return {
    // Kysely's migrator runs this inside a transaction on both dialects.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('tenants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('is_default', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('principals')
        .addColumn('object_id', 'text', (c) => c.primaryKey())
        .addColumn('app_id', 'text', (c) => c.notNull().unique())
        .addColumn('tenant_id', 'text', (c) =>
          c.notNull().references('tenants.id').onDelete('cascade'),
        )
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('alternative_names', 'text', (c) => c.notNull())
        .addColumn('alternative_keys', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('principals_tenant')
        .on('principals')
        .columns(['tenant_id', 'object_id'])
        .execute();

      await db.schema
        .createTable('hosts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('join_token_hash', 'text')
        .addColumn('certificate_thumbprint', 'text')
        .addColumn('registered_at', 'bigint')
        .addColumn('last_seen_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('credentials')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('principal_id', 'text', (c) =>
          c.notNull().references('principals.object_id').onDelete('cascade'),
        )
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('thumbprint_sha1', 'text')
        .addColumn('thumbprint_sha256', 'text')
        .addColumn('certificate', 'text')
        .addColumn('secret_hash', 'text')
        .addColumn('hint', 'text')
        .addColumn('host_id', 'text', (c) => c.references('hosts.id').onDelete('set null'))
        .addColumn('not_before', 'bigint', (c) => c.notNull())
        .addColumn('not_after', 'bigint', (c) => c.notNull())
        .addColumn('revoked', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('credentials_principal')
        .on('credentials')
        .column('principal_id')
        .execute();
      await db.schema
        .createIndex('credentials_sha1')
        .on('credentials')
        .columns(['principal_id', 'thumbprint_sha1'])
        .execute();
      await db.schema
        .createIndex('credentials_sha256')
        .on('credentials')
        .columns(['principal_id', 'thumbprint_sha256'])
        .execute();

      await db.schema
        .createTable('resources')
        .addColumn('id_key', 'text', (c) => c.primaryKey())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('type_key', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('subscription_key', 'text', (c) => c.notNull())
        .addColumn('subscription_id', 'text', (c) => c.notNull())
        .addColumn('resource_group_key', 'text')
        .addColumn('resource_group', 'text')
        .addColumn('location', 'text')
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('properties', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('resources_scope')
        .on('resources')
        .columns(['subscription_key', 'resource_group_key', 'type_key', 'id_key'])
        .execute();
      await db.schema
        .createIndex('resources_type')
        .on('resources')
        .columns(['subscription_key', 'type_key', 'id_key'])
        .execute();

      await db.schema
        .createTable('identity_attachments')
        .addColumn('resource_key', 'text', (c) =>
          c.notNull().references('resources.id_key').onDelete('cascade'),
        )
        .addColumn('resource_id', 'text', (c) => c.notNull())
        .addColumn('principal_id', 'text', (c) =>
          c.notNull().references('principals.object_id').onDelete('cascade'),
        )
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('identity_resource_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('identity_attachments_pk', ['resource_key', 'principal_id'])
        .execute();
      await db.schema
        .createIndex('identity_attachments_principal')
        .on('identity_attachments')
        .column('principal_id')
        .execute();

      await db.schema
        .createTable('role_definitions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('role_name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('assignable_scopes', 'text', (c) => c.notNull())
        .addColumn('permissions', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('role_assignments')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('scope_key', 'text', (c) => c.notNull())
        .addColumn('role_definition_id', 'text', (c) =>
          c.notNull().references('role_definitions.id').onDelete('restrict'),
        )
        .addColumn('principal_id', 'text', (c) => c.notNull())
        .addColumn('principal_type', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addUniqueConstraint('role_assignments_unique', [
          'principal_id',
          'role_definition_id',
          'scope_key',
        ])
        .execute();
      await db.schema
        .createIndex('role_assignments_scope')
        .on('role_assignments')
        .columns(['scope_key', 'id'])
        .execute();

      await db.schema
        .createTable('signing_keys')
        .addColumn('kid', 'text', (c) => c.primaryKey())
        .addColumn('algorithm', 'text', (c) => c.notNull())
        .addColumn('public_jwk', 'text', (c) => c.notNull())
        .addColumn('private_key', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('activates_at', 'bigint', (c) => c.notNull())
        .addColumn('retires_at', 'bigint')
        .addColumn('expires_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      // Tables with an insertion sequence are written in SQL: auto-increment differs by dialect.
      await sql`
        create table vault_secrets (
          ${serial('seq')},
          vault_key text not null,
          name_key text not null,
          name text not null,
          version text not null,
          value text not null,
          content_type text,
          tags text not null,
          enabled integer not null,
          not_before bigint,
          expires_at bigint,
          created_at bigint not null,
          updated_at bigint not null,
          deleted_at bigint,
          scheduled_purge_at bigint
        )`.execute(db);
      await db.schema
        .createIndex('vault_secrets_version')
        .on('vault_secrets')
        .columns(['vault_key', 'name_key', 'version'])
        .unique()
        .execute();
      await db.schema
        .createIndex('vault_secrets_latest')
        .on('vault_secrets')
        .columns(['vault_key', 'name_key', 'seq'])
        .execute();

      await sql`
        create table audit_events (
          ${serial('seq')},
          id text not null unique,
          at bigint not null,
          kind text not null,
          outcome text not null,
          tenant_id text,
          principal_id text,
          resource text,
          vm_id text,
          host_id text,
          token_id text,
          reason text,
          details text not null
        )`.execute(db);
      await db.schema
        .createIndex('audit_events_principal')
        .on('audit_events')
        .columns(['principal_id', 'seq'])
        .execute();
      await db.schema.createIndex('audit_events_at').on('audit_events').column('at').execute();
    },
  };
}
