// Group commit for the token issuer: issues that arrive together share one transaction.
import type { AuditEvent } from '../core/model.js';
import type { IssueLedger, ReplayClaim, Store } from '../core/ports.js';

interface Pending {
  readonly event: AuditEvent;
  readonly replay: ReplayClaim | undefined;
  readonly at: number;
  resolve(recorded: boolean): void;
  reject(error: unknown): void;
}

/** The most issues one transaction records; more wait for the next. */
const MAX_BATCH = 256;

/**
 * An {@link IssueLedger} that queues each issue and, once the current turn of the event loop is
 * done, records every queued issue in one transaction: one commit (one WAL append on SQLite, one
 * round trip of COMMIT on PostgreSQL) for many tokens. Each caller learns its own outcome; a
 * replay writes nothing for that caller and does not affect the others. If the transaction fails
 * every caller in it gets the error, and nothing of the batch is written.
 */
export function createGroupCommitLedger(store: () => Store): IssueLedger {
  let queue: Pending[] = [];
  let flushing = false;

  async function flush(): Promise<void> {
    flushing = true;
    while (queue.length > 0) {
      const batch = queue.slice(0, MAX_BATCH);
      queue = queue.slice(MAX_BATCH);
      try {
        const outcomes = await store().transaction(async (tx) => {
          const results: boolean[] = [];
          for (const item of batch) {
            const fresh =
              item.replay === undefined ||
              (await tx.assertionReplay.claim(
                item.replay.clientId,
                item.replay.jti,
                item.replay.expiresAt,
                item.at,
              ));
            if (fresh) await tx.audit.append(item.event);
            results.push(fresh);
          }
          return results;
        });
        batch.forEach((item, i) => {
          item.resolve(outcomes[i] ?? false);
        });
      } catch (error) {
        for (const item of batch) item.reject(error);
      }
    }
    flushing = false;
  }

  return {
    recordIssue(event, replay, at) {
      return new Promise<boolean>((resolve, reject) => {
        queue.push({ event, replay, at, resolve, reject });
        if (!flushing && queue.length === 1) setImmediate(() => void flush());
      });
    },
  };
}
