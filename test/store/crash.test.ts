// Crash safety: SIGKILL mid-transaction leaves all or nothing; replicas migrate at once cleanly.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DatabaseOptions, openDatabase } from '../../src/store/index.js';
import { CRASH_TENANT, ROWS } from './crash-constants.js';
import { storeTargets } from './targets.js';

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));

interface Child {
  readonly process: ChildProcessWithoutNullStreams;
  /** Resolves when the child prints `line`; rejects if it exits first. */
  waitFor(line: string): Promise<void>;
  /** Resolves with the exit code (or the signal) when the child ends. */
  readonly exited: Promise<number | NodeJS.Signals>;
}

function startChild(options: DatabaseOptions, mode: 'migrate' | 'mid' | 'done'): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(options), mode], {
    stdio: 'pipe',
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = once(child, 'exit').then(([code, signal]) => {
    // A failing child's own words are the best clue to why; show them with the failed test.
    if (code !== 0 && code !== null) process.stderr.write(`crash child (${mode}): ${stderr}\n`);
    return code === null ? (signal as NodeJS.Signals) : (code as number);
  });
  return {
    process: child,
    exited,
    waitFor: (line) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (stdout.split('\n').includes(line)) resolve();
        };
        child.stdout.on('data', check);
        check();
        void exited.then((how) => {
          reject(new Error(`child exited (${String(how)}) before "${line}": ${stderr}`));
        });
      }),
  };
}

async function counts(options: DatabaseOptions): Promise<{ tenants: number; principals: number }> {
  const { db } = await openDatabase(options);
  try {
    const tenants = await db
      .selectFrom('tenants')
      .select(sql<number | string>`count(*)`.as('n'))
      .where('id', '=', CRASH_TENANT)
      .executeTakeFirstOrThrow();
    const principals = await db
      .selectFrom('principals')
      .select(sql<number | string>`count(*)`.as('n'))
      .where('tenant_id', '=', CRASH_TENANT)
      .executeTakeFirstOrThrow();
    return { tenants: Number(tenants.n), principals: Number(principals.n) };
  } finally {
    await db.destroy();
  }
}

describe.each(storeTargets())('crash safety on $name', (target) => {
  let options: DatabaseOptions;
  let dispose: () => Promise<void>;
  const children: Child[] = [];

  beforeEach(async () => {
    const created = await target.create();
    options = created.options;
    dispose = () => created.dispose();
  });

  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.process.kill('SIGKILL');
      await child.exited;
    }
    await dispose();
  });

  const run = (mode: 'migrate' | 'mid' | 'done'): Child => {
    const child = startChild(options, mode);
    children.push(child);
    return child;
  };

  it('processes migrating a fresh database at once both start cleanly', async () => {
    // Four racers, not two: more chances for a missing lock to show.
    const racers = Array.from({ length: 4 }, () => run('migrate'));
    expect(await Promise.all(racers.map((r) => r.exited))).toEqual([0, 0, 0, 0]);
    // and a later start finds nothing left to do
    expect(await run('migrate').exited).toBe(0);
    expect(await counts(options)).toEqual({ tenants: 0, principals: 0 });
  });

  it('SIGKILL in the middle of a transaction leaves none of it', async () => {
    const child = run('mid');
    await child.waitFor('MID');
    child.process.kill('SIGKILL');
    expect(await child.exited).toBe('SIGKILL');
    expect(await counts(options)).toEqual({ tenants: 0, principals: 0 });
  });

  it('SIGKILL after commit leaves all of it', async () => {
    const child = run('done');
    await child.waitFor('DONE');
    child.process.kill('SIGKILL');
    expect(await child.exited).toBe('SIGKILL');
    expect(await counts(options)).toEqual({ tenants: 1, principals: ROWS });
  });
});
