// Activity: tokens issued and refused (live timeline, filters, recent events), then ARM operations.
import { type ReactNode, useCallback, useMemo, useState } from 'react';
import type { Http } from '../api/http.js';
import { type AuditEvent, tokenEvents } from '../api/tessera.js';
import { ActivityTable } from '../components/activity-table.js';
import { ControlPlaneActivity } from '../components/control-plane-activity.js';
import { Timeline } from '../components/timeline.js';
import { bucketize, WINDOWS } from '../lib/buckets.js';
import { usePortal } from '../lib/context.js';
import { clock } from '../lib/format.js';
import { useLoad, useNow } from '../lib/hooks.js';
import { type Inventory, loadInventory, principalName } from '../lib/inventory.js';
import { type PollResult, usePolledEvents } from '../lib/polling.js';

const POLL_MS = 3000;
const KEEP = 5000;
const ALL = '';

/** Token events newer than `since`, and the newest time among them. */
const pollTokens = (http: Http, since: string): Promise<PollResult<AuditEvent>> =>
  tokenEvents(http, since).then((events) => ({ events, newest: events[0]?.time }));

function Filters(props: {
  readonly inv: Inventory | undefined;
  readonly events: readonly AuditEvent[];
  readonly selfId: string;
  readonly principal: string;
  readonly resource: string;
  readonly windowIndex: number;
  readonly onPrincipal: (v: string) => void;
  readonly onResource: (v: string) => void;
  readonly onWindow: (v: number) => void;
}): ReactNode {
  const principals = [...new Set(props.events.map((e) => e.principalId ?? '').filter(Boolean))];
  for (const i of props.inv?.identities ?? []) {
    if (!principals.includes(i.properties.principalId)) principals.push(i.properties.principalId);
  }
  const resources = [...new Set(props.events.map((e) => e.resource ?? '').filter(Boolean))].sort();
  const label = (id: string): string =>
    (props.inv === undefined ? undefined : principalName(props.inv, id, props.selfId)) ?? id;
  return (
    <div className="fields filters">
      <div className="field">
        <label htmlFor="f-identity">Identity</label>
        <select
          id="f-identity"
          value={props.principal}
          onChange={(e) => {
            props.onPrincipal(e.target.value);
          }}
        >
          <option value={ALL}>All identities</option>
          {principals.map((p) => (
            <option key={p} value={p}>
              {label(p)}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="f-resource">Resource (audience)</label>
        <select
          id="f-resource"
          value={props.resource}
          onChange={(e) => {
            props.onResource(e.target.value);
          }}
        >
          <option value={ALL}>All resources</option>
          {resources.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="f-window">Time window</label>
        <select
          id="f-window"
          value={props.windowIndex}
          onChange={(e) => {
            props.onWindow(Number(e.target.value));
          }}
        >
          {WINDOWS.map((w, i) => (
            <option key={w.label} value={i}>
              {w.label}
            </option>
          ))}
        </select>
      </div>
    </div>
  );
}

export function Activity(): ReactNode {
  const { http, subscriptionId, session } = usePortal();
  const load = useCallback(() => loadInventory(http, subscriptionId), [http, subscriptionId]);
  const { data: inv } = useLoad(load);
  const poll = useCallback((since: string) => pollTokens(http, since), [http]);
  const { events, error, updated } = usePolledEvents(poll, {
    everyMs: POLL_MS,
    keep: KEEP,
    backMs: 60 * 60_000,
  });
  const [principal, setPrincipal] = useState(ALL);
  const [resource, setResource] = useState(ALL);
  const [windowIndex, setWindowIndex] = useState(1);
  const now = useNow();
  const win = WINDOWS[windowIndex] ?? WINDOWS[0];
  const filtered = useMemo(
    () =>
      events.filter(
        (e) =>
          (principal === ALL || e.principalId === principal) &&
          (resource === ALL || e.resource === resource),
      ),
    [events, principal, resource],
  );
  const spanMs = win?.spanMs ?? 60_000;
  const bucketMs = win?.bucketMs ?? 10_000;
  // Re-bucket when the events change or a bucket boundary passes, not on every clock tick.
  const edge = Math.floor(now / bucketMs) * bucketMs;
  const buckets = useMemo(
    () =>
      bucketize(
        filtered.map((e) => ({ at: Date.parse(e.time), outcome: e.outcome })),
        edge + bucketMs - 1,
        spanMs,
        bucketMs,
      ),
    [filtered, edge, spanMs, bucketMs],
  );
  const issued = buckets.issued.reduce((a, b) => a + b, 0);
  const refused = buckets.refused.reduce((a, b) => a + b, 0);
  const busy = buckets.starts
    .map((start, i) => ({
      start,
      issued: buckets.issued[i] ?? 0,
      refused: buckets.refused[i] ?? 0,
    }))
    .filter((b) => b.issued + b.refused > 0);
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Activity</h1>
      <section aria-labelledby="tokens-title">
        <h2 id="tokens-title">Token activity</h2>
        <Filters
          inv={inv}
          events={events}
          selfId={session.objectId}
          principal={principal}
          resource={resource}
          windowIndex={windowIndex}
          onPrincipal={setPrincipal}
          onResource={setResource}
          onWindow={setWindowIndex}
        />
        <p role="alert" className="status error">
          {error ?? ''}
        </p>
        <figure className="chart">
          <Timeline buckets={buckets} bucketMs={bucketMs} />
          <figcaption>
            <span id="activity-summary">
              {updated === '' && error === undefined
                ? 'Loading token activity…'
                : `${win?.label ?? ''}: ${String(issued)} token${issued === 1 ? '' : 's'} issued, ${String(refused)} refused.`}
            </span>{' '}
            <span className="muted">
              Updates every {POLL_MS / 1000} s
              {updated === '' ? '' : `; last at ${clock(updated)} UTC`}.
            </span>
            <details>
              <summary>Counts per bucket (text version of the chart)</summary>
              {busy.length === 0 ? (
                <p>No tokens in this window.</p>
              ) : (
                <table>
                  <caption className="sr-only">Tokens per bucket</caption>
                  <thead>
                    <tr>
                      <th scope="col">Bucket start (UTC)</th>
                      <th scope="col">Issued</th>
                      <th scope="col">Refused</th>
                    </tr>
                  </thead>
                  <tbody>
                    {busy.map((b) => (
                      <tr key={b.start}>
                        <th scope="row">{clock(new Date(b.start * 1000).toISOString())}</th>
                        <td>{b.issued}</td>
                        <td>{b.refused}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </details>
          </figcaption>
        </figure>
        <ActivityTable events={filtered.slice(0, 50)} inv={inv} selfId={session.objectId} />
      </section>
      <ControlPlaneActivity
        key={subscriptionId}
        inv={inv}
        selfId={session.objectId}
        everyMs={POLL_MS}
      />
    </section>
  );
}
