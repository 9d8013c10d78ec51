// How a resource type is declared to ARM: where it sits, its api-versions, its operations.
import type { Resource } from '../../core/model.js';
import type { ResourceQuery } from '../../core/ports.js';
import type { ResourceTypeVersions } from '../../wire/arm/index.js';
import type { ArmRequest, ArmResponse, ArmServices } from './context.js';
import type { BackgroundJobs } from './jobs.js';
import type { ReadAction } from './list.js';
import type { GroupLocation } from './scope.js';
import type { ArmTarget, ScopeKind } from '../../wire/arm/target.js';

/** A request an operation makes on its caller's behalf (a deployment writing a resource). */
export interface NestedRequest {
  readonly method: 'GET' | 'PUT' | 'DELETE';
  /** The resource's id. */
  readonly path: string;
  readonly apiVersion: string;
  readonly body?: unknown;
  /** The Activity Log records it under this correlation id. */
  readonly correlationId: string;
}

/** An answer to a {@link NestedRequest}, with the request id it was recorded under. */
export interface NestedResponse extends ArmResponse {
  readonly requestId: string;
}

/** What the installation looks like from this listener (`environment()`, async URLs). */
export interface ListenerFacts {
  /** The public URL requests reached, no trailing slash. */
  readonly baseUrl: string;
  /** The Key Vault DNS suffix as clients reach vaults (`vault.localhost:8444`). */
  readonly keyVaultDns: string;
}

/** What an operation runs with: the request, and what the pipeline has already checked. */
export interface OperationContext {
  readonly services: ArmServices;
  readonly request: ArmRequest;
  readonly target: ArmTarget;
  /** The api-version, in the case the type lists it. */
  readonly apiVersion: string;
  /** The item's id, or the collection's path, as requested. */
  readonly id: string;
  /** The names of the path, one per type segment (`[vm, extension]`). */
  readonly names: readonly string[];
  /** The last name (the item's own). */
  readonly name: string;
  /** The path of what a collection or child sits in: the parent resource, or the scope. */
  readonly container: string;
  /** The subscription and resource group, when the path has them (the group checked to exist). */
  readonly where: GroupLocation;
  /** The body as a JSON object, read once (Json.NET's words for a fault). */
  body(): Record<string, unknown>;
  /** Refuses unless the caller may perform `action` at `scope` (`AuthorizationFailed`, 403). */
  authorize(action: string, scope: string): Promise<void>;
  /**
   * Runs a read-modify-write: `read` loads the current resource, the request's `If-Match` and
   * `If-None-Match` are checked against it, and `attempt` writes; all again when a concurrent
   * writer got in first (the store's `PreconditionFailed`).
   */
  writing<T>(
    read: () => Promise<Resource | undefined>,
    attempt: (existing: Resource | undefined) => Promise<T>,
  ): Promise<T>;
  /**
   * Lists the resources matching `query`, one store page per request (`$top`, `$skipToken`),
   * keeping those the caller may `readAction` (undefined from it leaves a resource out), each
   * rendered with `render`.
   */
  list(
    query: ResourceQuery,
    readAction: ReadAction,
    render: (resource: Resource) => unknown,
  ): Promise<ArmResponse>;
  /**
   * Runs `request` through the same pipeline as the caller's own requests, as the caller: the
   * api-version, validation and the caller's RBAC apply, and the Activity Log records it.
   *
   * @throws {AppError} what the pipeline answered, as for the caller's own request.
   */
  dispatch(request: NestedRequest): Promise<NestedResponse>;
  /** Work that outlives the request, stopped when the server closes. */
  readonly jobs: BackgroundJobs;
  readonly listener: ListenerFacts;
}

/** Where the pipeline authorizes an operation's action before it runs. */
export type AuthorizeAt = 'item' | 'container' | 'scope' | 'none';

/** One operation of a type: what runs, and where the pipeline authorizes it first. */
export interface Operation {
  readonly run: (context: OperationContext) => Promise<ArmResponse>;
  /**
   * Where the derived action is authorized before `run`: `item` (the requested id; the default
   * for reads of one item, writes, deletes and actions), `container` (the collection's parent or
   * scope; role assignments, scale-set instances), `scope` (what the path sits in: the
   * subscription of its Activity Log), or `none` (a list filtered per item by
   * {@link OperationContext.list}; the default for lists).
   */
  readonly authorizeAt?: AuthorizeAt;
}

/** The operations a type has; the pipeline answers `MethodNotAllowed` for the rest. */
export interface Operations {
  /** GET (and HEAD) of one item. */
  readonly read?: Operation;
  /** GET of the collection. */
  readonly list?: Operation;
  readonly put?: Operation;
  readonly patch?: Operation;
  readonly delete?: Operation;
  /** POST `{item}/{name}`, keyed by the action's name in lower case. */
  readonly actions?: Readonly<Record<string, Operation>>;
}

/** A resource type as ARM serves it. */
export interface ResourceTypeDeclaration {
  /** The full type, canonical case: `Microsoft.Compute/virtualMachines/extensions`. */
  readonly type: string;
  /** The api-versions it accepts (in the order ARM prints them in errors), and who answers. */
  readonly apiVersions: ResourceTypeVersions;
  /** Where its items sit. A child type sits where its parent does. */
  readonly placement: readonly ScopeKind[];
  /** Where its collection may be listed; default {@link placement}. */
  readonly listAt?: readonly ScopeKind[];
  /** For a type that sits on resources (`identities/default`), the types it may sit on. */
  readonly on?: readonly string[];
  /** The prefix of its RBAC actions; default {@link type}. */
  readonly actionPrefix?: string;
  /** Checks a name the path gives for this type (the last one); default ARM's name rules. */
  readonly validateName?: (name: string) => void;
  /**
   * Operations run even when the path's resource group is gone (role assignments left on a
   * deleted group stay removable); by default a missing group is `ResourceGroupNotFound`.
   */
  readonly groupMayBeGone?: boolean;
  /** Listed by `GET /subscriptions/{s}/resources` (a tracked top-level type). */
  readonly tracked?: boolean;
  /** What `GET /providers/{namespace}` says of it (`SupportsTags, SupportsLocation`). */
  readonly capabilities?: string;
  readonly operations: Operations;
}

/** The operation a request asks for, with its RBAC action. */
export interface ResolvedOperation {
  readonly operation: Operation;
  readonly action: string;
  readonly authorizeAt: AuthorizeAt;
  /** True for writes, deletes and actions: what the Activity Log records. */
  readonly records: boolean;
}

/** The RBAC action of `verb` (`read`, `write`, `delete`, or an action's name) on `declaration`. */
export function actionOf(declaration: ResourceTypeDeclaration, verb: string): string {
  const prefix = declaration.actionPrefix ?? declaration.type;
  return ['read', 'write', 'delete'].includes(verb)
    ? `${prefix}/${verb}`
    : `${prefix}/${verb}/action`;
}

/**
 * The operation of `declaration` that `method` asks for on an item or a collection, or undefined
 * when the type has none (the pipeline answers `MethodNotAllowed`). `actionName` is the last path
 * segment of a POST to an item's action.
 */
export function resolveOperation(
  declaration: ResourceTypeDeclaration,
  method: string,
  collection: boolean,
  actionName?: string,
): ResolvedOperation | undefined {
  const ops = declaration.operations;
  const pick = (
    operation: Operation | undefined,
    verb: string,
    fallback: 'item' | 'none',
    records: boolean,
  ): ResolvedOperation | undefined =>
    operation === undefined
      ? undefined
      : {
          operation,
          action: actionOf(declaration, verb),
          authorizeAt: operation.authorizeAt ?? fallback,
          records,
        };
  if (actionName !== undefined) {
    if (method !== 'POST') return undefined;
    return pick(ops.actions?.[actionName.toLowerCase()], actionName, 'item', true);
  }
  if (collection) return method === 'GET' ? pick(ops.list, 'read', 'none', false) : undefined;
  switch (method) {
    case 'GET':
    case 'HEAD':
      return pick(ops.read, 'read', 'item', false);
    case 'PUT':
      return pick(ops.put, 'write', 'item', true);
    case 'PATCH':
      return pick(ops.patch, 'write', 'item', true);
    case 'DELETE':
      return pick(ops.delete, 'delete', 'item', true);
    default:
      return undefined;
  }
}
