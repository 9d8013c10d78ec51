// Small React hooks: data loading with reload, the current hash route, a ticking clock.
import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';

/** A load's state: the data once it arrived, the error if it failed. */
export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: unknown;
  readonly loading: boolean;
  readonly reload: () => void;
}

/** Runs `load` (memoise it with useCallback) now, whenever it changes, and on `reload()`. */
export function useLoad<T>(load: () => Promise<T>): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; done: number }>({ done: -1 });
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (data) => {
        if (live) setState({ data, done: version });
      },
      (error: unknown) => {
        if (live) setState((old) => ({ ...old, error, done: version }));
      },
    );
    return () => {
      live = false;
    };
  }, [load, version]);
  const reload = useCallback(() => {
    setVersion((v) => v + 1);
  }, []);
  return {
    data: state.data,
    error: state.error,
    loading: state.done !== version,
    reload,
  };
}

const readHash = (): string => {
  const path = window.location.hash.replace(/^#\/?/, '');
  return path === '' ? 'identities' : (path.split(/[/?]/)[0] ?? 'identities');
};
const onHash = (listener: () => void): (() => void) => {
  window.addEventListener('hashchange', listener);
  return () => {
    window.removeEventListener('hashchange', listener);
  };
};

/** The page the fragment names (`#/hosts` is `hosts`), `identities` when none. */
export function useRoute(): string {
  return useSyncExternalStore(onHash, readHash);
}

let now = Date.now();
const tickers = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | undefined;
const subscribeClock = (listener: () => void): (() => void) => {
  tickers.add(listener);
  now = Date.now();
  timer ??= setInterval(() => {
    now = Date.now();
    for (const tick of tickers) tick();
  }, 1000);
  return () => {
    tickers.delete(listener);
    if (tickers.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };
};
const readClock = (): number => now;

/** The current time in ms, updated every second while a component shows it. */
export function useNow(): number {
  return useSyncExternalStore(subscribeClock, readClock);
}
