// The grant form: a role, a principal (a known identity or a pasted object id), at the page's scope.
import { type SyntheticEvent, type ReactNode, useState } from 'react';
import { ACTIONS } from '../api/permissions.js';
import type { Inventory } from '../lib/inventory.js';
import type { Permissions } from '../lib/permissions-hook.js';
import { Guarded } from './guarded.js';

const OTHER = 'other';

export function GrantForm(props: {
  readonly inv: Inventory;
  readonly perms: Permissions;
  readonly scope: string;
  readonly busy: boolean;
  readonly onGrant: (roleDefinitionId: string, principalId: string) => Promise<void>;
}): ReactNode {
  const roles = [...props.inv.roles].sort((a, b) =>
    a.properties.roleName.localeCompare(b.properties.roleName),
  );
  const principals = [
    ...props.inv.identities.map((i) => ({ id: i.properties.principalId, label: i.name })),
    ...props.inv.machines.flatMap((m) =>
      m.identity?.principalId === undefined
        ? []
        : [{ id: m.identity.principalId, label: `${m.name} (system-assigned)` }],
    ),
  ];
  const [role, setRole] = useState<string>();
  const [principal, setPrincipal] = useState<string>();
  const [pasted, setPasted] = useState('');
  const roleId =
    role ?? roles.find((r) => r.properties.roleName === 'Reader')?.id ?? roles[0]?.id ?? '';
  const who = principal ?? principals[0]?.id ?? OTHER;
  const submit = (event: SyntheticEvent): void => {
    event.preventDefault();
    void props.onGrant(roleId, who === OTHER ? pasted.trim() : who);
  };
  return (
    <form className="inline-form" onSubmit={submit} aria-labelledby="grant-title">
      <h2 id="grant-title">Grant a role at this scope</h2>
      <div className="fields">
        <div className="field">
          <label htmlFor="grant-role">Role</label>
          <select
            id="grant-role"
            value={roleId}
            onChange={(e) => {
              setRole(e.target.value);
            }}
          >
            {roles.map((r) => (
              <option key={r.id} value={r.id}>
                {r.properties.roleName}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="grant-principal">Principal</label>
          <select
            id="grant-principal"
            value={who}
            onChange={(e) => {
              setPrincipal(e.target.value);
            }}
          >
            {principals.map((p) => (
              <option key={p.id} value={p.id}>
                {p.label}
              </option>
            ))}
            <option value={OTHER}>Another principal (paste its object id)</option>
          </select>
        </div>
        {who === OTHER ? (
          <div className="field">
            <label htmlFor="grant-object-id">Object ID</label>
            <input
              id="grant-object-id"
              required
              pattern="[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
              title="A GUID"
              value={pasted}
              onChange={(e) => {
                setPasted(e.target.value);
              }}
            />
          </div>
        ) : null}
        <Guarded
          perms={props.perms}
          scope={props.scope}
          action={ACTIONS.roleAssignmentWrite}
          type="submit"
          variant="primary"
        >
          {props.busy ? 'Working…' : 'Grant'}
        </Guarded>
      </div>
    </form>
  );
}
