// Optimistic concurrency: a read-modify-write runs again when a concurrent writer got in first.
import { isAppError } from '../errors.js';

/** How many times a read-modify-write runs when concurrent writers keep getting in first. */
const WRITE_ATTEMPTS = 8;

/**
 * Runs a read-modify-write until no concurrent write got in between, so no update is lost.
 * `attempt` reads the resource, computes its new version and writes it with
 * `resources.put(next, { ifMatch: existing?.etag ?? null })`; the store's `PreconditionFailed`
 * (no `target`) means another writer landed first, and `attempt` runs again from the read.
 * A client's own failed `If-Match` (`checkPreconditions` of src/wire/arm, `target` set) is
 * not retried.
 */
export async function retryOnConflict<T>(attempt: () => Promise<T>): Promise<T> {
  for (let round = 1; ; round++) {
    try {
      return await attempt();
    } catch (error) {
      const lostRace =
        isAppError(error) && error.code === 'PreconditionFailed' && error.target === undefined;
      if (!lostRace || round >= WRITE_ATTEMPTS) throw error;
    }
  }
}
