// Wakes long-polling agent syncs: at once after a write here or a replica's notification, else by polling.
import type { ChangeFeed } from '../../core/ports.js';

/**
 * How often the feed is polled while anyone waits, for writes made by other replicas, when no
 * notification tells of them (SQLite's other processes, a PostgreSQL listener reconnecting).
 */
export const CHANGE_POLL_INTERVAL_MS = 1000;

/** What a waiter had seen when it last looked: see {@link ChangeSignal.wait}. */
export interface SeenChanges {
  /** The feed's `bounds().latest` the waiter's answer was computed from. */
  readonly latest: number;
  /** {@link ChangeSignal.generation} read before the waiter looked at the feed. */
  readonly generation: number;
}

/** The in-process "something changed" signal the agent API's long-poll waits on. */
export interface ChangeSignal {
  /** Grows with every {@link ChangeSignal.fire}; read it before reading the feed. */
  readonly generation: number;
  /** True once {@link ChangeSignal.close} was called. */
  readonly closed: boolean;
  /** Wakes every waiter now: a write has committed (here, or on a replica that notified). */
  fire(): void;
  /**
   * Resolves when {@link ChangeSignal.fire} has been called since `seen.generation`, when the
   * feed's latest sequence number passes `seen.latest` (polled every
   * {@link CHANGE_POLL_INTERVAL_MS} while anyone waits and no notifications arrive), after
   * `timeoutMs`, when `abort` fires or when the signal is closed, whichever comes first. Never
   * rejects.
   */
  wait(seen: SeenChanges, timeoutMs: number, abort?: AbortSignal): Promise<void>;
  /** Wakes every waiter and makes later waits resolve at once (the server is closing). */
  close(): void;
}

interface Waiter {
  readonly latest: number;
  readonly wake: () => void;
}

/**
 * Builds the signal over `feed`. The poll timer runs only while someone waits and never keeps
 * the process alive; a failed poll is reported to `onPollError` and tried again next tick. While
 * `notified()` is true, every replica's writes arrive as {@link ChangeSignal.fire} and ticks skip
 * the read (the notifier fires once more when it starts listening again, see core/replicas.ts).
 */
export function createChangeSignal(options: {
  readonly feed: Pick<ChangeFeed, 'bounds'>;
  readonly pollIntervalMs?: number;
  readonly onPollError?: (error: unknown) => void;
  readonly notified?: () => boolean;
}): ChangeSignal {
  const interval = options.pollIntervalMs ?? CHANGE_POLL_INTERVAL_MS;
  const waiters = new Set<Waiter>();
  let generation = 0;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let polling = false;

  const wakeAll = (): void => {
    for (const waiter of [...waiters]) waiter.wake();
  };

  const stopWhenIdle = (): void => {
    if (waiters.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  async function poll(): Promise<void> {
    if (polling || options.notified?.() === true) return;
    polling = true;
    try {
      const { latest } = await options.feed.bounds();
      for (const waiter of [...waiters]) if (latest > waiter.latest) waiter.wake();
    } catch (error) {
      options.onPollError?.(error);
    } finally {
      polling = false;
    }
  }

  return {
    get generation() {
      return generation;
    },
    get closed() {
      return closed;
    },
    fire() {
      generation += 1;
      wakeAll();
    },
    wait(seen, timeoutMs, abort) {
      if (closed || abort?.aborted === true || timeoutMs <= 0 || seen.generation !== generation) {
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        let timeout: NodeJS.Timeout | undefined = undefined;
        const waiter: Waiter = {
          latest: seen.latest,
          wake: () => {
            if (!waiters.delete(waiter)) return;
            clearTimeout(timeout);
            abort?.removeEventListener('abort', waiter.wake);
            stopWhenIdle();
            resolve();
          },
        };
        waiters.add(waiter);
        timeout = setTimeout(waiter.wake, timeoutMs);
        abort?.addEventListener('abort', waiter.wake, { once: true });
        if (timer === undefined) {
          timer = setInterval(() => void poll(), interval);
          timer.unref();
        }
      });
    },
    close() {
      closed = true;
      wakeAll();
    },
  };
}
