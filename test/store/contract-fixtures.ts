// Fixtures and setup shared by the store contract suites.

import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { AppError } from '../../src/core/errors.js';
import type {
  Principal,
  Resource,
  RoleDefinition,
  VaultSecretVersion,
} from '../../src/core/model.js';
import type { Store } from '../../src/core/ports.js';
import { Migrator, sql } from 'kysely';
import {
  migrationsFor,
  openDatabase,
  openStore,
  type DatabaseOptions,
  type OpenDatabase,
  type OpenedStore,
} from '../../src/store/index.js';
import { TEST_MASTER_KEY } from '../fixtures/keys.js';
import type { StoreTarget } from './targets.js';

export const T0 = 1_763_900_000_000;
export const SUB = '6f7c1a52-93b1-4b8f-9d0a-6a1c2f6e0b11';

export const principal = (over: Partial<Principal> = {}): Principal => ({
  objectId: randomUUID(),
  appId: randomUUID(),
  tenantId: 'tenant-a',
  displayName: 'id1',
  type: 'ManagedIdentity',
  alternativeNames: [],
  enabled: true,
  createdAt: T0,
  updatedAt: T0,
  ...over,
});

export const resource = (id: string, over: Partial<Resource> = {}): Resource => {
  const parts = id.split('/');
  const rgIndex = parts.findIndex((p) => p.toLowerCase() === 'resourcegroups');
  return {
    id,
    type: 'Microsoft.Compute/virtualMachines',
    name: parts[parts.length - 1] ?? '',
    subscriptionId: SUB,
    resourceGroup: rgIndex >= 0 ? (parts[rgIndex + 1] ?? null) : null,
    location: 'westeurope',
    tags: {},
    properties: {},
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
};

export const vmId = (rg: string, name: string) =>
  `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachines/${name}`;

export const ownerRole: RoleDefinition = {
  id: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  roleName: 'Owner',
  type: 'BuiltInRole',
  description: 'Grants full access to manage all resources.',
  assignableScopes: ['/'],
  permissions: [{ actions: ['*'], notActions: [], dataActions: [], notDataActions: [] }],
  createdAt: T0,
  updatedAt: T0,
};

export const secret = (over: Partial<VaultSecretVersion> = {}): VaultSecretVersion => ({
  vaultId: 'demo-vault',
  name: 'db-password',
  version: randomUUID().replaceAll('-', ''),
  value: 'correct horse battery staple',
  contentType: null,
  tags: {},
  enabled: true,
  notBefore: null,
  expiresAt: null,
  createdAt: T0,
  updatedAt: T0,
  deletedAt: null,
  scheduledPurgeAt: null,
  ...over,
});

export async function expectAppError(promise: Promise<unknown>, code: string, status: number) {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe(code);
  expect((error as AppError).status).toBe(status);
}

/** A freshly migrated store on one backend, with tenant-a as its default tenant. */
export interface OpenedTarget {
  readonly options: DatabaseOptions;
  readonly store: Store;
  readonly raw: OpenDatabase;
  readonly firstApplied: readonly string[];
  close(): Promise<void>;
}

export async function openTarget(target: StoreTarget): Promise<OpenedTarget> {
  const created = await target.create();
  const opened = await openStore({ database: created.options, masterKey: TEST_MASTER_KEY });
  const raw = await openDatabase(created.options);
  await opened.store.tenants.create({
    id: 'tenant-a',
    displayName: 'A',
    isDefault: true,
    createdAt: T0,
  });
  return {
    options: created.options,
    store: opened.store,
    raw,
    firstApplied: opened.applied,
    close: async () => {
      await opened.store.close();
      await raw.db.destroy();
      await created.dispose();
    },
  };
}

/**
 * A fresh database on `target` migrated up to, not including, migration `next`, to write rows as
 * an older Tessera did (raw SQL on `db`); `upgrade` then opens the store, which runs the rest.
 */
export async function migratedBefore(
  target: StoreTarget,
  next: string,
): Promise<{
  readonly db: OpenDatabase['db'];
  upgrade(): Promise<OpenedStore>;
  close(): Promise<void>;
}> {
  const created = await target.create();
  const opened = await openDatabase(created.options);
  const { db, dialect, schema } = opened;
  const close = async (): Promise<void> => {
    await db.destroy();
    await created.dispose();
  };
  try {
    const before = Object.fromEntries(
      Object.entries(migrationsFor(dialect)).filter(([name]) => name < next),
    );
    if (schema !== undefined) await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
    const migrated = await new Migrator({
      db,
      provider: { getMigrations: () => Promise.resolve(before) },
      ...(schema === undefined ? {} : { migrationTableSchema: schema }),
    }).migrateToLatest();
    expect(migrated.error).toBeUndefined();
  } catch (error) {
    await close();
    throw error;
  }
  return {
    db,
    upgrade: () => openStore({ database: created.options, masterKey: TEST_MASTER_KEY }),
    close,
  };
}
