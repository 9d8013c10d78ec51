// The federated credentials of user-assigned identities: which foreign tokens each one accepts.
import { type ReactNode, useCallback } from 'react';
import { type FederatedCredential, federatedCredentials, type UserIdentity } from '../api/arm.js';
import { describeError, type Http } from '../api/http.js';
import { usePortal } from '../lib/context.js';
import { useLoad } from '../lib/hooks.js';
import { Loading } from './loading.js';

/** One identity's credentials, or why they could not be read. */
type Read =
  | { readonly identity: UserIdentity; readonly credentials: FederatedCredential[] }
  | { readonly identity: UserIdentity; readonly error: unknown };

/** Each identity's credentials, read in parallel; one that fails does not hide the others. */
const readAll = (http: Http, identities: readonly UserIdentity[]): Promise<Read[]> =>
  Promise.all(
    identities.map((identity) =>
      federatedCredentials(http, identity.id).then(
        (credentials): Read => ({ identity, credentials }),
        (error: unknown): Read => ({ identity, error }),
      ),
    ),
  );

function Empty(): ReactNode {
  return (
    <tr>
      <td colSpan={5}>
        No federated credentials. Add one with{' '}
        <code>tessera identity federated-credential create …</code> or{' '}
        <code>az identity federated-credential create …</code>.
      </td>
    </tr>
  );
}

/**
 * The credentials of `identities`, one row each, read again whenever the page loads a new list
 * of identities (after every change it makes).
 */
export function FederatedCredentials(props: {
  readonly identities: readonly UserIdentity[];
}): ReactNode {
  const { http } = usePortal();
  const load = useCallback(() => readAll(http, props.identities), [http, props.identities]);
  const { data, error } = useLoad(load);
  const none = data?.every((read) => 'credentials' in read && read.credentials.length === 0);
  return (
    <section aria-labelledby="federated-title">
      <h2 id="federated-title">Federated credentials</h2>
      <p className="hint">
        Tokens from another issuer (a CI system, a Kubernetes cluster) that an identity accepts in
        exchange for one of its own.
      </p>
      {data === undefined ? (
        <Loading error={error} />
      ) : (
        <div className="table-wrap">
          <table className="federated">
            <caption className="sr-only">Federated credentials</caption>
            <thead>
              <tr>
                <th scope="col">Identity</th>
                <th scope="col">Name</th>
                <th scope="col">Issuer</th>
                <th scope="col">Subject</th>
                <th scope="col">Audience</th>
              </tr>
            </thead>
            <tbody>
              {none === true ? <Empty /> : null}
              {data.flatMap((read) =>
                'error' in read
                  ? [
                      <tr key={read.identity.id}>
                        <td>{read.identity.name}</td>
                        <td colSpan={4} className="status error">
                          Could not load: {describeError(read.error)}
                        </td>
                      </tr>,
                    ]
                  : read.credentials.map((credential) => (
                      <tr key={credential.id}>
                        <td>{read.identity.name}</td>
                        <th scope="row">{credential.name}</th>
                        <td className="issuer">
                          <code>{credential.properties.issuer}</code>
                        </td>
                        <td className="subject">
                          <code>{credential.properties.subject}</code>
                        </td>
                        <td className="audience">
                          <ul className="plain-list">
                            {credential.properties.audiences.map((audience) => (
                              <li key={audience}>
                                <code>{audience}</code>
                              </li>
                            ))}
                          </ul>
                        </td>
                      </tr>
                    )),
              )}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
