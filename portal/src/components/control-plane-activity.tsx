// The control-plane section: the subscription's ARM operations from the Activity Log, polled, by status.
import { type ReactNode, useCallback, useMemo, useState } from 'react';
import { ACTIVITY_LOG_READ, activityLogEvents } from '../api/activity-log.js';
import type { Http } from '../api/http.js';
import { isoTime, type OperationRow, operationRows } from '../lib/control-plane.js';
import { usePortal } from '../lib/context.js';
import { clock } from '../lib/format.js';
import type { Inventory } from '../lib/inventory.js';
import { type PollResult, usePolledEvents } from '../lib/polling.js';
import { ControlPlaneTable } from './control-plane-table.js';

const KEEP = 5000;
const SHOWN = 50;
const BACK_MS = 60 * 60_000;

type StatusFilter = 'all' | 'failed';

/**
 * The subscription's operations (End events) at or after `since`; the newest time is that of any
 * event, Begin events included, so the next poll starts there.
 */
async function pollOperations(
  http: Http,
  subscriptionId: string,
  since: string,
): Promise<PollResult<OperationRow>> {
  const events = await activityLogEvents(http, subscriptionId, since);
  const newest = events[0]?.eventTimestamp;
  return {
    events: operationRows(events),
    newest: newest === undefined ? undefined : isoTime(newest),
  };
}

/**
 * ARM writes, deletes and actions in the chosen subscription (what `az monitor activity-log list`
 * shows), from an hour before the page opened on, every `everyMs`; mount it with
 * `key={subscriptionId}` so another subscription starts afresh.
 */
export function ControlPlaneActivity(props: {
  readonly inv: Inventory | undefined;
  readonly selfId: string;
  readonly everyMs: number;
}): ReactNode {
  const { http, subscriptionId } = usePortal();
  const poll = useCallback(
    (since: string) => pollOperations(http, subscriptionId, since),
    [http, subscriptionId],
  );
  const { events, error, updated } = usePolledEvents(poll, {
    everyMs: props.everyMs,
    keep: KEEP,
    backMs: BACK_MS,
  });
  const [status, setStatus] = useState<StatusFilter>('all');
  const shown = useMemo(
    () => (status === 'failed' ? events.filter((e) => e.failed) : events),
    [events, status],
  );
  const failed = events.reduce((n, e) => n + (e.failed ? 1 : 0), 0);
  return (
    <section aria-labelledby="control-plane-title">
      <h2 id="control-plane-title">Control-plane activity</h2>
      <p className="hint">
        Writes, deletes and actions on this subscription&apos;s resources, from ARM&apos;s Activity
        Log (reads are not logged). Reading it needs <code>{ACTIVITY_LOG_READ}</code> on the
        subscription.
      </p>
      <div className="fields filters">
        <div className="field">
          <label htmlFor="f-status">Status</label>
          <select
            id="f-status"
            value={status}
            onChange={(e) => {
              setStatus(e.target.value === 'failed' ? 'failed' : 'all');
            }}
          >
            <option value="all">All operations</option>
            <option value="failed">Failed only</option>
          </select>
        </div>
      </div>
      <p role="alert" className="status error">
        {error === undefined ? '' : `Could not read the Activity Log: ${error}`}
      </p>
      <p>
        <span id="control-plane-summary">
          {updated === '' && error === undefined
            ? 'Loading control-plane activity…'
            : `${String(events.length)} operation${events.length === 1 ? '' : 's'}, ${String(failed)} failed.`}
        </span>{' '}
        <span className="muted">
          Updates every {props.everyMs / 1000} s
          {updated === '' ? '' : `; last at ${clock(updated)} UTC`}.
        </span>
      </p>
      <ControlPlaneTable rows={shown.slice(0, SHOWN)} inv={props.inv} selfId={props.selfId} />
    </section>
  );
}
