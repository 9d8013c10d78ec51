// The table of recent ARM operations: when, outcome and why, who, what, on which resource, trace id.
import type { ReactNode } from 'react';
import { isGuid } from '../lib/format.js';
import type { OperationRow } from '../lib/control-plane.js';
import { type Inventory, principalName } from '../lib/inventory.js';
import { Id, Path } from './breakable.js';
import { Guid } from './guid.js';
import { When } from './when.js';

export function ControlPlaneTable(props: {
  readonly rows: readonly OperationRow[];
  readonly inv: Inventory | undefined;
  readonly selfId: string;
}): ReactNode {
  const { inv, selfId } = props;
  const who = (caller: string): ReactNode => {
    if (caller === '') return null;
    const name = inv === undefined ? undefined : principalName(inv, caller, selfId);
    return name ?? <Id value={caller} />;
  };
  return (
    <div className="table-wrap">
      <table className="operations">
        <caption>Most recent control-plane operations ({props.rows.length})</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Status</th>
            <th scope="col">Caller</th>
            <th scope="col">Operation</th>
            <th scope="col">Resource</th>
            <th scope="col">Correlation id</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.length === 0 ? (
            <tr>
              <td colSpan={6}>No operations yet.</td>
            </tr>
          ) : null}
          {props.rows.map((r) => (
            <tr key={r.id}>
              <th scope="row">
                <When iso={r.time} />
              </th>
              <td className="outcome">
                <span className={`badge ${r.failed ? 'failed' : r.status.toLowerCase()}`}>
                  {r.status}
                </span>
                {r.reason === '' ? null : <span className="reason">{r.reason}</span>}
              </td>
              <td className="caller">{who(r.caller)}</td>
              <td className="operation">
                <Path value={r.operation} />
                {r.method === '' ? null : <span className="muted"> ({r.method})</span>}
              </td>
              <td className="resource">
                <span title={r.resourceId}>
                  {isGuid(r.resourceName) ? <Guid value={r.resourceName} /> : r.resourceName}
                </span>
                <span className="muted type">
                  <Path value={r.resourceType} />
                </span>
              </td>
              <td className="correlation">
                {r.correlationId === '' ? null : <Id value={r.correlationId} />}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
