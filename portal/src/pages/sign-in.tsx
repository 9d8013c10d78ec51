// The sign-in page: an application's client id and secret, exchanged for an ARM token.
import { type SyntheticEvent, type ReactNode, useState } from 'react';
import { type PortalConfig, type Session, signIn } from '../api/auth.js';
import { describeError } from '../api/http.js';
import { Guid } from '../components/guid.js';

export function SignIn(props: {
  readonly config: PortalConfig;
  readonly notice: string | undefined;
  readonly onSignedIn: (session: Session) => void;
}): ReactNode {
  const [clientId, setClientId] = useState('');
  const [secret, setSecret] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = (event: SyntheticEvent): void => {
    event.preventDefault();
    setBusy(true);
    setError('');
    signIn(props.config, clientId.trim(), secret).then(
      (session) => {
        setSecret('');
        props.onSignedIn(session);
      },
      (failure: unknown) => {
        setBusy(false);
        setError(describeError(failure).replace(/^[a-z_]+: /, ''));
      },
    );
  };
  return (
    <main className="sign-in">
      <h1>Tessera portal</h1>
      <p>
        Sign in with an application&apos;s credentials in tenant{' '}
        <Guid value={props.config.tenantId} />. Everything you do here goes through ARM with your
        token, so your roles apply.
      </p>
      {props.notice === undefined ? null : (
        <p role="status" className="status ok">
          {props.notice}
        </p>
      )}
      <form onSubmit={submit}>
        <label htmlFor="client-id">Client ID</label>
        <input
          id="client-id"
          autoComplete="username"
          required
          value={clientId}
          onChange={(e) => {
            setClientId(e.target.value);
          }}
        />
        <label htmlFor="client-secret">Client secret</label>
        <input
          id="client-secret"
          type="password"
          autoComplete="current-password"
          required
          value={secret}
          onChange={(e) => {
            setSecret(e.target.value);
          }}
        />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p role="alert" className="status error">
        {error}
      </p>
      <p className="hint">
        The administrator&apos;s client id is in <code>admin.json</code> of the data directory, the
        secret in the file it names. Interactive sign-in for users is planned; until then, create an
        application with <code>tessera ad sp create-for-rbac</code>.
      </p>
    </main>
  );
}
