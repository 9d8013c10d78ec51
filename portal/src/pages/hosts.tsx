// Hosts: each agent's host, when it registered and was last seen, and when its certificate expires.
import { type ReactNode, useCallback } from 'react';
import { hosts } from '../api/tessera.js';
import { Loading } from '../components/loading.js';
import { usePortal } from '../lib/context.js';
import { useLoad, useNow } from '../lib/hooks.js';
import { formatTime, relative } from '../lib/format.js';

const WEEK_MS = 7 * 24 * 3600_000;

export function Hosts(): ReactNode {
  const { http } = usePortal();
  const load = useCallback(() => hosts(http), [http]);
  const { data, error } = useLoad(load);
  const now = useNow();
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Hosts</h1>
      <p className="hint">Each host runs one agent, which serves IMDS to the VMs placed on it.</p>
      {data === undefined ? (
        <Loading error={error} />
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="sr-only">Hosts</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Registered</th>
                <th scope="col">Last seen</th>
                <th scope="col">Certificate expires</th>
                <th scope="col">VMs</th>
              </tr>
            </thead>
            <tbody>
              {data.length === 0 ? (
                <tr>
                  <td colSpan={5}>No hosts.</td>
                </tr>
              ) : null}
              {data.map((h) => {
                const expires =
                  h.certificateNotAfter === null ? undefined : Date.parse(h.certificateNotAfter);
                const soon = expires !== undefined && expires - now < WEEK_MS;
                return (
                  <tr key={h.id}>
                    <th scope="row">{h.name}</th>
                    <td>
                      {h.registeredAt === null ? (
                        <span className="muted">never</span>
                      ) : (
                        formatTime(h.registeredAt)
                      )}
                    </td>
                    <td>
                      {h.lastSeenAt === null ? (
                        <span className="muted">never</span>
                      ) : (
                        relative(h.lastSeenAt, now)
                      )}
                    </td>
                    <td className={soon ? 'warn' : undefined}>
                      {h.certificateNotAfter === null ? (
                        <span className="muted">no certificate</span>
                      ) : (
                        <>
                          {formatTime(h.certificateNotAfter)}
                          {soon ? (
                            <strong>
                              {' '}
                              {expires < now ? 'Expired' : 'Expires in under 7 days'}: renew it
                            </strong>
                          ) : null}
                        </>
                      )}
                    </td>
                    <td>{h.vmCount}</td>
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
