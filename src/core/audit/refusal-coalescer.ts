// Counts repeated refusals instead of storing one audit row each: the first is stored, then a count per window.
import type { AuditEvent, EpochMs } from '../model.js';

/** Options of {@link createRefusalCoalescer}. */
export interface RefusalCoalescerOptions {
  /** How long refusals of one key are counted before the count is written as one row. */
  readonly windowMs: number;
  /**
   * The most keys counted at once. Refusals of a key beyond it are counted together under one
   * overflow tally (rows with `details.overflow: true`), so memory stays bounded whatever
   * callers send.
   */
  readonly maxKeys: number;
}

/**
 * Refusal rows, fewer of them: each row stands for `details.count` refusals of one key, the
 * first at `details.firstAt` and the last at `details.lastAt` (ISO-8601), whose other fields
 * are those of the last one. The counts of a key's rows add up to its refusals.
 */
export interface RefusalCoalescer {
  /**
   * Counts refusal `event` (at `event.at`) under `key`. Returns the row to write now (the first
   * refusal of a key, count 1; or, once the key's window has passed, the count so far including
   * this one), or undefined when the refusal was only counted, to be written by {@link drain}.
   */
  admit(key: string, event: AuditEvent): AuditEvent | undefined;
  /**
   * The rows of every count whose window has ended at `now` (of every count at all with `all`,
   * on shutdown). A key counted in the ended window starts a new one; a quiet key is forgotten.
   */
  drain(now: EpochMs, all?: boolean): AuditEvent[];
  /** How many keys are being counted (the overflow tally not included). */
  readonly size: number;
}

interface Tally {
  windowEnd: EpochMs;
  /** Refusals counted since the last row was written. */
  count: number;
  firstAt: EpochMs;
  lastAt: EpochMs;
  /** The last refusal counted: the row reporting the count is this one, with the count. */
  latest: AuditEvent | undefined;
}

function counted(
  event: AuditEvent,
  count: number,
  firstAt: EpochMs,
  lastAt: EpochMs,
  overflow: boolean,
): AuditEvent {
  return {
    ...event,
    at: lastAt,
    details: {
      ...event.details,
      count,
      firstAt: new Date(firstAt).toISOString(),
      lastAt: new Date(lastAt).toISOString(),
      ...(overflow ? { overflow: true } : {}),
    },
  };
}

/** A {@link RefusalCoalescer}; time comes from each event's `at` and the caller's `now`. */
export function createRefusalCoalescer(options: RefusalCoalescerOptions): RefusalCoalescer {
  const { windowMs, maxKeys } = options;
  const tallies = new Map<string, Tally>();
  let overflow: Tally | undefined;

  const fresh = (now: EpochMs): Tally => ({
    windowEnd: now + windowMs,
    count: 0,
    firstAt: now,
    lastAt: now,
    latest: undefined,
  });

  function admitTo(tally: Tally, event: AuditEvent, isOverflow: boolean): AuditEvent | undefined {
    const now = event.at;
    if (now < tally.windowEnd) {
      if (tally.count === 0) tally.firstAt = now;
      tally.count += 1;
      tally.lastAt = now;
      tally.latest = event;
      return undefined;
    }
    // The window passed with no drain in between: this refusal carries the count with it.
    const row = counted(
      event,
      tally.count + 1,
      tally.count > 0 ? tally.firstAt : now,
      now,
      isOverflow,
    );
    Object.assign(tally, fresh(now));
    return row;
  }

  function report(tally: Tally, isOverflow: boolean): AuditEvent | undefined {
    return tally.latest === undefined || tally.count === 0
      ? undefined
      : counted(tally.latest, tally.count, tally.firstAt, tally.lastAt, isOverflow);
  }

  return {
    admit(key, event) {
      const tally = tallies.get(key);
      if (tally !== undefined) return admitTo(tally, event, false);
      if (tallies.size < maxKeys) {
        tallies.set(key, fresh(event.at));
        return counted(event, 1, event.at, event.at, false);
      }
      if (overflow !== undefined) return admitTo(overflow, event, true);
      overflow = fresh(event.at);
      return counted(event, 1, event.at, event.at, true);
    },

    drain(now, all = false) {
      const rows: AuditEvent[] = [];
      const settle = (tally: Tally, isOverflow: boolean): boolean => {
        if (!all && now < tally.windowEnd) return true;
        const row = report(tally, isOverflow);
        if (row === undefined || all) {
          if (row !== undefined) rows.push(row);
          return false;
        }
        rows.push(row);
        Object.assign(tally, fresh(now));
        return true;
      };
      for (const [key, tally] of tallies) {
        if (!settle(tally, false)) tallies.delete(key);
      }
      if (overflow !== undefined && !settle(overflow, true)) overflow = undefined;
      return rows;
    },

    get size() {
      return tallies.size;
    },
  };
}
