// Whole-file rewrites paced: one write at a time, changes that arrive meanwhile go out together.
/** A file rewritten whole on changes; see {@link createCoalescedWriter}. */
export interface CoalescedWriter {
  /** Something changed: write (now if idle, else after the write in progress and the gap). */
  request(): void;
  /** Writes what is pending without waiting out the gap; resolves when nothing is being written. */
  flush(): Promise<void>;
}

/**
 * Runs `write` for change requests, one write at a time, and at most one write per `gapMs` while
 * changes keep coming: the first change is written at once, those that arrive during a write or
 * the gap after it go out together in the next. The sealed key file holds every key, and keys
 * are certified hundreds a second when many identities arrive: one write per key made that
 * quadratic work and tens of MB of garbage. A failed write is reported and the next change
 * tries again.
 */
export function createCoalescedWriter(
  write: () => Promise<void>,
  onError: (error: unknown) => void,
  gapMs = 1000,
): CoalescedWriter {
  let dirty = false;
  let hurry = false;
  let running: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  // Read through a call: `request` sets it while a write is awaited.
  const changed = (): boolean => dirty;
  const pause = (): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        wake?.();
      }, gapMs);
      timer.unref();
      wake = () => {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      };
    });
  const run = async (): Promise<void> => {
    try {
      while (changed()) {
        dirty = false;
        await write();
        if (changed() && !hurry) await pause();
      }
    } catch (error) {
      onError(error);
    } finally {
      running = undefined;
    }
  };
  return {
    request() {
      dirty = true;
      running ??= run();
    },
    async flush() {
      hurry = true;
      try {
        wake?.();
        while (running !== undefined) await running;
      } finally {
        hurry = false;
      }
    },
  };
}
