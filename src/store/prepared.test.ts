import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from './index.js';
import { prepared } from './prepared.js';

describe('prepared()', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-prepared-'));
  let opened: Awaited<ReturnType<typeof openDatabase>>;
  beforeAll(async () => {
    opened = await openDatabase({ driver: 'sqlite', file: join(dir, 'p.db') });
    const { db } = opened;
    await sql`create table hosts (id text primary key, name text, created_at integer)`.execute(db);
    await sql`insert into hosts values ('a', 'host-a', 1), ('b', 'host-b', 1)`.execute(db);
  });
  afterAll(async () => {
    await opened.db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('compiles once and runs with each call’s values, constants kept, in a transaction too', async () => {
    const { db } = opened;
    const byIdAndName = prepared((d, id: string, name: string) =>
      d
        .selectFrom('hosts')
        .select(['id', 'name'])
        .where('id', '=', id)
        .where('name', '=', name)
        .where('created_at', '=', 1),
    );
    expect((await byIdAndName(db, 'a', 'host-a')).rows).toEqual([{ id: 'a', name: 'host-a' }]);
    expect((await byIdAndName(db, 'b', 'host-b')).rows).toEqual([{ id: 'b', name: 'host-b' }]);
    expect((await byIdAndName(db, 'a', 'host-b')).rows).toEqual([]);
    const inTransaction = await db
      .transaction()
      .execute(async (trx) => (await byIdAndName(trx, 'b', 'host-b')).rows);
    expect(inTransaction).toEqual([{ id: 'b', name: 'host-b' }]);
  });

  it('inserts numbers and nulls as given, and reports the rows it changed', async () => {
    const { db } = opened;
    const insert = prepared((d, id: string, name: string | null, createdAt: number) =>
      d.insertInto('hosts').values({ id, name, created_at: createdAt } as never),
    );
    expect((await insert(db, 'c', null, 7)).numAffectedRows).toBe(1n);
    const row = await db.selectFrom('hosts').selectAll().where('id', '=', 'c').executeTakeFirst();
    expect(row).toMatchObject({ id: 'c', name: null, created_at: 7 });
  });

  it('refuses a build that transforms its value', async () => {
    const { db } = opened;
    const upper = prepared((d, id: string) =>
      d.selectFrom('hosts').selectAll().where('id', '=', id.toUpperCase()),
    );
    await expect(upper(db, 'a')).rejects.toThrow('value 0 does not reach the compiled statement');
  });
});
