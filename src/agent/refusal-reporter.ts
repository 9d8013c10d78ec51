// Batches IMDS refusals (unknown callers) and reports them to the server's audit log.
import type { Logger } from '../config/logger.js';
import { REFUSALS_MAX_ENTRIES, type ReportedRefusal } from '../wire/agent-api.js';
import type { AgentClock, CancelTimer } from './clock.js';
import { isTransient, type ServerClient } from './server-client.js';

/** Options of {@link createRefusalReporter}. */
export interface RefusalReporterOptions {
  readonly client: Pick<ServerClient, 'reportRefusals'>;
  readonly clock: AgentClock;
  readonly logger: Logger;
  /** How long a refusal waits for others before the batch is sent. Default 2 s. */
  readonly intervalMs?: number | undefined;
  /** The wait before sending again after the server could not be reached. Default 15 s. */
  readonly retryMs?: number | undefined;
  /** Distinct (address, reason) pairs held at most; beyond, refusals are counted as dropped. Default 4096. */
  readonly maxPending?: number | undefined;
}

/** Collects refusals and sends them in batches; never throws at the caller. */
export interface RefusalReporter {
  /** Counts one refusal (the IMDS hot path for unknown callers: a map update, nothing more). */
  record(address: string, reason: string): void;
  /** Sends everything pending now (the timer does this on its own). */
  flush(): Promise<void>;
  /** Stops the timer and sends what is pending, once (not when the server was unreachable). */
  stop(): Promise<void>;
  /** Distinct (address, reason) pairs waiting to be sent. */
  pending(): number;
}

interface Entry {
  address: string;
  reason: string;
  count: number;
  firstAt: number;
  lastAt: number;
}

/**
 * Makes the reporter. The first refusal after a quiet spell arms one timer; when it fires, every
 * pending entry is sent (in calls of at most {@link REFUSALS_MAX_ENTRIES}). While the server is
 * unreachable the entries are kept, merged with later ones (a flood from one address stays one
 * entry with a growing count) and sent again after `retryMs`; a refusal the server will not take (4xx) is logged and dropped.
 */
export function createRefusalReporter(options: RefusalReporterOptions): RefusalReporter {
  const { client, clock, logger } = options;
  const intervalMs = options.intervalMs ?? 2_000;
  const retryMs = options.retryMs ?? 15_000;
  const maxPending = options.maxPending ?? 4096;
  let pending = new Map<string, Entry>();
  let dropped = 0;
  let cancel: CancelTimer | undefined;
  let sending: Promise<void> | undefined;
  let stopped = false;
  /** The last send could not reach the server. */
  let failing = false;

  const merge = (entry: Entry): void => {
    const key = `${entry.address}\n${entry.reason}`;
    const held = pending.get(key);
    if (held !== undefined) {
      held.count += entry.count;
      held.firstAt = Math.min(held.firstAt, entry.firstAt);
      held.lastAt = Math.max(held.lastAt, entry.lastAt);
    } else if (pending.size < maxPending) {
      pending.set(key, entry);
    } else {
      dropped += entry.count;
    }
  };

  const arm = (): void => {
    if (cancel !== undefined || stopped || pending.size === 0) return;
    cancel = clock.setTimer(
      () => {
        cancel = undefined;
        void flush();
      },
      failing ? retryMs : intervalMs,
    );
  };

  const send = async (): Promise<void> => {
    const batch = [...pending.values()];
    pending = new Map();
    if (dropped > 0) {
      logger.warn({ dropped }, 'IMDS refusals not reported: too many distinct callers');
      dropped = 0;
    }
    failing = false;
    for (let i = 0; i < batch.length; i += REFUSALS_MAX_ENTRIES) {
      const chunk: ReportedRefusal[] = batch.slice(i, i + REFUSALS_MAX_ENTRIES);
      try {
        await client.reportRefusals({ refusals: chunk });
      } catch (error) {
        if (isTransient(error)) {
          // Kept for the next attempt, with whatever was refused meanwhile.
          for (const entry of batch.slice(i)) merge(entry);
          failing = true;
          return;
        }
        logger.warn({ err: error, entries: chunk.length }, 'the server refused IMDS refusals');
      }
    }
  };

  const flush = async (): Promise<void> => {
    if (sending !== undefined) return sending;
    if (pending.size === 0) return;
    sending = send().finally(() => {
      sending = undefined;
      arm();
    });
    return sending;
  };

  return {
    record(address, reason) {
      const now = clock.now();
      merge({ address, reason, count: 1, firstAt: now, lastAt: now });
      arm();
    },
    flush,
    async stop() {
      stopped = true;
      cancel?.();
      cancel = undefined;
      await sending;
      if (!failing) await flush();
    },
    pending: () => pending.size,
  };
}
