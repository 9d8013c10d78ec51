// Write buttons that RBAC may disable, and the visible notes that say why.
import type { ReactNode } from 'react';
import { scopeLabel } from '../lib/inventory.js';
import { type Permissions, whyId } from '../lib/permissions-hook.js';

interface GuardedProps {
  readonly perms: Permissions;
  readonly action: string;
  /** Where the write lands: one of the scopes the permissions were loaded for. */
  readonly scope: string;
  readonly onClick?: () => void;
  readonly type?: 'button' | 'submit';
  readonly label?: string;
  readonly variant?: 'primary' | 'danger' | 'plain';
  readonly children: ReactNode;
}

/** A button enabled only when the caller's permissions at `scope` allow `action`. */
export function Guarded(props: GuardedProps): ReactNode {
  const allowed = props.perms.can(props.action, props.scope);
  return (
    <button
      type={props.type ?? 'button'}
      className={props.variant ?? 'plain'}
      disabled={allowed !== true}
      aria-label={props.label}
      aria-describedby={allowed === false ? whyId(props.action, props.scope) : undefined}
      onClick={props.onClick}
    >
      {props.children}
    </button>
  );
}

/** One visible note per action and scope the caller lacks, which the disabled buttons point at. */
export function PermissionNotes(props: {
  readonly perms: Permissions;
  readonly actions: readonly { readonly action: string; readonly what: string }[];
}): ReactNode {
  const denied = props.perms.scopes.flatMap((scope) =>
    props.actions
      .filter((a) => props.perms.can(a.action, scope) === false)
      .map((a) => ({ ...a, scope })),
  );
  if (denied.length === 0) return null;
  return (
    <div className="notes">
      {denied.map((a) => (
        <p key={whyId(a.action, a.scope)} id={whyId(a.action, a.scope)} className="note">
          You cannot {a.what} in {scopeLabel(a.scope)}: your roles there do not allow{' '}
          <code>{a.action}</code>.
        </p>
      ))}
    </div>
  );
}
