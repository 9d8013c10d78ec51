// `tessera up --reset`: empties a Tessera data directory (and Tessera's PostgreSQL tables), refusing anything else.
import { existsSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import { sql } from 'kysely';
import type { TesseraConfig } from '../config/index.js';
import { configInvalid, isAppError } from '../core/errors.js';
import {
  databaseOptionsFrom,
  lockSqliteServer,
  openDatabase,
  serverLockFileOf,
} from '../store/index.js';
import type { Database } from '../store/schema.js';

/** Every table the migrations create; a table added to the schema must be added here to compile. */
const STORE_TABLES: Readonly<Record<keyof Database, true>> = {
  tenants: true,
  principals: true,
  credentials: true,
  resources: true,
  identity_attachments: true,
  compute_changes: true,
  role_definitions: true,
  role_assignments: true,
  signing_keys: true,
  certificate_authorities: true,
  assertion_replay: true,
  hosts: true,
  vault_secrets: true,
  audit_events: true,
  activity_events: true,
  installation: true,
};
/** Kysely's own bookkeeping tables, which the migrator creates beside them. */
const MIGRATION_TABLES = ['kysely_migration', 'kysely_migration_lock'];
const TESSERA_TABLES = new Set([...Object.keys(STORE_TABLES), ...MIGRATION_TABLES]);
/** The first migration: its record proves the schema was made by Tessera. */
const FIRST_MIGRATION = '0001-initial';

const refuse = (message: string): Error =>
  configInvalid(`invalid configuration: --reset ${message}`);

/** True when `path` is `dir` itself or lies under it. */
function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * The data directory's entries, or undefined when it does not exist. Refuses (`ConfigInvalid`)
 * unless it looks like Tessera's: empty (but for `kept`), or holding `master.key`, `tessera.db`, or both
 * `admin.json` and `admin.secret` (what a data directory on PostgreSQL with a configured master
 * key holds).
 */
async function dataDirEntries(
  dir: string,
  kept: ReadonlySet<string>,
): Promise<string[] | undefined> {
  let entries: string[];
  try {
    if (!(await stat(dir)).isDirectory()) throw refuse(`refused: ${dir} is not a directory`);
    entries = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const has = (name: string): boolean => entries.includes(name);
  const tessera =
    entries.every((name) => kept.has(name)) ||
    has('master.key') ||
    has('tessera.db') ||
    (has('admin.json') && has('admin.secret'));
  if (!tessera) {
    throw refuse(
      `refused: ${dir} does not look like a Tessera data directory (no master.key or tessera.db, and not empty); nothing was deleted`,
    );
  }
  return entries;
}

/**
 * Drops Tessera's tables from its PostgreSQL schema, under the migrations' advisory lock so no
 * replica migrates meanwhile. Refuses (`ConfigInvalid`, nothing dropped) when the schema holds
 * any other table or view, or has no record of Tessera's first migration: only a schema Tessera
 * made and owns alone is emptied. One `DROP TABLE` of them all, without CASCADE, so an object
 * elsewhere that depends on them makes it fail rather than go too.
 */
async function resetPostgres(config: TesseraConfig): Promise<string> {
  const { db, schema = 'public' } = await openDatabase(databaseOptionsFrom(config));
  try {
    return await db.connection().execute(async (conn) => {
      const lock = `tessera:migrate:${schema}`;
      await sql`select pg_advisory_lock(hashtext(${lock}))`.execute(conn);
      try {
        const { rows } = await sql<{ name: string }>`
          select table_name as name from information_schema.tables
          where table_schema = ${schema} order by table_name`.execute(conn);
        const names = rows.map((row) => row.name);
        if (names.length === 0) return `PostgreSQL schema ${schema}: no tables`;
        const foreign = names.filter((name) => !TESSERA_TABLES.has(name));
        if (foreign.length > 0) {
          throw refuse(
            `refused: PostgreSQL schema ${schema} also holds ${foreign.join(', ')}; give Tessera a schema of its own (store.postgres.schema); nothing was deleted`,
          );
        }
        const migrated =
          names.includes('kysely_migration') &&
          (
            await sql<{ name: string }>`
              select name from ${sql.table(`${schema}.kysely_migration`)}
              where name = ${FIRST_MIGRATION}`.execute(conn)
          ).rows.length > 0;
        if (!migrated) {
          throw refuse(
            `refused: PostgreSQL schema ${schema} has no record of Tessera's migrations; nothing was deleted`,
          );
        }
        const tables = names.map((name) => sql.table(`${schema}.${name}`));
        await sql`drop table ${sql.join(tables)}`.execute(conn);
        return `${names.length} table(s) of PostgreSQL schema ${schema}`;
      } finally {
        await sql`select pg_advisory_unlock(hashtext(${lock}))`.execute(conn);
      }
    });
  } finally {
    await db.destroy();
  }
}

/** Refuses while a server holds the SQLite database's lock: its files would go from under it. */
function refuseWhileServed(file: string): void {
  if (!existsSync(serverLockFileOf(file))) return;
  try {
    lockSqliteServer(file).release();
  } catch (error) {
    if (!isAppError(error)) throw error;
    throw refuse(
      `refused: a Tessera server is serving ${file}; stop it first; nothing was deleted`,
    );
  }
}

/**
 * Makes `tessera up` start clean: deletes the data directory's contents, except files the
 * configuration names (its file, TLS files) when they lie in it, and on PostgreSQL drops
 * Tessera's tables. Everything is checked before anything is deleted; a refusal is a
 * `ConfigInvalid` error (one line, exit status 2). Returns what was removed, for stderr.
 */
export async function resetForUp(
  config: TesseraConfig,
  configFile: string | undefined,
): Promise<string> {
  const dir = resolve(config.dataDir);
  const postgres = config.store.driver === 'postgres';
  if (!postgres && !isInside(dir, resolve(config.store.sqlite.file))) {
    throw refuse(
      `refused: the database ${config.store.sqlite.file} is outside ${dir}; remove it yourself; nothing was deleted`,
    );
  }
  const named = [configFile, config.server.tls.certFile, config.server.tls.keyFile];
  const kept = new Set(
    named
      .filter((file): file is string => file !== undefined && isInside(dir, resolve(file)))
      .map((file) => relative(dir, resolve(file)).split(sep)[0] ?? ''),
  );
  const entries = await dataDirEntries(dir, kept);
  if (!postgres) refuseWhileServed(config.store.sqlite.file);
  const dropped = postgres ? await resetPostgres(config) : undefined;
  const removed = (entries ?? []).filter((name) => !kept.has(name)).sort();
  for (const name of removed) await rm(join(dir, name), { recursive: true, force: true });
  const parts = [
    entries === undefined
      ? `${dir} did not exist`
      : `${dir}: ${removed.length === 0 ? 'nothing' : removed.join(', ')}`,
    ...(kept.size > 0 ? [`kept ${[...kept].join(', ')} (named by the configuration)`] : []),
    ...(dropped === undefined ? [] : [`dropped ${dropped}`]),
  ];
  return `tessera up: --reset removed ${parts.join('; ')}\n`;
}

/** Adds `--reset` to `tessera up`, with what it deletes and what it refuses in `--help`. */
export function addResetFlag(command: Command): Command {
  return command
    .option('--reset', 'start clean: delete the data directory and the database first')
    .addHelpText(
      'after',
      [
        '',
        "--reset deletes the data directory's contents (master key, database, CA, agent state,",
        'admin credentials) before starting, and says on stderr what it removed. It refuses',
        "(exit 2, nothing deleted) a directory that does not look like Tessera's: one without",
        'master.key or tessera.db that is not empty, or a database file (store.sqlite.file)',
        'outside the data directory. With store.driver=postgres it also drops',
        "Tessera's tables, and only when the schema (store.postgres.schema) holds nothing but",
        "them and records Tessera's migrations; a schema shared with other tables is refused.",
        'Stop every other process using that database first.',
        '',
      ].join('\n'),
    );
}
