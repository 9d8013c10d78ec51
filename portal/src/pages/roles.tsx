// Role assignments by scope: the list with role and principal names, grant and revoke.
import { type ReactNode, useCallback, useState } from 'react';
import { grantRole, type RoleAssignment, roleAssignments, revokeRole } from '../api/arm.js';
import { ACTIONS } from '../api/permissions.js';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { Guarded, PermissionNotes } from '../components/guarded.js';
import { GrantForm } from '../components/grant-form.js';
import { Guid } from '../components/guid.js';
import { Loading } from '../components/loading.js';
import { Status } from '../components/status.js';
import { useAction } from '../lib/action.js';
import { usePortal } from '../lib/context.js';
import { useLoad } from '../lib/hooks.js';
import {
  type Inventory,
  loadInventory,
  principalName,
  roleName,
  scopeLabel,
} from '../lib/inventory.js';
import { usePermissions } from '../lib/permissions-hook.js';

/** The scopes one can pick: the subscription, its groups, and the resources the portal knows. */
function scopesOf(inv: Inventory, subscriptionScope: string): { id: string; label: string }[] {
  const resources = [
    ...inv.identities.map((i) => i.id),
    ...inv.machines.map((m) => m.id),
    ...inv.assignments.map((a) => a.properties.scope),
  ].filter((s) => s.split('/').length > 5);
  return [
    { id: subscriptionScope, label: 'Subscription' },
    ...inv.groups.map((g) => ({ id: g.id, label: `Resource group ${g.name}` })),
    ...[...new Set(resources)].sort().map((id) => ({ id, label: `Resource ${scopeLabel(id)}` })),
  ];
}

function AssignmentList(props: {
  readonly scope: string;
  readonly inv: Inventory;
  readonly onRevoke: (a: RoleAssignment, label: string) => void;
}): ReactNode {
  const { http, session } = usePortal();
  const { scope } = props;
  const load = useCallback(() => roleAssignments(http, scope), [http, scope]);
  const { data, error } = useLoad(load);
  // A revoke is checked where the assignment is, which may be above the chosen scope.
  const perms = usePermissions([...new Set((data ?? []).map((a) => a.properties.scope))]);
  if (data === undefined) return <Loading error={error} />;
  return (
    <>
      <PermissionNotes
        perms={perms}
        actions={[{ action: ACTIONS.roleAssignmentDelete, what: 'revoke roles assigned' }]}
      />
      <div className="table-wrap">
        <table>
          <caption>Role assignments that apply at or below {scopeLabel(scope)}</caption>
          <thead>
            <tr>
              <th scope="col">Role</th>
              <th scope="col">Principal</th>
              <th scope="col">Scope</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {data.length === 0 ? (
              <tr>
                <td colSpan={4}>No role assignments.</td>
              </tr>
            ) : null}
            {data.map((a) => {
              const role = roleName(props.inv, a.properties.roleDefinitionId);
              const who = principalName(props.inv, a.properties.principalId, session.objectId);
              const label = `${role} for ${who ?? a.properties.principalId} on ${scopeLabel(a.properties.scope)}`;
              return (
                <tr key={a.id}>
                  <th scope="row">{role}</th>
                  <td>
                    {who ?? <span className="muted">unknown principal</span>}{' '}
                    <Guid value={a.properties.principalId} />
                  </td>
                  <td>{scopeLabel(a.properties.scope)}</td>
                  <td>
                    <Guarded
                      perms={perms}
                      scope={a.properties.scope}
                      action={ACTIONS.roleAssignmentDelete}
                      variant="danger"
                      label={`Revoke ${label}`}
                      onClick={() => {
                        props.onRevoke(a, label);
                      }}
                    >
                      Revoke
                    </Guarded>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </>
  );
}

export function Roles(): ReactNode {
  const { http, subscriptionId } = usePortal();
  const subscriptionScope = `/subscriptions/${subscriptionId}`;
  const load = useCallback(() => loadInventory(http, subscriptionId), [http, subscriptionId]);
  const inventory = useLoad(load);
  const [scope, setScope] = useState(subscriptionScope);
  const [version, setVersion] = useState(0);
  const [pending, setPending] = useState<{ a: RoleAssignment; label: string }>();
  const perms = usePermissions([scope]);
  const action = useAction();
  const inv = inventory.data;
  const refresh = (): void => {
    setVersion((v) => v + 1);
    inventory.reload();
  };
  const grant = async (roleId: string, principalId: string): Promise<void> => {
    await action.run(
      'Granting the role',
      `Granted ${inv === undefined ? roleId : roleName(inv, roleId)} on ${scopeLabel(scope)}.`,
      () => grantRole(http, scope, roleId, principalId),
    );
    refresh();
  };
  const revoke = async (a: RoleAssignment, label: string): Promise<void> => {
    setPending(undefined);
    await action.run('Revoking', `Revoked ${label}.`, () => revokeRole(http, a.id));
    refresh();
  };
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Role assignments</h1>
      {inv === undefined ? (
        <Loading error={inventory.error} />
      ) : (
        <>
          <div className="field">
            <label htmlFor="scope">Scope</label>
            <select
              id="scope"
              value={scope}
              onChange={(e) => {
                setScope(e.target.value);
              }}
            >
              {scopesOf(inv, subscriptionScope).map((s) => (
                <option key={s.id} value={s.id}>
                  {s.label}
                </option>
              ))}
            </select>
            <p className="hint">
              <code>{scope}</code>
            </p>
          </div>
          <PermissionNotes
            perms={perms}
            actions={[{ action: ACTIONS.roleAssignmentWrite, what: 'grant roles here' }]}
          />
          <Status message={action.status} />
          <GrantForm inv={inv} perms={perms} scope={scope} busy={action.busy} onGrant={grant} />
          <AssignmentList
            key={`${scope}:${String(version)}`}
            scope={scope}
            inv={inv}
            onRevoke={(a, label) => {
              setPending({ a, label });
            }}
          />
          {pending === undefined ? null : (
            <ConfirmDialog
              title="Revoke this role assignment?"
              confirmLabel="Revoke"
              onConfirm={() => void revoke(pending.a, pending.label)}
              onCancel={() => {
                setPending(undefined);
              }}
            >
              <p>{pending.label}</p>
            </ConfirmDialog>
          )}
        </>
      )}
    </section>
  );
}
