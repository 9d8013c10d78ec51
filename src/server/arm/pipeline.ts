// ARM's one request pipeline: parse the id, find the type, check the api-version, admit, authorize, run, record.
import { isAppError, methodNotAllowed } from '../../core/errors.js';
import { retryOnConflict } from '../../core/resources/write-retry.js';
import type { Resource } from '../../core/model.js';
import {
  ARM_HEADERS,
  checkApiVersion,
  checkPreconditions,
  parseJsonObject,
  readApiVersion,
  validateResourceName,
} from '../../wire/arm/index.js';
import { type ArmRequest, type ArmResponse, type ArmServices, authorize } from './context.js';
import { listReadable } from './list.js';
import type { BackgroundJobs } from './jobs.js';
import type {
  ListenerFacts,
  NestedRequest,
  NestedResponse,
  OperationContext,
  ResolvedOperation,
  ResourceTypeDeclaration,
} from './provider.js';
import { resolveOperation } from './provider.js';
import { notServed, type Registry } from './registry.js';
import { type GroupLocation, groupNotFound, locateGroup } from './scope.js';
import { type ArmTarget, OWN_TYPES, parseTarget } from '../../wire/arm/target.js';

/** What the pipeline tells the Activity Log of one write, delete or action, however it ended. */
export interface OperationOutcome {
  readonly request: ArmRequest;
  readonly target: ArmTarget;
  readonly declaration: ResourceTypeDeclaration;
  readonly action: string;
  /** The HTTP status answered (an error's status when it failed). */
  readonly status: number;
  readonly startedAt: number;
  readonly endedAt: number;
}

/** Records one operation's outcome (the Activity Log). */
export type Recorder = (outcome: OperationOutcome) => Promise<void>;

/** What the pipeline is built from. */
export interface Pipeline {
  readonly services: ArmServices;
  readonly registry: Registry;
  /** Told of every write, delete and action once it has an answer (the Activity Log). */
  readonly recorded?: Recorder;
  /** The recorder of a request an operation makes on its caller's behalf, under its trace ids. */
  readonly recorderFor?: (trace: Readonly<Record<string, string>>) => Recorder;
  readonly jobs: BackgroundJobs;
  readonly listener: ListenerFacts;
}

const NO_PLACE: GroupLocation = {
  subscriptionId: '',
  tenantId: '',
  groupId: '/',
  groupName: '',
  groupExists: false,
};

/** Finds the declaration and operation a target asks for; a POST to `{item}/{name}` is an action. */
function locate(
  registry: Registry,
  target: ArmTarget,
  method: string,
): { declaration: ResourceTypeDeclaration; target: ArmTarget; actionName?: string } | undefined {
  const declaration = registry.get(target.type);
  if (declaration !== undefined) return { declaration, target };
  if (method !== 'POST' || !target.collection || target.names.length === 0) return undefined;
  const cut = target.type.lastIndexOf('/');
  const owner = registry.get(target.type.slice(0, cut));
  if (owner === undefined) return undefined;
  return {
    declaration: owner,
    target: {
      ...target,
      type: owner.type,
      collection: false,
      id: target.id.slice(0, target.id.lastIndexOf('/')),
    },
    actionName: target.type.slice(cut + 1),
  };
}

/** Whether the type may sit where the target puts it. */
function placed(declaration: ResourceTypeDeclaration, target: ArmTarget): boolean {
  const kinds = target.collection
    ? (declaration.listAt ?? declaration.placement)
    : declaration.placement;
  if (!kinds.includes(target.scopeKind)) return false;
  if (target.scopeType === undefined || declaration.on === undefined) return true;
  const sitsOn = target.scopeType.toLowerCase();
  return declaration.on.some((type) => type.toLowerCase() === sitsOn);
}

/** Checks each name the path gives for a declared type (the parent's, then the item's own). */
function validateNames(registry: Registry, target: ArmTarget): void {
  const [namespace = '', ...types] = target.type.split('/');
  target.names.forEach((name, i) => {
    const type = [namespace, ...types.slice(0, i + 1)].join('/');
    const declaration = registry.get(type);
    if (declaration?.validateName !== undefined) declaration.validateName(name);
    else validateResourceName(declaration?.type ?? type, name);
  });
}

/** Where the target sits: its subscription (checked), its resource group (named, maybe missing). */
async function admit(services: ArmServices, target: ArmTarget): Promise<GroupLocation> {
  if (target.subscriptionId === undefined) return NO_PLACE;
  const ownGroup = target.type === OWN_TYPES.resourceGroups;
  return locateGroup(
    services,
    target.subscriptionId,
    ownGroup && target.collection ? undefined : target.resourceGroup,
  );
}

/** The container of an item or collection: the parent resource of a child, else the scope. */
function containerOf(target: ArmTarget): string {
  const own = target.type.split('/').length - 1;
  if (own <= 1) return target.scope;
  const cut = target.collection ? 1 : 2;
  return target.id.split('/').slice(0, -cut).join('/');
}

/** Runs `nested` through `pipeline` as `request`'s caller, recorded under its own request id. */
async function dispatchNested(
  pipeline: Pipeline,
  request: ArmRequest,
  nested: NestedRequest,
): Promise<NestedResponse> {
  const requestId = pipeline.services.newId();
  const trace = {
    [ARM_HEADERS.requestId]: requestId,
    [ARM_HEADERS.correlationRequestId]: nested.correlationId,
  };
  const query = `api-version=${encodeURIComponent(nested.apiVersion)}`;
  const response = await runPipeline(
    {
      ...pipeline,
      ...(pipeline.recorderFor === undefined ? {} : { recorded: pipeline.recorderFor(trace) }),
    },
    {
      caller: request.caller,
      method: nested.method,
      path: nested.path,
      query: { 'api-version': nested.apiVersion },
      headers: { [ARM_HEADERS.correlationRequestId]: nested.correlationId },
      body: nested.body === undefined ? '' : JSON.stringify(nested.body),
      url: `${pipeline.listener.baseUrl}${nested.path}?${query}`,
      correlationId: nested.correlationId,
    },
  );
  return { ...response, requestId };
}

function contextFor(
  pipeline: Pipeline,
  request: ArmRequest,
  target: ArmTarget,
  apiVersion: string,
  where: GroupLocation,
): OperationContext {
  const { services } = pipeline;
  let body: Record<string, unknown> | undefined;
  return {
    services,
    request,
    target,
    apiVersion,
    id: target.id,
    names: target.names,
    name: target.names.at(-1) ?? '',
    container: containerOf(target),
    where,
    body: () => (body ??= parseJsonObject(request.body)),
    authorize: (action, scope) => authorize(services, request, action, scope),
    writing: <T>(
      read: () => Promise<Resource | undefined>,
      attempt: (existing: Resource | undefined) => Promise<T>,
    ): Promise<T> =>
      retryOnConflict(async () => {
        const existing = await read();
        checkPreconditions(request.headers, existing);
        return attempt(existing);
      }),
    list: (query, readAction, render) => listReadable(services, request, query, readAction, render),
    dispatch: (nested) => dispatchNested(pipeline, request, nested),
    jobs: pipeline.jobs,
    listener: pipeline.listener,
  };
}

/** Runs the steps every resolved operation shares, from admission to the operation's answer. */
async function perform(
  pipeline: Pipeline,
  request: ArmRequest,
  target: ArmTarget,
  declaration: ResourceTypeDeclaration,
  resolved: ResolvedOperation,
  apiVersion: string,
): Promise<ArmResponse> {
  const { services, registry } = pipeline;
  const where = await admit(services, target);
  validateNames(registry, target);
  const context = contextFor(pipeline, request, target, apiVersion, where);
  const scopes = { item: target.id, container: context.container, scope: target.scope, none: '' };
  if (resolved.authorizeAt !== 'none') {
    await context.authorize(resolved.action, scopes[resolved.authorizeAt]);
  }
  const inGroup =
    target.resourceGroup !== undefined && declaration.type !== OWN_TYPES.resourceGroups;
  if (inGroup && !where.groupExists && declaration.groupMayBeGone !== true) {
    throw groupNotFound(target.resourceGroup ?? '');
  }
  return resolved.operation.run(context);
}

/**
 * Answers one authenticated ARM request: parses the path once, finds the type in the registry,
 * checks the api-version against the type's table, admits the subscription and resource group,
 * checks the names, authorizes the derived action, runs the operation, and tells the Activity Log
 * of every write, delete and action (failures and RBAC denials included).
 */
export async function runPipeline(pipeline: Pipeline, request: ArmRequest): Promise<ArmResponse> {
  const parsed = parseTarget(request.path);
  const found =
    parsed === undefined ? undefined : locate(pipeline.registry, parsed, request.method);
  if (found === undefined || !placed(found.declaration, found.target)) {
    throw notServed(pipeline.registry, request.path, parsed, readApiVersion(request.query));
  }
  const { declaration, target, actionName } = found;
  const apiVersion = checkApiVersion(declaration.type, declaration.apiVersions, request.query);
  const resolved = resolveOperation(declaration, request.method, target.collection, actionName);
  if (resolved === undefined) throw methodNotAllowed(request.method);
  if (!resolved.records || pipeline.recorded === undefined) {
    return perform(pipeline, request, target, declaration, resolved, apiVersion);
  }
  const startedAt = pipeline.services.clock.now();
  const record = (status: number): Promise<void> =>
    pipeline.recorded?.({
      request,
      target,
      declaration,
      action: resolved.action,
      status,
      startedAt,
      endedAt: pipeline.services.clock.now(),
    }) ?? Promise.resolve();
  try {
    const response = await perform(pipeline, request, target, declaration, resolved, apiVersion);
    await record(response.status);
    return response;
  } catch (error) {
    await record(isAppError(error) ? error.status : 500);
    throw error;
  }
}
