// Runs a planned deployment: each wave's resources concurrently through the resource providers, then the outputs.
import { mapConcurrently } from '../concurrency.js';
import type { Clock } from '../ports.js';
import type { DeploymentPlan, DeploymentValue, PlannedResource } from '../templates/plan.js';
import { murmurHash64 } from '../templates/unique.js';
import type { ErrorRecord, OperationRecord } from './record.js';
import { ReferenceBook, ReferenceFailed, type ResourceDispatcher } from './references.js';

/** What {@link executeDeployment} runs with. */
export interface ExecutionOptions {
  readonly plan: DeploymentPlan;
  readonly dispatcher: ResourceDispatcher;
  readonly clock: Clock;
  /** Aborted when the deployment is cancelled. */
  readonly signal: AbortSignal;
  /** Waits before a resource still provisioning is read again (a nested deployment). */
  readonly wait: (ms: number) => Promise<void>;
  /** Saves the operations so far, after each wave; resolves false when it was cancelled elsewhere. */
  readonly progress: (operations: readonly OperationRecord[]) => Promise<boolean>;
  /** Words an error raised while evaluating (a template fault) as ARM does. */
  readonly describe: (error: unknown) => ErrorRecord;
  /** Resources written at once within a wave; default 16. */
  readonly concurrency?: number;
  /**
   * Complete mode: what the scope holds and the template does not name, deleted once every
   * template resource succeeded (`DeploymentCleanup`, deployment-modes.md).
   */
  readonly cleanup?: readonly CleanupTarget[];
}

/** A resource a Complete deployment deletes. */
export interface CleanupTarget {
  readonly id: string;
  readonly type: string;
  readonly name: string;
  readonly apiVersion: string;
}

/** How a deployment ended. */
export interface ExecutionResult {
  readonly state: 'Succeeded' | 'Failed' | 'Canceled';
  readonly operations: readonly OperationRecord[];
  readonly outputs?: Readonly<Record<string, DeploymentValue>>;
  readonly outputResources: readonly string[];
  /** A fault of the deployment itself (its outputs), not of one resource. */
  readonly error?: ErrorRecord;
}

/** `provisioningState` values of a resource still on its way (a nested deployment's `Accepted`). */
const IN_PROGRESS = new Set(['accepted', 'running', 'creating', 'updating', 'deleting']);
const POLL_MS = 100;
/** The longest Tessera waits for one resource to finish provisioning. */
const RESOURCE_DEADLINE_MS = 600_000;

/**
 * The operation id ARM gives a deployment's operation on `resourceId`: the 64-bit MurmurHash of
 * the upper-cased `{subscription}/{group}/{type/name}` as 16 hex digits, so a target keeps its id
 * across deployments (PROTOCOL-TOOLS Part C 1.8).
 */
export function operationIdFor(resourceId: string): string {
  const match =
    /^\/subscriptions\/([^/]+)(?:\/resourceGroups\/([^/]+))?(?:\/providers\/(.*))?$/i.exec(
      resourceId,
    );
  const key = match === null ? resourceId : `${match[1]}/${match[2] ?? ''}/${match[3] ?? ''}`;
  const hash = murmurHash64(Buffer.from(key.toUpperCase(), 'utf8'));
  return hash.toString(16).toUpperCase().padStart(16, '0');
}

function provisioningState(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const properties = (body as { properties?: unknown }).properties;
  if (typeof properties !== 'object' || properties === null) return undefined;
  const state = (properties as { provisioningState?: unknown }).provisioningState;
  return typeof state === 'string' ? state : undefined;
}

/** ARM's detail for a resource whose own provisioning ended other than `Succeeded`. */
function resourceDeploymentFailure(state: string, body: unknown): ErrorRecord {
  const inner = (body as { properties?: { error?: ErrorRecord } } | undefined)?.properties?.error;
  return {
    code: 'ResourceDeploymentFailure',
    message: `The resource write operation failed to complete successfully, because it reached terminal provisioning state '${state}'.`,
    ...(inner === undefined ? {} : { details: [inner] }),
  };
}

/** One deployment's run: its operations, the resources it reads, and what failed. */
class Run {
  readonly operations = new Map<string, OperationRecord>();
  readonly deployed: string[] = [];
  private readonly failed = new Set<string>();
  readonly book: ReferenceBook;

  constructor(private readonly options: ExecutionOptions) {
    const ids = new Set(options.plan.resources.map((r) => r.id.toLowerCase()));
    this.book = new ReferenceBook(options.dispatcher, ids);
  }

  /** Deploys one resource unless something it waits for failed or was never deployed. */
  async deploy(resource: PlannedResource): Promise<void> {
    if (resource.dependsOn.some((id) => this.failed.has(id.toLowerCase()))) {
      this.failed.add(resource.id.toLowerCase());
      return;
    }
    const { clock } = this.options;
    const base = {
      operationId: operationIdFor(resource.id),
      kind: 'Create' as const,
      resourceId: resource.id,
      resourceType: resource.type,
      resourceName: resource.name,
      startedAt: clock.now(),
    };
    this.operations.set(resource.id.toLowerCase(), { ...base, state: 'Running' });
    const outcome = await this.write(resource);
    const ok = outcome.error === undefined;
    if (!ok) this.failed.add(resource.id.toLowerCase());
    else this.deployed.push(resource.id);
    this.operations.set(resource.id.toLowerCase(), {
      ...base,
      state: ok ? 'Succeeded' : 'Failed',
      endedAt: clock.now(),
      ...outcome,
    });
  }

  private async write(resource: PlannedResource): Promise<Partial<OperationRecord>> {
    const { dispatcher } = this.options;
    let body: unknown;
    try {
      body = await this.book.evaluate(() => resource.body(this.book));
    } catch (error) {
      if (error instanceof ReferenceFailed) return { statusCode: 404, error: error.error };
      return { statusCode: 400, error: this.options.describe(error) };
    }
    const written = await dispatcher.put(resource.id, resource.apiVersion, body);
    const answer = {
      statusCode: written.status,
      ...(written.requestId === undefined ? {} : { serviceRequestId: written.requestId }),
    };
    if (written.status >= 300) {
      return { ...answer, error: written.error ?? { code: 'Failed', message: 'Failed' } };
    }
    const settled = await this.settle(resource, written.body);
    if (settled.error !== undefined) return { ...answer, error: settled.error };
    this.book.record(resource.id, settled.body);
    return answer;
  }

  /** Reads a resource again until it leaves an in-progress state (a nested deployment). */
  private async settle(
    resource: PlannedResource,
    body: unknown,
  ): Promise<{ body: unknown; error?: ErrorRecord }> {
    const { dispatcher, clock, wait } = this.options;
    const deadline = clock.now() + RESOURCE_DEADLINE_MS;
    let current = body;
    for (;;) {
      const state = provisioningState(current);
      if (state === undefined || !IN_PROGRESS.has(state.toLowerCase())) {
        if (state === undefined || state.toLowerCase() === 'succeeded') return { body: current };
        return { body: current, error: resourceDeploymentFailure(state, current) };
      }
      if (clock.now() > deadline || this.options.signal.aborted) {
        return { body: current, error: resourceDeploymentFailure(state, current) };
      }
      await wait(POLL_MS);
      const read = await dispatcher.get(resource.id, resource.apiVersion);
      if (read.status >= 300)
        return { body: current, error: read.error ?? resourceDeploymentFailure(state, current) };
      current = read.body;
    }
  }

  /** Deletes what a Complete deployment leaves out; each is an operation of its own. */
  async remove(target: CleanupTarget): Promise<void> {
    const { clock, dispatcher } = this.options;
    const startedAt = clock.now();
    const deleted = await dispatcher.delete(target.id, target.apiVersion);
    const failed = deleted.status >= 300 && deleted.status !== 404;
    this.operations.set(`delete:${target.id.toLowerCase()}`, {
      operationId: operationIdFor(target.id),
      kind: 'Delete',
      state: failed ? 'Failed' : 'Succeeded',
      resourceId: target.id,
      resourceType: target.type,
      resourceName: target.name,
      startedAt,
      endedAt: clock.now(),
      statusCode: deleted.status,
      ...(deleted.requestId === undefined ? {} : { serviceRequestId: deleted.requestId }),
      ...(failed ? { error: deleted.error ?? { code: 'Failed', message: 'Failed' } } : {}),
    });
  }

  get anyFailed(): boolean {
    return [...this.operations.values()].some((op) => op.state === 'Failed');
  }

  list(): OperationRecord[] {
    return [...this.operations.values()];
  }
}

/**
 * Runs `plan`: its waves in order, each wave's resources concurrently (bounded), each body
 * evaluated once what it depends on has finished (so `reference()` sees it) and written through
 * the dispatcher. A resource whose dependency failed is not attempted; independent branches go
 * on, and what succeeded stays (Incremental, as ARM). A resource still provisioning after its
 * write (a nested deployment) is read again until it finishes. In Complete mode, once all
 * succeeded, `cleanup` is deleted. The outputs are evaluated last.
 * Cancellation stops before the next resource; what is running finishes.
 */
export async function executeDeployment(options: ExecutionOptions): Promise<ExecutionResult> {
  const { plan, signal } = options;
  // A function, not the property: cancellation arrives while this awaits.
  const stopped = (): boolean => signal.aborted;
  const run = new Run(options);
  const canceled = (): ExecutionResult => ({
    state: 'Canceled',
    operations: run
      .list()
      .map((op) => (op.state === 'Running' ? { ...op, state: 'Canceled' } : op)),
    outputResources: run.deployed,
  });
  for (const wave of plan.waves) {
    if (stopped()) return canceled();
    const resources = wave.map((i) => plan.resources[i]).filter((r) => r !== undefined);
    await mapConcurrently(resources, options.concurrency ?? 16, async (resource) => {
      if (!stopped()) await run.deploy(resource);
    });
    if (!(await options.progress(run.list())) || stopped()) return canceled();
  }
  if (!run.anyFailed && options.cleanup !== undefined && options.cleanup.length > 0) {
    if (stopped()) return canceled();
    await mapConcurrently(options.cleanup, options.concurrency ?? 16, (target) =>
      run.remove(target),
    );
  }
  const operations = run.list();
  if (run.anyFailed) return { state: 'Failed', operations, outputResources: run.deployed };
  try {
    const outputs = await run.book.evaluate(() => plan.outputs(run.book));
    return { state: 'Succeeded', operations, outputs, outputResources: run.deployed };
  } catch (error) {
    const described = error instanceof ReferenceFailed ? error.error : options.describe(error);
    return { state: 'Failed', operations, outputResources: run.deployed, error: described };
  }
}
