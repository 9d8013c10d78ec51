// A template deployment as ARM keeps it: its state, what it deployed, and one operation per resource.
import type { EpochMs } from '../model.js';
import type { TemplateValue } from '../templates/context.js';
import type { DeploymentValue } from '../templates/plan.js';

/** `properties.provisioningState` of a deployment (the values Tessera reaches of ARM's enum). */
export type DeploymentState = 'Accepted' | 'Running' | 'Succeeded' | 'Failed' | 'Canceled';

/** How a deployment treats what the group holds and the template does not name. */
export type DeploymentMode = 'Incremental' | 'Complete';

/** The states a deployment does not leave by itself. */
export const FINISHED_STATES: ReadonlySet<DeploymentState> = new Set([
  'Succeeded',
  'Failed',
  'Canceled',
]);

/** An error as ARM words it (`ErrorDetail`), kept as data: what a resource provider answered. */
export interface ErrorRecord {
  readonly code: string;
  readonly message: string;
  readonly target?: string;
  readonly details?: readonly ErrorRecord[];
  readonly additionalInfo?: readonly unknown[];
}

/** What one deployment operation did (`provisioningOperation`). */
export type OperationKind = 'Create' | 'Delete';

/** One resource's operation within a deployment (ARM's `DeploymentOperation`). */
export interface OperationRecord {
  /** 16 upper-case hex digits, the same for the same target in every deployment. */
  readonly operationId: string;
  readonly kind: OperationKind;
  readonly state: 'Running' | 'Succeeded' | 'Failed' | 'Canceled';
  readonly resourceId: string;
  readonly resourceType: string;
  /** The template's name of it: `vm1/ManagedIdentityExtensionForWindows`. */
  readonly resourceName: string;
  readonly startedAt: EpochMs;
  readonly endedAt?: EpochMs;
  /** The resource provider's HTTP status. */
  readonly statusCode?: number;
  readonly error?: ErrorRecord;
  /** The `x-ms-request-id` of the request that wrote it. */
  readonly serviceRequestId?: string;
}

/** A resource of the plan, where it goes and what it waits for (`providers`, `dependencies`). */
export interface PlannedRecord {
  readonly id: string;
  readonly resourceType: string;
  readonly resourceName: string;
  readonly location?: string;
  readonly dependsOn: readonly string[];
}

/** A deployment: the request that made it and how far it got. */
export interface DeploymentRecord {
  readonly state: DeploymentState;
  readonly mode: DeploymentMode;
  /** Shared with the Activity Log events of every resource it wrote. */
  readonly correlationId: string;
  /** The id in its `Azure-AsyncOperation` URL: 20 decimal digits. */
  readonly asyncOperationId: string;
  readonly startedAt: EpochMs;
  readonly endedAt?: EpochMs;
  /** When the server running it last showed it was alive (every few seconds while it runs). */
  readonly heartbeatAt?: EpochMs;
  /** The template as sent, for `exportTemplate` and `deployment()`. */
  readonly template: TemplateValue;
  /** The template's hash: an unsigned 64-bit decimal. */
  readonly templateHash: string;
  /** The effective parameter values, `{name: {type, value}}` (secure ones left out). */
  readonly parameters: Readonly<Record<string, DeploymentValue>>;
  readonly outputs?: Readonly<Record<string, DeploymentValue>>;
  /** The ids of the resources it deployed. */
  readonly outputResources: readonly string[];
  readonly resources: readonly PlannedRecord[];
  readonly operations: readonly OperationRecord[];
  /** Why it failed, when not because of its operations (its outputs; its server stopped). */
  readonly error?: ErrorRecord;
}
