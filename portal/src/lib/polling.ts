// A React hook that polls a log for entries newer than the newest seen and merges them in.
import { useEffect, useState } from 'react';
import { describeError } from '../api/http.js';
import { mergeEvents } from './buckets.js';

/** What a poll brought: the entries to show and the newest time it saw (ISO), if any. */
export interface PollResult<T> {
  readonly events: readonly T[];
  readonly newest: string | undefined;
}

/** The entries seen so far (newest first), the last poll's error, and when a poll last succeeded. */
export interface Polled<T> {
  readonly events: T[];
  readonly error: string | undefined;
  /** ISO time of the last successful poll; empty before the first. */
  readonly updated: string;
}

/**
 * Calls `poll(since)` now and `everyMs` after each answer, `since` starting `backMs` ago and
 * moving to the newest time seen, and merges what it brings (by `id`, newest first, at most
 * `keep`). A failed poll keeps what was seen and reports its error until one succeeds. Memoise
 * `poll` (useCallback): a new one starts again `backMs` ago but keeps the entries seen, so a
 * component whose source changes (another subscription) is mounted afresh (`key`) instead.
 */
export function usePolledEvents<T extends { readonly id: string; readonly time: string }>(
  poll: (since: string) => Promise<PollResult<T>>,
  options: { readonly everyMs: number; readonly keep: number; readonly backMs: number },
): Polled<T> {
  const { everyMs, keep, backMs } = options;
  const [state, setState] = useState<Polled<T>>({ events: [], error: undefined, updated: '' });
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let since = new Date(Date.now() - backMs).toISOString();
    const tick = async (): Promise<void> => {
      try {
        const fresh = await poll(since);
        if (!live) return;
        if (fresh.newest !== undefined && fresh.newest > since) since = fresh.newest;
        setState((old) => ({
          events: mergeEvents(old.events, fresh.events, keep),
          error: undefined,
          updated: new Date().toISOString(),
        }));
      } catch (error) {
        if (live) setState((old) => ({ ...old, error: describeError(error) }));
      }
      if (live) timer = setTimeout(() => void tick(), everyMs);
    };
    void tick();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [poll, everyMs, keep, backMs]);
  return state;
}
