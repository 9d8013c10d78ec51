// Running a write from a page: busy, then done or the server's error, in the page's status line.
import { useCallback, useState } from 'react';
import type { StatusMessage } from '../components/status.js';
import { describeError } from '../api/http.js';

export interface Action {
  readonly status: StatusMessage | undefined;
  readonly busy: boolean;
  /** Runs `work`, saying `doing` while it runs and `done` after; the error text if it fails. */
  readonly run: (doing: string, done: string, work: () => Promise<unknown>) => Promise<boolean>;
}

export function useAction(): Action {
  const [status, setStatus] = useState<StatusMessage>();
  const [busy, setBusy] = useState(false);
  const run = useCallback(async (doing: string, done: string, work: () => Promise<unknown>) => {
    setBusy(true);
    setStatus({ kind: 'busy', text: `${doing}…` });
    try {
      await work();
      setStatus({ kind: 'ok', text: done });
      return true;
    } catch (error) {
      setStatus({ kind: 'error', text: describeError(error) });
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { status, busy, run };
}
