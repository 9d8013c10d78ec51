// The table of the most recent token events: when, outcome, who, for what, from where, why refused.
import type { ReactNode } from 'react';
import { nameOf } from '../api/arm.js';
import type { AuditEvent } from '../api/tessera.js';
import { hostLabel, type Inventory, principalName } from '../lib/inventory.js';
import { Guid } from './guid.js';
import { When } from './when.js';

/** The machine of `vmId` (an ARM id or a `vmId` GUID, either case), if the inventory has it. */
function machineName(inv: Inventory | undefined, vmId: string): string | undefined {
  const id = vmId.toLowerCase();
  return inv?.machines.find(
    (m) => m.id.toLowerCase() === id || m.properties?.vmId?.toLowerCase() === id,
  )?.name;
}

/** A VM by name; one outside this subscription by its id's last segment, the id in its title. */
function Vm(props: { readonly inv: Inventory | undefined; readonly id: string | null }): ReactNode {
  if (props.id === null) return null;
  const name = machineName(props.inv, props.id);
  if (name !== undefined) return name;
  if (!props.id.includes('/')) return <Guid value={props.id} />;
  return <span title={props.id}>{nameOf(props.id)}</span>;
}

export function ActivityTable(props: {
  readonly events: readonly AuditEvent[];
  readonly inv: Inventory | undefined;
  readonly selfId: string;
}): ReactNode {
  const { inv, selfId } = props;
  const who = (id: string | null): ReactNode => {
    if (id === null) return null;
    const name = inv === undefined ? undefined : principalName(inv, id, selfId);
    return name ?? <Guid value={id} />;
  };
  return (
    <div className="table-wrap">
      <table className="events">
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
              <th scope="row">
                <When iso={e.time} />
              </th>
              <td>
                <span className={`badge ${e.outcome}`}>{e.outcome}</span>
              </td>
              <td>{e.kind}</td>
              <td>{who(e.principalId)}</td>
              <td className="resource">{e.resource ?? ''}</td>
              <td className="vm">
                <Vm inv={inv} id={e.vmId} />
              </td>
              <td className="host">
                {e.hostId === null ? null : inv === undefined ? (
                  <Guid value={e.hostId} />
                ) : (
                  hostLabel(inv, e.hostId)
                )}
              </td>
              <td className="reason">{e.reason ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
