// One deployment: why it failed, its operations (one per resource it wrote) and its outputs.
import { type ReactNode, useCallback, useEffect, useRef } from 'react';
import { type ArmErrorBody, type Deployment, deploymentOperations } from '../api/deployments.js';
import { usePortal } from '../lib/context.js';
import { formatDuration, outputRows } from '../lib/deployments.js';
import { useLoad } from '../lib/hooks.js';
import { Id, Path } from './breakable.js';
import { Loading } from './loading.js';
import { When } from './when.js';

/** A provisioning state as a badge: green when it succeeded, red when it failed. */
export function StateBadge(props: { readonly state: string | undefined }): ReactNode {
  const state = props.state ?? 'Unknown';
  return <span className={`badge ${state.toLowerCase()}`}>{state}</span>;
}

/** An ARM error: its code and message, then the errors that caused it, nested. */
export function ErrorTree(props: { readonly error: ArmErrorBody }): ReactNode {
  const { error } = props;
  return (
    <ul className="error-tree">
      <li>
        <code>{error.code ?? 'Error'}</code>
        {error.message === undefined || error.message === '' ? null : `: ${error.message}`}
        {(error.details ?? []).map((detail, i) => (
          <ErrorTree key={i} error={detail} />
        ))}
      </li>
    </ul>
  );
}

function Operations(props: {
  readonly deployment: Deployment;
  readonly revision: string;
}): ReactNode {
  const { http } = usePortal();
  const { id, name } = props.deployment;
  const load = useCallback(() => deploymentOperations(http, id), [http, id]);
  const { data, error, reload } = useLoad(load);
  // The deployment was read again and changed (it runs, or it just ended): so may its operations.
  const seen = useRef(props.revision);
  useEffect(() => {
    if (seen.current === props.revision) return;
    seen.current = props.revision;
    reload();
  }, [props.revision, reload]);
  if (data === undefined) return <Loading error={error} />;
  return (
    <div className="table-wrap">
      <table className="operations deployment-operations">
        <caption>
          Operations of {name} ({data.length})
        </caption>
        <thead>
          <tr>
            <th scope="col">Resource</th>
            <th scope="col">Operation</th>
            <th scope="col">State</th>
            <th scope="col">Status code</th>
            <th scope="col">Duration</th>
            <th scope="col">Time</th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {data.length === 0 ? (
            <tr>
              <td colSpan={7}>No operations: the template deploys no resource here.</td>
            </tr>
          ) : null}
          {data.map((op) => {
            const p = op.properties ?? {};
            const target = p.targetResource ?? {};
            const failure = p.statusMessage?.error;
            return (
              <tr key={op.id}>
                <th scope="row" className="resource">
                  <span title={target.id}>{target.resourceName ?? target.id ?? ''}</span>
                  <span className="muted type">
                    <Path value={target.resourceType ?? ''} />
                  </span>
                </th>
                <td>{p.provisioningOperation ?? ''}</td>
                <td>
                  <StateBadge state={p.provisioningState} />
                </td>
                <td>{p.statusCode ?? ''}</td>
                <td className="nowrap">
                  {p.duration === undefined ? '' : formatDuration(p.duration)}
                </td>
                <td>{p.timestamp === undefined ? null : <When iso={p.timestamp} />}</td>
                <td className="error">
                  {failure === undefined ? null : <ErrorTree error={failure} />}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function Outputs(props: { readonly deployment: Deployment }): ReactNode {
  const rows = outputRows(props.deployment.properties?.outputs);
  return (
    <div className="table-wrap">
      <table>
        <caption>Outputs of {props.deployment.name}</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Type</th>
            <th scope="col">Value</th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={3}>No outputs.</td>
            </tr>
          ) : null}
          {rows.map((row) => (
            <tr key={row.name}>
              <th scope="row">{row.name}</th>
              <td>{row.type}</td>
              <td>
                <Id value={row.value} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * The deployment's error (when it failed), operations and outputs; `revision` changes when the
 * deployment was read again and differs, so its operations are read again too.
 */
export function DeploymentDetails(props: {
  readonly deployment: Deployment;
  readonly revision: string;
}): ReactNode {
  const { deployment } = props;
  const error = deployment.properties?.error;
  return (
    <section aria-labelledby="deployment-title">
      <h2 id="deployment-title">Deployment {deployment.name}</h2>
      {error === undefined ? null : (
        <div className="deployment-error" role="group" aria-label={`Why ${deployment.name} failed`}>
          <ErrorTree error={error} />
        </div>
      )}
      <Operations deployment={deployment} revision={props.revision} />
      <Outputs deployment={deployment} />
    </section>
  );
}
