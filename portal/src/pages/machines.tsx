// VMs and scale sets: their identities, host and extensions, with the legacy extension flagged.
import { type ReactNode, useCallback } from 'react';
import {
  type Extension,
  extensionsOf,
  groupOf,
  instanceHosts,
  type Machine,
  nameOf,
} from '../api/arm.js';
import { Guid } from '../components/guid.js';
import { Loading } from '../components/loading.js';
import { usePortal } from '../lib/context.js';
import { useLoad } from '../lib/hooks.js';
import { hostLabel, type Inventory, loadInventory } from '../lib/inventory.js';

const LEGACY_PUBLISHER = 'microsoft.managedidentity';
const LEGACY_TYPES = ['managedidentityextensionforlinux', 'managedidentityextensionforwindows'];

/** Whether an extension is the retired VM extension for managed identities. */
export function isLegacyExtension(extension: Extension): boolean {
  const publisher = extension.properties?.publisher?.toLowerCase() ?? '';
  const type = extension.properties?.type?.toLowerCase() ?? '';
  return publisher === LEGACY_PUBLISHER && LEGACY_TYPES.includes(type);
}

interface Details {
  readonly extensions: Extension[];
  readonly hostIds: string[];
}

function identitiesOf(m: Machine): ReactNode {
  const users = Object.keys(m.identity?.userAssignedIdentities ?? {}).map(nameOf);
  const system = m.identity?.principalId;
  if (system === undefined && users.length === 0) return <span className="muted">none</span>;
  return (
    <ul className="plain-list">
      {system === undefined ? null : (
        <li>
          system-assigned <Guid value={system} />
        </li>
      )}
      {users.map((u) => (
        <li key={u}>{u}</li>
      ))}
    </ul>
  );
}

function Extensions(props: { readonly list: Extension[] | undefined }): ReactNode {
  if (props.list === undefined) return <span className="muted">…</span>;
  if (props.list.length === 0) return <span className="muted">none</span>;
  return (
    <ul className="plain-list">
      {props.list.map((e) => (
        <li key={e.name}>
          {e.name}{' '}
          <span className="muted">
            ({e.properties?.publisher ?? '?'} {e.properties?.type ?? ''})
          </span>
          {isLegacyExtension(e) ? (
            <p className="warn">
              <strong>Legacy extension.</strong> It is retired: run{' '}
              <code>tessera migrate scan</code> and move its callers to IMDS (see
              docs/operations/migrate-from-extension.md).
            </p>
          ) : null}
        </li>
      ))}
    </ul>
  );
}

export function Machines(): ReactNode {
  const { http, subscriptionId } = usePortal();
  const load = useCallback(async (): Promise<{ inv: Inventory; details: Map<string, Details> }> => {
    const inv = await loadInventory(http, subscriptionId);
    const details = new Map<string, Details>();
    await Promise.all(
      inv.machines.map(async (m) => {
        const [extensions, hostIds] = await Promise.all([
          extensionsOf(http, m).catch(() => []),
          m.kind === 'vmss'
            ? instanceHosts(http, m.id).catch(() => [])
            : Promise.resolve(
                m.properties?.tessera?.hostId === undefined ? [] : [m.properties.tessera.hostId],
              ),
        ]);
        details.set(m.id, { extensions, hostIds: [...new Set(hostIds)] });
      }),
    );
    return { inv, details };
  }, [http, subscriptionId]);
  const { data, error } = useLoad(load);
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">VMs and scale sets</h1>
      {data === undefined ? (
        <Loading error={error} />
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="sr-only">VMs and scale sets</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Kind</th>
                <th scope="col">Resource group</th>
                <th scope="col">Identities</th>
                <th scope="col">Host</th>
                <th scope="col">Extensions</th>
              </tr>
            </thead>
            <tbody>
              {data.inv.machines.length === 0 ? (
                <tr>
                  <td colSpan={6}>No VMs or scale sets.</td>
                </tr>
              ) : null}
              {data.inv.machines.map((m) => {
                const d = data.details.get(m.id);
                const hostList = d?.hostIds ?? [];
                return (
                  <tr key={m.id}>
                    <th scope="row">{m.name}</th>
                    <td>{m.kind === 'vm' ? 'VM' : 'Scale set'}</td>
                    <td>{groupOf(m.id)}</td>
                    <td>{identitiesOf(m)}</td>
                    <td>
                      {hostList.length === 0 ? (
                        <span className="muted">not placed</span>
                      ) : (
                        hostList.map((h) => hostLabel(data.inv, h)).join(', ')
                      )}
                    </td>
                    <td>
                      <Extensions list={d?.extensions} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
