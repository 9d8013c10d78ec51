// reference() while a deployment runs: answered from what the deployment wrote or read, fetching the rest on demand.
import type { TemplateValue } from '../templates/context.js';
import { DeferredValue, type TemplateRuntime } from '../templates/plan.js';
import type { ErrorRecord } from './record.js';

/** What a resource provider answered one request of a deployment. */
export interface DispatchResult {
  readonly status: number;
  /** The response body (the resource, for a write or a read that succeeded). */
  readonly body?: unknown;
  /** The error, in ARM's words, for a status of 400 or more. */
  readonly error?: ErrorRecord;
  /** The `x-ms-request-id` it was answered under. */
  readonly requestId?: string;
}

/**
 * How a deployment reaches resource providers: every request goes through ARM's own pipeline
 * (api-version, validation, the caller's RBAC, the Activity Log under the deployment's
 * correlation id).
 */
export interface ResourceDispatcher {
  put(id: string, apiVersion: string, body: unknown): Promise<DispatchResult>;
  get(id: string, apiVersion: string): Promise<DispatchResult>;
  delete(id: string, apiVersion: string): Promise<DispatchResult>;
}

/** Thrown through the synchronous evaluator when `reference()` needs a resource not read yet. */
class ResourceNeeded extends Error {
  constructor(
    readonly resourceId: string,
    readonly apiVersion: string,
  ) {
    super(`reference() needs ${resourceId}`);
  }
}

/** A `reference()` whose resource could not be read: the provider's error. */
export class ReferenceFailed extends Error {
  constructor(readonly error: ErrorRecord) {
    super(error.message);
  }
}

function isObject(value: unknown): value is Record<string, TemplateValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `Microsoft.X/type/name` of a full id: what `'Full'` answers as `resourceId`. */
function relativeId(id: string): string {
  const at = id.toLowerCase().lastIndexOf('/providers/');
  return at < 0 ? id : id.slice(at + '/providers/'.length);
}

/** The subscription and group an id names, for `'Full'`. */
function placeOf(id: string): { subscriptionId: string; resourceGroupName: string } {
  const match = /^\/subscriptions\/([^/]+)(?:\/resourceGroups\/([^/]+))?/i.exec(id);
  return { subscriptionId: match?.[1] ?? '', resourceGroupName: match?.[2] ?? '' };
}

/**
 * The runtime of one deployment: `reference()` answers from the resources it has written (their
 * PUT answers) or read, and asks for any other through {@link ReferenceBook.evaluate}.
 * `reference(id)` is the resource's `properties`; with `'Full'`, its whole body plus ARM's
 * metadata (template-functions-resource.md "reference"): `apiVersion`, `subscriptionId`,
 * `resourceGroupName`, the relative `resourceId`, `referenceApiVersion`, `condition`,
 * `isConditionTrue`, `isTemplateResource`, `isAction` and `provisioningOperation`.
 */
export class ReferenceBook implements TemplateRuntime {
  private readonly known = new Map<string, Record<string, TemplateValue>>();

  /**
   * @param templateIds the deployment's own resources (lower-case ids).
   * @param deferred lower-case ids whose `reference()` is deferred rather than read (what-if:
   *   template resources that do not exist yet).
   */
  constructor(
    private readonly dispatcher: ResourceDispatcher,
    private readonly templateIds: ReadonlySet<string>,
    private readonly deferred: ReadonlySet<string> = new Set(),
  ) {}

  /** Remembers what a resource looks like now (its PUT or GET answer). */
  record(id: string, body: unknown): void {
    if (isObject(body)) this.known.set(id.toLowerCase(), body);
  }

  reference(resourceId: string, apiVersion: string, full: boolean): TemplateValue {
    const body = this.known.get(resourceId.toLowerCase());
    if (body === undefined && this.deferred.has(resourceId.toLowerCase())) {
      throw new DeferredValue(resourceId);
    }
    if (body === undefined) throw new ResourceNeeded(resourceId, apiVersion);
    if (!full) return body.properties ?? {};
    return {
      ...body,
      apiVersion,
      ...placeOf(resourceId),
      resourceId: relativeId(resourceId),
      referenceApiVersion: apiVersion,
      condition: true,
      isConditionTrue: true,
      isTemplateResource: this.templateIds.has(resourceId.toLowerCase()),
      isAction: false,
      provisioningOperation: 'Read',
    };
  }

  /**
   * Runs a synchronous evaluation that may call `reference()`: each resource it needs and has
   * not seen is read through the dispatcher and the evaluation runs again (it is pure), at most
   * `limit` reads.
   *
   * @throws {ReferenceFailed} when a resource cannot be read (the provider's error).
   */
  async evaluate<T>(work: () => T, limit = 100): Promise<T> {
    for (let reads = 0; ; reads++) {
      try {
        return work();
      } catch (error) {
        if (!(error instanceof ResourceNeeded) || reads >= limit) throw error;
        const read = await this.dispatcher.get(error.resourceId, error.apiVersion);
        if (read.status >= 300 || !isObject(read.body)) {
          throw new ReferenceFailed(
            read.error ?? {
              code: 'ResourceNotFound',
              message: `The resource '${error.resourceId}' could not be read.`,
            },
          );
        }
        this.record(error.resourceId, read.body);
      }
    }
  }
}
