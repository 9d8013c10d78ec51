// The agent's time source: the current time and timers, injected so tests can move time by hand.
import { systemClock } from '../core/clock.js';
import type { Clock } from '../core/ports.js';

/** Cancels a timer made by {@link AgentClock.setTimer}; calling it twice is harmless. */
export type CancelTimer = () => void;

/**
 * The current time plus timers. Every schedule the agent keeps (renewals, refreshes, backoff)
 * goes through this, never through the global `setTimeout`.
 */
export interface AgentClock extends Clock {
  /** Calls `callback` once after `delayMs` (clamped to 0 or more). Never keeps a process alive. */
  setTimer(callback: () => void, delayMs: number): CancelTimer;
}

/** Node's longest `setTimeout` delay; longer schedules re-arm until they are due. */
const MAX_TIMER_MS = 2_147_483_647;

/** The system clock (core's {@link systemClock}) with unreferenced `setTimeout`s. */
export const systemAgentClock: AgentClock = {
  now: () => systemClock.now(),
  setTimer(callback, delayMs) {
    const due = systemClock.now() + Math.max(0, delayMs);
    let handle: NodeJS.Timeout | undefined;
    const arm = (): void => {
      const left = due - systemClock.now();
      handle = setTimeout(
        left > MAX_TIMER_MS ? arm : callback,
        Math.min(Math.max(0, left), MAX_TIMER_MS),
      );
      handle.unref();
    };
    arm();
    return () => {
      if (handle !== undefined) clearTimeout(handle);
    };
  },
};

/** An {@link AgentClock} whose time moves only when told: for tests. */
export interface ManualClock extends AgentClock {
  /** Moves time forward by `ms`, firing due timers in order, and lets their promises settle. */
  advance(ms: number): Promise<void>;
  /** How many timers are waiting. */
  pending(): number;
}

/**
 * Makes a {@link ManualClock} starting at `start` (epoch ms). Timers due at the same instant fire
 * in the order they were set; a timer set by a firing timer with no delay fires in the same
 * {@link ManualClock.advance}.
 */
export function createManualClock(start = Date.UTC(2030, 0, 1)): ManualClock {
  let now = start;
  let seq = 0;
  const timers = new Map<number, { due: number; callback: () => void }>();
  const settle = async (): Promise<void> => {
    // Several turns of the microtask and macrotask queues, so chains of awaits complete.
    for (let i = 0; i < 5; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
  };
  return {
    now: () => now,
    setTimer(callback, delayMs) {
      const id = (seq += 1);
      timers.set(id, { due: now + Math.max(0, delayMs), callback });
      return () => {
        timers.delete(id);
      };
    },
    pending: () => timers.size,
    async advance(ms) {
      const target = now + ms;
      await settle();
      for (;;) {
        let nextId: number | undefined;
        let next: { due: number; callback: () => void } | undefined;
        for (const [id, timer] of timers) {
          if (timer.due <= target && (next === undefined || timer.due < next.due)) {
            nextId = id;
            next = timer;
          }
        }
        if (nextId === undefined || next === undefined) break;
        timers.delete(nextId);
        now = Math.max(now, next.due);
        next.callback();
        await settle();
      }
      now = target;
      await settle();
    },
  };
}

/** The shape of a jittered exponential backoff. */
export interface Backoff {
  /** The first delay. */
  readonly initialMs: number;
  /** The longest delay (before jitter). */
  readonly maxMs: number;
}

/**
 * The delay before retry number `attempt` (0 for the first): `initialMs` doubling up to `maxMs`,
 * then spread by ±50% with `random` (in [0, 1)) so that many agents do not retry in step.
 */
export function backoffDelay(attempt: number, backoff: Backoff, random: () => number): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (0.5 + random()));
}

/** Resolves after `delayMs` on `clock`, or at once when `signal` is aborted. */
export function sleep(clock: AgentClock, delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) {
      resolve();
      return;
    }
    const done = (): void => {
      cancel();
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const cancel = clock.setTimer(done, delayMs);
    signal?.addEventListener('abort', done, { once: true });
  });
}
