// Identities: user-assigned and system-assigned, their ids, machines, roles and federated credentials; create, delete, attach, detach.
import { type ReactNode, useCallback, useState } from 'react';
import {
  createIdentity,
  deleteIdentity,
  getMachine,
  groupOf,
  identityId,
  type Machine,
  patchMachine,
  type UserIdentity,
} from '../api/arm.js';
import { attachPatch, carries, detachPatch } from '../api/identity-patch.js';
import { ACTIONS } from '../api/permissions.js';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { FederatedCredentials } from '../components/federated-credentials.js';
import { Guarded, PermissionNotes } from '../components/guarded.js';
import { AttachDialog, CreateIdentityForm } from '../components/identity-forms.js';
import { Guid } from '../components/guid.js';
import { Loading } from '../components/loading.js';
import { Status } from '../components/status.js';
import { useAction } from '../lib/action.js';
import { usePortal } from '../lib/context.js';
import { useLoad } from '../lib/hooks.js';
import { type Inventory, loadInventory, roleName, scopeLabel } from '../lib/inventory.js';
import { usePermissions } from '../lib/permissions-hook.js';

type Pending =
  | { readonly kind: 'delete'; readonly identity: UserIdentity }
  | { readonly kind: 'attach'; readonly identity: UserIdentity }
  | { readonly kind: 'detach'; readonly identity: UserIdentity; readonly machine: Machine };

/** The resource group part of a resource id. */
const groupScope = (id: string): string =>
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+/i.exec(id)?.[0] ?? id;

const writeOf = (m: Machine): string => (m.kind === 'vm' ? ACTIONS.vmWrite : ACTIONS.vmssWrite);

function Roles(props: { readonly inventory: Inventory; readonly principalId: string }): ReactNode {
  const mine = props.inventory.assignments.filter(
    (a) => a.properties.principalId === props.principalId,
  );
  if (mine.length === 0) return <span className="muted">none</span>;
  return (
    <ul className="plain-list">
      {mine.map((a) => (
        <li key={a.id}>
          {roleName(props.inventory, a.properties.roleDefinitionId)} on{' '}
          {scopeLabel(a.properties.scope)}
        </li>
      ))}
    </ul>
  );
}

export function Identities(): ReactNode {
  const { http, subscriptionId } = usePortal();
  const load = useCallback(() => loadInventory(http, subscriptionId), [http, subscriptionId]);
  const inventory = useLoad(load);
  const inv = inventory.data;
  // Identities and machines live in resource groups: what counts is the caller's roles there.
  const perms = usePermissions(inv?.groups.map((g) => g.id) ?? []);
  const action = useAction();
  const [pending, setPending] = useState<Pending>();

  const create = async (name: string, group: string, location: string): Promise<boolean> => {
    const ok = await action.run(`Creating ${name}`, `Created ${name} in ${group}.`, () =>
      createIdentity(http, identityId(subscriptionId, group, name), location),
    );
    inventory.reload();
    return ok;
  };
  const attach = async (identity: UserIdentity, machine: Machine): Promise<void> => {
    setPending(undefined);
    await action.run(
      `Attaching ${identity.name}`,
      `Attached ${identity.name} to ${machine.name}.`,
      async () => {
        const fresh = await getMachine(http, machine);
        await patchMachine(http, machine.id, attachPatch(fresh.identity, identity.id));
      },
    );
    inventory.reload();
  };
  const detach = async (identity: UserIdentity, machine: Machine): Promise<void> => {
    setPending(undefined);
    await action.run(
      `Detaching ${identity.name}`,
      `Detached ${identity.name} from ${machine.name}.`,
      async () => {
        const fresh = await getMachine(http, machine);
        const body = detachPatch(fresh.identity, identity.id);
        if (body !== undefined) await patchMachine(http, machine.id, body);
      },
    );
    inventory.reload();
  };
  const remove = async (identity: UserIdentity): Promise<void> => {
    setPending(undefined);
    await action.run(`Deleting ${identity.name}`, `Deleted ${identity.name}.`, () =>
      deleteIdentity(http, identity.id),
    );
    inventory.reload();
  };

  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Identities</h1>
      <PermissionNotes
        perms={perms}
        actions={[
          { action: ACTIONS.identityWrite, what: 'create identities' },
          { action: ACTIONS.identityDelete, what: 'delete identities' },
          { action: ACTIONS.vmWrite, what: 'attach identities to VMs or detach them' },
          { action: ACTIONS.vmssWrite, what: 'attach identities to scale sets or detach them' },
        ]}
      />
      <Status message={action.status} />
      {inv === undefined ? (
        <Loading error={inventory.error} />
      ) : (
        <>
          <CreateIdentityForm
            groups={inv.groups}
            perms={perms}
            busy={action.busy}
            onCreate={create}
          />
          <h2>User-assigned identities</h2>
          <div className="table-wrap">
            <table>
              <caption className="sr-only">User-assigned identities</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Resource group</th>
                  <th scope="col">Principal ID</th>
                  <th scope="col">Client ID</th>
                  <th scope="col">Attached to</th>
                  <th scope="col">Role assignments</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {inv.identities.length === 0 ? (
                  <tr>
                    <td colSpan={7}>No user-assigned identities yet.</td>
                  </tr>
                ) : null}
                {inv.identities.map((identity) => {
                  const attached = inv.machines.filter((m) => carries(m.identity, identity.id));
                  return (
                    <tr key={identity.id}>
                      <th scope="row">{identity.name}</th>
                      <td>{groupOf(identity.id)}</td>
                      <td>
                        <Guid value={identity.properties.principalId} />
                      </td>
                      <td>
                        <Guid value={identity.properties.clientId} />
                      </td>
                      <td>
                        {attached.length === 0 ? <span className="muted">nothing</span> : null}
                        <ul className="plain-list">
                          {attached.map((m) => (
                            <li key={m.id}>
                              {m.name} {m.kind === 'vmss' ? '(scale set)' : ''}{' '}
                              <Guarded
                                perms={perms}
                                action={writeOf(m)}
                                scope={groupScope(m.id)}
                                label={`Detach ${identity.name} from ${m.name}`}
                                onClick={() => {
                                  setPending({ kind: 'detach', identity, machine: m });
                                }}
                              >
                                Detach
                              </Guarded>
                            </li>
                          ))}
                        </ul>
                      </td>
                      <td>
                        <Roles inventory={inv} principalId={identity.properties.principalId} />
                      </td>
                      <td className="row-actions">
                        <Guarded
                          perms={perms}
                          action={ACTIONS.vmWrite}
                          scope={groupScope(identity.id)}
                          label={`Attach ${identity.name}`}
                          onClick={() => {
                            setPending({ kind: 'attach', identity });
                          }}
                        >
                          Attach…
                        </Guarded>
                        <Guarded
                          perms={perms}
                          action={ACTIONS.identityDelete}
                          scope={groupScope(identity.id)}
                          variant="danger"
                          label={`Delete ${identity.name}`}
                          onClick={() => {
                            setPending({ kind: 'delete', identity });
                          }}
                        >
                          Delete
                        </Guarded>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <FederatedCredentials identities={inv.identities} />
          <h2>System-assigned identities</h2>
          <div className="table-wrap">
            <table>
              <caption className="sr-only">System-assigned identities</caption>
              <thead>
                <tr>
                  <th scope="col">Resource</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Principal ID</th>
                  <th scope="col">Role assignments</th>
                </tr>
              </thead>
              <tbody>
                {inv.machines
                  .filter((m) => m.identity?.principalId !== undefined)
                  .map((m) => (
                    <tr key={m.id}>
                      <th scope="row">{m.name}</th>
                      <td>{m.kind === 'vm' ? 'VM' : 'Scale set'}</td>
                      <td>
                        <Guid value={m.identity?.principalId ?? ''} />
                      </td>
                      <td>
                        <Roles inventory={inv} principalId={m.identity?.principalId ?? ''} />
                      </td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </div>
          {pending?.kind === 'attach' ? (
            <AttachDialog
              identityName={pending.identity.name}
              candidates={inv.machines.filter((m) => !carries(m.identity, pending.identity.id))}
              onAttach={(m) => void attach(pending.identity, m)}
              onCancel={() => {
                setPending(undefined);
              }}
            />
          ) : null}
          {pending?.kind === 'detach' ? (
            <ConfirmDialog
              title={`Detach ${pending.identity.name}?`}
              confirmLabel="Detach"
              onConfirm={() => void detach(pending.identity, pending.machine)}
              onCancel={() => {
                setPending(undefined);
              }}
            >
              <p>
                {pending.machine.name} will no longer get tokens for {pending.identity.name} once
                its agent has synced.
              </p>
            </ConfirmDialog>
          ) : null}
          {pending?.kind === 'delete' ? (
            <ConfirmDialog
              title={`Delete ${pending.identity.name}?`}
              confirmLabel="Delete"
              onConfirm={() => void remove(pending.identity)}
              onCancel={() => {
                setPending(undefined);
              }}
            >
              <p>
                The identity and its principal are deleted; resource group{' '}
                {groupOf(pending.identity.id)}.
              </p>
            </ConfirmDialog>
          ) : null}
        </>
      )}
    </section>
  );
}
