// The table of the most recent token events: when, outcome, who, for what, from where, why refused.
import type { ReactNode } from 'react';
import type { AuditEvent } from '../api/tessera.js';
import { formatTime } from '../lib/format.js';
import { hostName, type Inventory, principalName } from '../lib/inventory.js';

export function ActivityTable(props: {
  readonly events: readonly AuditEvent[];
  readonly inv: Inventory | undefined;
  readonly selfId: string;
}): ReactNode {
  const { inv, selfId } = props;
  const who = (id: string | null): string =>
    id === null ? '' : ((inv === undefined ? undefined : principalName(inv, id, selfId)) ?? id);
  const vm = (id: string | null): string => {
    if (id === null) return '';
    const found = inv?.machines.find((m) => m.properties?.vmId === id || m.id === id);
    return found?.name ?? id;
  };
  return (
    <div className="table-wrap">
      <table>
        <caption>Most recent token events ({props.events.length})</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Outcome</th>
            <th scope="col">Kind</th>
            <th scope="col">Identity</th>
            <th scope="col">Resource</th>
            <th scope="col">VM</th>
            <th scope="col">Host</th>
            <th scope="col">Reason</th>
          </tr>
        </thead>
        <tbody>
          {props.events.length === 0 ? (
            <tr>
              <td colSpan={8}>No token events yet.</td>
            </tr>
          ) : null}
          {props.events.map((e) => (
            <tr key={e.id}>
              <th scope="row" className="nowrap">
                {formatTime(e.time)}
              </th>
              <td>
                <span className={`badge ${e.outcome}`}>{e.outcome}</span>
              </td>
              <td>{e.kind}</td>
              <td>{who(e.principalId)}</td>
              <td>{e.resource ?? ''}</td>
              <td>{vm(e.vmId)}</td>
              <td>
                {inv === undefined || e.hostId === null
                  ? (e.hostId ?? '')
                  : hostName(inv, e.hostId)}
              </td>
              <td className="reason">{e.reason ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
