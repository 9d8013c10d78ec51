// Hot statements built and compiled once per dialect: Kysely builds and compiles a query's tree on every call.
import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';
import type { Database } from './schema.js';

type Executor = Kysely<Database>;

/** A compiled statement and, for each of its parameters, which argument fills it (if any). */
interface Compiled<R> {
  readonly query: CompiledQuery<R>;
  readonly slots: readonly (number | undefined)[];
}

/**
 * A statement of fixed shape whose values change from call to call, compiled on first use on a
 * dialect and then run with each call's values, on the database or inside a transaction alike.
 * Building and compiling a Kysely query (an immutable tree, then a visitor writing SQL) costs
 * more CPU than SQLite's point read itself, and a token mint makes several reads and two writes;
 * the same text also hits the driver's statement cache (sqlite-dialect.ts) without being rebuilt.
 *
 * `build` is called once per dialect with placeholder strings for the values and must pass each
 * one to the query as an opaque value (a comparison operand, an inserted value); anything that
 * looks at or transforms it (`keyOf`, say) is for the caller to apply first. Every placeholder
 * must come out as a parameter of the compiled statement, or the first call throws.
 */
export function prepared<A extends readonly unknown[], R>(
  build: (db: Executor, ...values: A) => Compilable<R>,
): (db: Executor, ...values: A) => Promise<QueryResult<R>> {
  // By adapter: a transaction shares its database's adapter, so one compilation serves both.
  const byDialect = new WeakMap<object, Compiled<R>>();
  return async (db, ...values) => {
    const { adapter } = db.getExecutor();
    let compiled = byDialect.get(adapter);
    if (compiled === undefined) {
      compiled = compile(db, build, values.length);
      byDialect.set(adapter, compiled);
    }
    const { query, slots } = compiled;
    const parameters = query.parameters.map((value, i) => {
      const slot = slots[i];
      return slot === undefined ? value : values[slot];
    });
    return db.executeQuery<R>({ ...query, parameters });
  };
}

const MARKER = '\u0000tessera-prepared:';

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- A is the caller's value types, stood in for by strings
function compile<A extends readonly unknown[], R>(
  db: Executor,
  build: (db: Executor, ...values: A) => Compilable<R>,
  arity: number,
): Compiled<R> {
  const placeholders = Array.from({ length: arity }, (_, i) => `${MARKER}${i}`);
  // The placeholders stand in for values of any type: `build` only passes them through.
  const query = build(db, ...(placeholders as unknown as A)).compile();
  const slots = query.parameters.map((value) => {
    const i = typeof value === 'string' ? placeholders.indexOf(value) : -1;
    return i === -1 ? undefined : i;
  });
  for (let i = 0; i < arity; i++) {
    if (!slots.includes(i)) {
      throw new Error(`prepared(): value ${i} does not reach the compiled statement unchanged.`);
    }
  }
  return { query, slots };
}
