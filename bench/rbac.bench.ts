// RBAC access check (the evaluator over the store, 100,000 assignments on 10,000 scopes) against a
// bare Kysely point read, on SQLite and on PostgreSQL. Rows are seeded in batches of 1,000 in one
// transaction; subject and baseline run in interleaved repetitions (see measurePair).
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BUILT_IN_ROLE_IDS,
  createRbacEvaluator,
  seedBuiltInRoles,
} from '../src/core/rbac/index.js';
import { openDatabase, openStore } from '../src/store/index.js';
import type { RoleAssignmentsTable } from '../src/store/schema.js';
import { type BackendKind, BACKENDS, NO_POSTGRES, openBackend } from './backends.js';
import { type Benchmark, measurePair } from './harness.js';

// 10 subscriptions + 990 groups + 9,000 resources = 10,000 scopes in the full run.
const FULL = {
  assignments: 100_000,
  subscriptions: 10,
  groupsPerSub: 99,
  resources: 9_000,
  principals: 10_000,
};
const SMOKE = {
  assignments: 2_000,
  subscriptions: 2,
  groupsPerSub: 9,
  resources: 100,
  principals: 200,
};
const BATCH = 1_000;
const TARGET_P99_MS = 1;

const ROLE_IDS = Object.values(BUILT_IN_ROLE_IDS);
const RESOURCE_TYPES = [
  'Microsoft.Compute/virtualMachines',
  'Microsoft.KeyVault/vaults',
  'Microsoft.ManagedIdentity/userAssignedIdentities',
  'Microsoft.Storage/storageAccounts',
];
const CHECKS: { action: string; dataAction: boolean }[] = [
  { action: 'Microsoft.Compute/virtualMachines/read', dataAction: false },
  { action: 'Microsoft.Compute/virtualMachines/write', dataAction: false },
  { action: 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action', dataAction: false },
  { action: 'Microsoft.Authorization/roleAssignments/write', dataAction: false },
  { action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action', dataAction: true },
  {
    action: 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read',
    dataAction: true,
  },
];

/** A small seeded generator, so every run checks the same triples. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rbacBenchmark = (kind: BackendKind): Benchmark => ({
  name: `rbac: access check, 100k assignments on 10k scopes (${kind})`,
  async run(options) {
    const size = options.smoke ? SMOKE : FULL;
    const rand = random(42);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;

    const subs = Array.from({ length: size.subscriptions }, () => `/subscriptions/${randomUUID()}`);
    const groups = subs.flatMap((s) =>
      Array.from({ length: size.groupsPerSub }, (_, i) => `${s}/resourceGroups/rg-${i}`),
    );
    const resources = Array.from(
      { length: size.resources },
      (_, i) =>
        `${groups[i % groups.length] ?? ''}/providers/${RESOURCE_TYPES[i % RESOURCE_TYPES.length] ?? ''}/res-${i}`,
    );
    const principals = Array.from({ length: size.principals }, () => randomUUID());
    // Assignments sit mostly on resources, some on groups, a few on subscriptions.
    const scopeFor = () => {
      const r = rand();
      return r < 0.05 ? pick(subs) : r < 0.35 ? pick(groups) : pick(resources);
    };

    const dir = await mkdtemp(join(tmpdir(), 'tessera-bench-'));
    const backend = await openBackend(kind, dir);
    if (backend === undefined) {
      await rm(dir, { recursive: true, force: true });
      return { name: this.name, skipped: NO_POSTGRES };
    }
    const { database } = backend;
    const { store } = await openStore({ database, masterKey: Buffer.alloc(32, 1) });
    const raw = await openDatabase(database);
    try {
      await seedBuiltInRoles(store, 0);
      const seedStart = performance.now();
      const seen = new Set<string>();
      const rows: RoleAssignmentsTable[] = [];
      while (rows.length < size.assignments) {
        const principalId = pick(principals);
        const scope = scopeFor();
        const role = pick(ROLE_IDS);
        const unique = `${principalId} ${role} ${scope}`;
        if (seen.has(unique)) continue;
        seen.add(unique);
        rows.push({
          id: randomUUID(),
          scope,
          scope_key: scope.toLowerCase(),
          role_definition_id: role,
          principal_id: principalId,
          principal_type: 'ServicePrincipal',
          created_at: 0,
          created_by: null,
        });
      }
      await raw.db.transaction().execute(async (trx) => {
        for (let i = 0; i < rows.length; i += BATCH) {
          await trx
            .insertInto('role_assignments')
            .values(rows.slice(i, i + BATCH))
            .execute();
        }
      });
      const seedMs = performance.now() - seedStart;

      // Checks on resources and their children, so each reads four or five ancestor scopes. Half
      // are for a principal with an assignment at or above the target (most of those then match
      // roles), half for any principal (mostly nothing to find).
      const under = new Map<string, string[]>();
      for (const r of resources) {
        const group = r.slice(0, r.indexOf('/providers/'));
        const sub = group.slice(0, group.indexOf('/resourceGroups/'));
        for (const above of [group, sub]) {
          const list = under.get(above) ?? [];
          list.push(r);
          under.set(above, list);
        }
      }
      const below = (scope: string) => under.get(scope) ?? [];
      const triples = Array.from({ length: 10_000 }, () => {
        const row = rand() < 0.5 ? pick(rows) : undefined;
        const candidates = row === undefined ? [] : below(row.scope);
        const resource =
          row === undefined
            ? pick(resources)
            : candidates.length > 0
              ? pick(candidates)
              : row.scope;
        return {
          principalId: row?.principal_id ?? pick(principals),
          scope: rand() < 0.2 ? `${resource}/extensions/child` : resource,
          ...pick(CHECKS),
        };
      });
      const ids = rows.map((r) => r.id);
      let i = 0;
      let j = 0;
      const nextTriple = () => triples[i++ % triples.length] ?? triples[0]!;
      const nextId = () => ids[j++ % ids.length] ?? '';

      const rbac = createRbacEvaluator({ store, clock: { now: () => Date.now() } });
      let allowed = 0;
      for (const t of triples) if ((await rbac.check(t)).allowed) allowed++;

      const { subject, baseline } = await measurePair(
        () => rbac.check(nextTriple()),
        () =>
          raw.db
            .selectFrom('role_assignments')
            .selectAll()
            .where('id', '=', nextId())
            .executeTakeFirst(),
        options,
      );

      const scopes = subs.length + groups.length + resources.length;
      process.stderr.write(
        `rbac (${kind}): seeded ${rows.length} assignments on ${scopes} scopes for ${principals.length} principals in ${(seedMs / 1000).toFixed(1)} s; ` +
          `${((100 * allowed) / triples.length).toFixed(1)}% of checks allowed\n` +
          `rbac (${kind}): check p50 ${subject.p50Ms.toFixed(3)} ms, p99 ${subject.p99Ms.toFixed(3)} ms ` +
          `(DESIGN.md target p99 < ${TARGET_P99_MS} ms: ${subject.p99Ms < TARGET_P99_MS ? 'met' : 'MISSED'})\n`,
      );
      return {
        name: this.name,
        subject,
        baselineName: 'bare Kysely point read',
        baseline,
        // A check parses the scope, reads the principal's assignments at every ancestor scope
        // (an IN query, several index seeks) and matches roles: a few point reads' worth. The
        // target that matters is absolute (p99 under 1 ms, printed above); this ratio only
        // guards against the check growing far costlier than a read.
        targetRatio: 0.25,
        absoluteTargets: [{ name: 'p99', value: subject.p99Ms, unit: 'ms', below: TARGET_P99_MS }],
      };
    } finally {
      await store.close();
      await raw.db.destroy();
      await backend.drop();
      await rm(dir, { recursive: true, force: true });
    }
  },
});

export const benchmarks: readonly Benchmark[] = BACKENDS.map(rbacBenchmark);
