// The identity page's forms: create a user-assigned identity, and attach one to a VM or scale set.
import { type SyntheticEvent, type ReactNode, useEffect, useRef, useState } from 'react';
import type { Machine, ResourceGroup } from '../api/arm.js';
import { ACTIONS } from '../api/permissions.js';
import type { Permissions } from '../lib/permissions-hook.js';
import { Guarded } from './guarded.js';

/** The create form; `location` follows the chosen group's unless the user types another. */
export function CreateIdentityForm(props: {
  readonly groups: readonly ResourceGroup[];
  readonly perms: Permissions;
  readonly busy: boolean;
  readonly onCreate: (name: string, group: string, location: string) => Promise<boolean>;
}): ReactNode {
  const [name, setName] = useState('');
  const [group, setGroup] = useState<string>();
  const [location, setLocation] = useState<string>();
  const chosen = props.groups.find((g) => g.name === group) ?? props.groups[0];
  const where = location ?? chosen?.location ?? '';
  const submit = (event: SyntheticEvent): void => {
    event.preventDefault();
    if (chosen === undefined) return;
    void props.onCreate(name.trim(), chosen.name, where.trim()).then((ok) => {
      if (ok) setName('');
    });
  };
  return (
    <form className="inline-form" onSubmit={submit} aria-labelledby="create-title">
      <h2 id="create-title">Create a user-assigned identity</h2>
      <div className="fields">
        <div className="field">
          <label htmlFor="new-name">Name</label>
          <input
            id="new-name"
            required
            pattern="[A-Za-z0-9][A-Za-z0-9_\-]{2,127}"
            title="3 to 128 letters, digits, hyphens and underscores"
            value={name}
            onChange={(e) => {
              setName(e.target.value);
            }}
          />
        </div>
        <div className="field">
          <label htmlFor="new-group">Resource group</label>
          <select
            id="new-group"
            value={chosen?.name ?? ''}
            onChange={(e) => {
              setGroup(e.target.value);
              setLocation(undefined);
            }}
          >
            {props.groups.map((g) => (
              <option key={g.id} value={g.name}>
                {g.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="new-location">Location</label>
          <input
            id="new-location"
            required
            value={where}
            onChange={(e) => {
              setLocation(e.target.value);
            }}
          />
        </div>
        <Guarded
          perms={props.perms}
          action={ACTIONS.identityWrite}
          scope={chosen?.id ?? ''}
          type="submit"
          variant="primary"
        >
          {props.busy ? 'Working…' : 'Create'}
        </Guarded>
      </div>
    </form>
  );
}

/** A modal that picks the VM or scale set to attach `identityName` to. */
export function AttachDialog(props: {
  readonly identityName: string;
  readonly candidates: readonly Machine[];
  readonly onAttach: (machine: Machine) => void;
  readonly onCancel: () => void;
}): ReactNode {
  const ref = useRef<HTMLDialogElement>(null);
  const [target, setTarget] = useState(props.candidates[0]?.id ?? '');
  useEffect(() => {
    const dialog = ref.current;
    if (dialog !== null && !dialog.open) dialog.showModal();
    return () => {
      dialog?.close();
    };
  }, []);
  const submit = (event: SyntheticEvent): void => {
    event.preventDefault();
    const machine = props.candidates.find((m) => m.id === target);
    if (machine !== undefined) props.onAttach(machine);
  };
  return (
    <dialog
      ref={ref}
      aria-labelledby="attach-title"
      onCancel={(event) => {
        event.preventDefault();
        props.onCancel();
      }}
    >
      <form onSubmit={submit}>
        <h2 id="attach-title">Attach {props.identityName}</h2>
        {props.candidates.length === 0 ? (
          <p>Every VM and scale set already carries this identity.</p>
        ) : (
          <>
            <label htmlFor="attach-target">VM or scale set</label>
            <select
              id="attach-target"
              value={target}
              onChange={(e) => {
                setTarget(e.target.value);
              }}
            >
              {props.candidates.map((m) => (
                <option key={m.id} value={m.id}>
                  {m.name} ({m.kind === 'vm' ? 'VM' : 'scale set'})
                </option>
              ))}
            </select>
          </>
        )}
        <div className="actions">
          <button type="button" className="plain" onClick={props.onCancel}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={props.candidates.length === 0}>
            Attach
          </button>
        </div>
      </form>
    </dialog>
  );
}
