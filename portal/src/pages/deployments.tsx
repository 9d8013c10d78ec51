// Deployments: a resource group's ARM template deployments, newest first, and one's operations and outputs.
import { type ReactNode, useCallback, useEffect, useSyncExternalStore } from 'react';
import { type ResourceGroup, resourceGroups } from '../api/arm.js';
import { type Deployment, groupDeployments } from '../api/deployments.js';
import { describeError } from '../api/http.js';
import { DeploymentDetails, StateBadge } from '../components/deployment-details.js';
import { Guid } from '../components/guid.js';
import { Loading } from '../components/loading.js';
import { When } from '../components/when.js';
import { usePortal } from '../lib/context.js';
import {
  type DeploymentsPlace,
  deploymentsHref,
  deploymentsPlace,
  formatDuration,
  isActive,
  newestFirst,
} from '../lib/deployments.js';
import { useLoad } from '../lib/hooks.js';
import '../components/deployments.css';

/** How often the list is read again while a deployment in it is still running. */
const REFRESH_MS = 3000;

const readHash = (): string => window.location.hash;
const onHash = (listener: () => void): (() => void) => {
  window.addEventListener('hashchange', listener);
  return () => {
    window.removeEventListener('hashchange', listener);
  };
};

/** What changes when a deployment is read again while it runs (its duration grows until it ends). */
const revisionOf = (d: Deployment): string =>
  `${d.properties?.provisioningState ?? ''}|${d.properties?.timestamp ?? ''}|${d.properties?.duration ?? ''}`;

function DeploymentTable(props: {
  readonly group: string;
  readonly list: readonly Deployment[];
  readonly chosen: Deployment | undefined;
}): ReactNode {
  const { group, list, chosen } = props;
  return (
    <div className="table-wrap">
      <table className="deployments">
        <caption>
          Deployments in {group} ({list.length}), newest first
        </caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">State</th>
            <th scope="col">Time</th>
            <th scope="col">Duration</th>
            <th scope="col">Mode</th>
            <th scope="col">Correlation id</th>
          </tr>
        </thead>
        <tbody>
          {list.length === 0 ? (
            <tr>
              <td colSpan={6}>No deployments in {group}.</td>
            </tr>
          ) : null}
          {list.map((d) => {
            const p = d.properties ?? {};
            const selected = d.id === chosen?.id;
            return (
              <tr key={d.id} className={selected ? 'selected' : undefined}>
                <th scope="row">
                  <a
                    href={deploymentsHref(group, d.name)}
                    aria-current={selected ? 'true' : undefined}
                  >
                    {d.name}
                  </a>
                </th>
                <td>
                  <StateBadge state={p.provisioningState} />
                </td>
                <td>{p.timestamp === undefined ? null : <When iso={p.timestamp} />}</td>
                <td className="nowrap">
                  {p.duration === undefined ? '' : formatDuration(p.duration)}
                </td>
                <td>{p.mode ?? ''}</td>
                <td>{p.correlationId === undefined ? null : <Guid value={p.correlationId} />}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** The group's deployments (read again while one runs), and the chosen one's details. */
function DeploymentList(props: {
  readonly group: string;
  readonly selected: string | undefined;
}): ReactNode {
  const { http, subscriptionId } = usePortal();
  const { group, selected } = props;
  const load = useCallback(
    () => groupDeployments(http, subscriptionId, group).then(newestFirst),
    [http, subscriptionId, group],
  );
  const { data, error, loading, reload } = useLoad(load);
  const running = data?.some((d) => isActive(d.properties?.provisioningState)) ?? false;
  useEffect(() => {
    if (!running || loading) return;
    const timer = setTimeout(reload, REFRESH_MS);
    return () => {
      clearTimeout(timer);
    };
  }, [running, loading, reload]);
  if (data === undefined) return <Loading error={error} />;
  const named =
    selected === undefined
      ? undefined
      : data.find((d) => d.name.toLowerCase() === selected.toLowerCase());
  const chosen = named ?? data[0];
  return (
    <>
      <p>
        <button type="button" className="plain" disabled={loading} onClick={reload}>
          Refresh
        </button>{' '}
        <span className="muted">
          {running
            ? `A deployment is running: read again every ${String(REFRESH_MS / 1000)} s.`
            : ''}
        </span>
      </p>
      <p role="alert" className="status error">
        {error === undefined ? '' : `Could not read the deployments again: ${describeError(error)}`}
      </p>
      {selected !== undefined && named === undefined ? (
        <p className="note">
          No deployment named {selected} in {group} that you can see.
        </p>
      ) : null}
      <DeploymentTable group={group} list={data} chosen={chosen} />
      {chosen === undefined ? null : (
        <DeploymentDetails key={chosen.id} deployment={chosen} revision={revisionOf(chosen)} />
      )}
    </>
  );
}

function GroupPicker(props: {
  readonly groups: readonly ResourceGroup[];
  readonly place: DeploymentsPlace;
}): ReactNode {
  const groups = [...props.groups].sort((a, b) => a.name.localeCompare(b.name));
  const asked = props.place.group?.toLowerCase();
  const found =
    asked === undefined ? undefined : groups.find((g) => g.name.toLowerCase() === asked);
  const group = found ?? groups[0];
  if (group === undefined) return <p>You can see no resource group in this subscription.</p>;
  return (
    <>
      <div className="fields">
        <div className="field">
          <label htmlFor="deployment-group">Resource group</label>
          <select
            id="deployment-group"
            value={group.name}
            onChange={(e) => {
              window.location.hash = deploymentsHref(e.target.value);
            }}
          >
            {groups.map((g) => (
              <option key={g.id} value={g.name}>
                {g.name}
              </option>
            ))}
          </select>
        </div>
      </div>
      {found === undefined && props.place.group !== undefined ? (
        <p className="note">
          You can see no resource group named {props.place.group}; showing {group.name}.
        </p>
      ) : null}
      <DeploymentList
        key={group.name}
        group={group.name}
        selected={found === undefined ? undefined : props.place.deployment}
      />
    </>
  );
}

export function Deployments(): ReactNode {
  const { http, subscriptionId } = usePortal();
  const load = useCallback(() => resourceGroups(http, subscriptionId), [http, subscriptionId]);
  const groups = useLoad(load);
  const place = deploymentsPlace(useSyncExternalStore(onHash, readHash));
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Deployments</h1>
      <p className="hint">
        ARM template deployments in a resource group, as <code>az deployment group list</code> shows
        them. The resources a deployment writes show on the Activity page&apos;s control-plane
        activity under its correlation id.
      </p>
      {groups.data === undefined ? (
        <Loading error={groups.error} />
      ) : (
        <GroupPicker groups={groups.data} place={place} />
      )}
    </section>
  );
}
