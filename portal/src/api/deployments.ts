// ARM template deployments as the portal reads them: a group's deployments and one's operations.
import { list } from './arm.js';
import type { Http } from './http.js';

/** The api-version of `Microsoft.Resources/deployments` and its operations. */
export const DEPLOYMENTS_API = '2021-04-01';

/** An ARM error as deployments carry it: a code, a message, and the errors that caused it. */
export interface ArmErrorBody {
  readonly code?: string;
  readonly message?: string;
  readonly target?: string;
  readonly details?: readonly ArmErrorBody[];
}

/** One template output: its declared type and evaluated value. */
export interface DeploymentOutput {
  readonly type?: string;
  readonly value?: unknown;
}

/** The members of `DeploymentExtended` the portal shows. */
export interface Deployment {
  readonly id: string;
  readonly name: string;
  readonly properties?: {
    readonly provisioningState?: string;
    readonly timestamp?: string;
    readonly duration?: string;
    readonly correlationId?: string;
    readonly mode?: string;
    readonly outputs?: Readonly<Record<string, DeploymentOutput>>;
    readonly outputResources?: readonly { readonly id?: string }[];
    readonly error?: ArmErrorBody;
  };
}

/** The members of a `DeploymentOperation` the portal shows. */
export interface DeploymentOperation {
  readonly id: string;
  readonly operationId?: string;
  readonly properties?: {
    readonly provisioningOperation?: string;
    readonly provisioningState?: string;
    readonly timestamp?: string;
    readonly duration?: string;
    /** The HTTP status's name (`Created`, `NotFound`), as ARM writes it. */
    readonly statusCode?: string;
    readonly statusMessage?: { readonly status?: string; readonly error?: ArmErrorBody };
    readonly targetResource?: {
      readonly id?: string;
      readonly resourceType?: string;
      readonly resourceName?: string;
    };
  };
}

/**
 * The deployments of resource group `group` that the caller may read (ARM leaves out the rest),
 * in the server's order: `GET …/resourcegroups/{g}/providers/Microsoft.Resources/deployments`.
 */
export const groupDeployments = (
  http: Http,
  subscriptionId: string,
  group: string,
): Promise<Deployment[]> =>
  list(
    http,
    `/subscriptions/${encodeURIComponent(subscriptionId)}/resourcegroups/${encodeURIComponent(group)}/providers/Microsoft.Resources/deployments?api-version=${DEPLOYMENTS_API}`,
  );

/** A deployment's operations, one per resource it wrote: `GET {deploymentId}/operations`. */
export const deploymentOperations = (
  http: Http,
  deploymentId: string,
): Promise<DeploymentOperation[]> =>
  list(http, `${deploymentId}/operations?api-version=${DEPLOYMENTS_API}`);
