// Template deployments on the ARM surface: the plan a request makes, the record it starts, and the run in the background.
import { setTimeout as delay } from 'node:timers/promises';
import { executeDeployment, type CleanupTarget } from '../../core/deployments/executor.js';
import type { DeploymentRecord } from '../../core/deployments/record.js';
import type { DispatchResult, ResourceDispatcher } from '../../core/deployments/references.js';
import { isAppError } from '../../core/errors.js';
import type { DeploymentScope } from '../../core/templates/context.js';
import { planDeployment, type DeploymentPlan } from '../../core/templates/plan.js';
import { readTemplate } from '../../core/templates/template.js';
import { murmurHash64 } from '../../core/templates/unique.js';
import { templateEnvironment } from '../../wire/arm/cloud-metadata.js';
import { readDeploymentRequest, type DeploymentRequest } from '../../wire/arm/deployment-body.js';
import {
  deploymentActive,
  deploymentOutputsFailed,
  renderDeployment,
  renderValidation,
  type DeploymentHead,
} from '../../wire/arm/deployment.js';
import { newestVersionOf } from '../../wire/arm/api-versions.js';
import { armError } from '../../wire/arm/index.js';
import { armErrorObject } from '../../wire/errors/index.js';
import type { ArmResponse } from './context.js';
import {
  deploymentPlace,
  deploymentResource,
  groupResourcesBesides,
  HEARTBEAT_MS,
  isActive,
  runKey,
  readDeployment,
  updateDeployment,
  type DeploymentPlace,
} from './deployment-record.js';
import type { NestedRequest, OperationContext } from './provider.js';

/** A deployment request read and planned, with the record it starts as. */
export interface PreparedDeployment {
  readonly place: DeploymentPlace;
  readonly request: DeploymentRequest;
  readonly plan: DeploymentPlan;
  readonly record: DeploymentRecord;
}

/** The template's hash: the 64-bit MurmurHash of its compact JSON, unsigned decimal (Part C 1.4). */
function templateHashOf(template: unknown): string {
  return BigInt.asUintN(64, murmurHash64(Buffer.from(JSON.stringify(template), 'utf8'))).toString();
}

/** The 20 decimal digits of an `Azure-AsyncOperation` id, from a GUID. */
function asyncOperationIdOf(guid: string): string {
  const digits = BigInt(`0x${guid.replace(/-/g, '')}`) % 10n ** 20n;
  return digits.toString().padStart(20, '0');
}

/** What `resourceGroup()`, `subscription()`, `tenant()`, `deployment()` and `environment()` answer. */
async function scopeOf(
  context: OperationContext,
  place: DeploymentPlace,
  request: DeploymentRequest,
  templateHash: string,
): Promise<DeploymentScope> {
  const { store } = context.services;
  const subscription = await store.resources.get(`/subscriptions/${place.subscriptionId}`);
  const tenant = await store.tenants.get(context.where.tenantId);
  const group =
    place.resourceGroup === null ? undefined : await store.resources.get(context.where.groupId);
  const subscriptionName = (subscription?.properties as { displayName?: string } | undefined)
    ?.displayName;
  return {
    tenantId: context.where.tenantId,
    ...(tenant === undefined ? {} : { tenantDisplayName: tenant.displayName }),
    subscriptionId: place.subscriptionId,
    subscriptionDisplayName: subscriptionName ?? subscription?.name ?? place.subscriptionId,
    ...(group === undefined
      ? {}
      : { resourceGroup: { name: group.name, location: group.location ?? '', tags: group.tags } }),
    deploymentName: place.name,
    deploymentProperties: {
      template: request.template,
      templateHash,
      parameters: request.parameters ?? {},
      mode: request.mode,
      provisioningState: 'Accepted',
    },
    ...(request.location === undefined ? {} : { deploymentLocation: request.location }),
    environment: templateEnvironment(context.listener),
  };
}

/**
 * Reads the request (PUT, `validate` or `whatIf`) and plans it: every template fault is ARM's
 * `InvalidTemplate` (400) before anything is written.
 */
export async function prepareDeployment(context: OperationContext): Promise<PreparedDeployment> {
  const { services } = context;
  const place = deploymentPlace(context);
  const request = readDeploymentRequest(
    context.request.body,
    place.resourceGroup === null ? 'subscription' : 'resourceGroup',
  );
  if (request.mode === 'Complete' && place.resourceGroup === null) {
    throw armError(
      'InvalidDeployment',
      "The deployment mode 'Complete' is not supported at subscription scope; use 'Incremental'. Please see https://aka.ms/arm-deployment-modes for usage details.",
    );
  }
  const templateHash = templateHashOf(request.template);
  const scope = await scopeOf(context, place, request, templateHash);
  const plan = planDeployment(readTemplate(request.template, request.templateSource), {
    scope,
    parameters: request.parameters,
    newGuid: services.newId,
    now: () => services.clock.now(),
  });
  const record: DeploymentRecord = {
    state: 'Accepted',
    mode: request.mode,
    correlationId: context.request.correlationId ?? services.newId(),
    asyncOperationId: asyncOperationIdOf(services.newId()),
    startedAt: services.clock.now(),
    template: request.template,
    templateHash,
    parameters: plan.parameters,
    outputResources: [],
    resources: plan.resources.map((r) => ({
      id: r.id,
      resourceType: r.type,
      resourceName: r.name,
      ...(r.location === undefined ? {} : { location: r.location }),
      dependsOn: r.dependsOn,
    })),
    operations: [],
  };
  return { place, request, plan, record };
}

/** A deployment's envelope as rendered. */
export function headOf(place: DeploymentPlace, request: DeploymentRequest): DeploymentHead {
  return {
    id: place.id,
    name: place.name,
    location: request.location ?? null,
    ...(request.tags === undefined ? {} : { tags: request.tags }),
  };
}

/** How a deployment's run writes and reads resources: through the pipeline, as its caller. */
export function dispatcherFor(
  context: OperationContext,
  correlationId: string,
): ResourceDispatcher {
  const call = async (request: NestedRequest): Promise<DispatchResult> => {
    try {
      const answer = await context.dispatch(request);
      return { status: answer.status, body: answer.body, requestId: answer.requestId };
    } catch (error) {
      return { status: isAppError(error) ? error.status : 500, error: armErrorObject(error) };
    }
  };
  return {
    put: (path, apiVersion, body) => call({ method: 'PUT', path, apiVersion, body, correlationId }),
    get: (path, apiVersion) => call({ method: 'GET', path, apiVersion, correlationId }),
    delete: (path, apiVersion) => call({ method: 'DELETE', path, apiVersion, correlationId }),
  };
}

/**
 * What a Complete deployment deletes: the group's tracked resources (identities, VMs, scale
 * sets, vaults) that the template neither deploys nor names under a false `condition`.
 */
async function cleanupOf(
  context: OperationContext,
  plan: DeploymentPlan,
): Promise<CleanupTarget[]> {
  const named = new Set([...plan.resources, ...plan.skipped].map((r) => r.id.toLowerCase()));
  const left = await groupResourcesBesides(context, named);
  return left.map((r) => ({
    id: r.id,
    type: r.type,
    name: r.name,
    apiVersion: newestVersionOf(r.type),
  }));
}

/** Runs a started deployment to its end, saving its operations after each wave. */
async function runDeployment(
  context: OperationContext,
  prepared: PreparedDeployment,
  id: string,
  signal: AbortSignal,
): Promise<void> {
  const { services } = context;
  const now = (): number => services.clock.now();
  // Every write below applies to this run's record only, never to one that replaced it.
  const own = (r: DeploymentRecord): boolean =>
    r.asyncOperationId === prepared.record.asyncOperationId;
  await updateDeployment(services, id, (r) =>
    own(r) && r.state === 'Accepted' ? { ...r, state: 'Running', heartbeatAt: now() } : undefined,
  );
  // While it runs, the record says so: a deployment whose server stops is seen as failed.
  const heartbeat = setInterval(() => {
    void updateDeployment(services, id, (r) =>
      own(r) && isActive(r, now()) ? { ...r, heartbeatAt: now() } : undefined,
    ).catch(() => undefined);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  try {
    const result = await executeDeployment({
      plan: prepared.plan,
      ...(prepared.record.mode === 'Complete'
        ? { cleanup: await cleanupOf(context, prepared.plan) }
        : {}),
      dispatcher: dispatcherFor(context, prepared.record.correlationId),
      clock: services.clock,
      signal,
      wait: (ms) => delay(ms),
      progress: async (operations) => {
        const saved = await updateDeployment(services, id, (r) =>
          own(r) && r.state !== 'Canceled' ? { ...r, operations, heartbeatAt: now() } : undefined,
        );
        return saved !== undefined && own(saved) && saved.state !== 'Canceled';
      },
      describe: (error) => armErrorObject(error),
    });
    const endedAt = now();
    const finished = (r: DeploymentRecord): DeploymentRecord => ({
      ...r,
      state: r.state === 'Canceled' ? 'Canceled' : result.state,
      operations: result.operations,
      outputResources: result.outputResources,
      ...(result.outputs === undefined ? {} : { outputs: result.outputs }),
      ...(result.error === undefined ? {} : { error: deploymentOutputsFailed(id, result.error) }),
      endedAt: r.endedAt ?? endedAt,
    });
    await updateDeployment(services, id, (r) => (own(r) ? finished(r) : undefined));
  } finally {
    clearInterval(heartbeat);
  }
}

/**
 * PUT: plans the deployment, stores it `Accepted` (refusing with `DeploymentActive` while the
 * same deployment runs) and starts it in the background. Answers 201 (200 when it replaces a
 * finished one) with `Azure-AsyncOperation` to poll and an integer `Retry-After` of 1 s, so az's
 * poller does not wait its default 30 s (PROTOCOL-TOOLS Part C 1.5).
 */
export async function putDeployment(context: OperationContext): Promise<ArmResponse> {
  const { services } = context;
  const prepared = await prepareDeployment(context);
  const { record, request } = prepared;
  const { created, place } = await context.writing(
    () => services.store.resources.get(prepared.place.id),
    async (existing) => {
      const previous =
        existing === undefined ? undefined : await readDeployment(services, existing.id);
      if (previous !== undefined && isActive(previous.record, record.startedAt)) {
        throw deploymentActive(previous.resource.name, previous.record.startedAt);
      }
      const at =
        existing === undefined
          ? prepared.place
          : { ...prepared.place, id: existing.id, name: existing.name };
      const head = {
        location: request.location ?? null,
        tags: request.tags ?? {},
        createdAt: existing?.createdAt ?? record.startedAt,
      };
      const resource = deploymentResource(at, record, head, record.startedAt);
      const written = await services.store.resources.put(resource, {
        ifMatch: existing?.etag ?? null,
      });
      return { created: written.created, place: at };
    },
  );
  const run = { ...prepared, place };
  context.jobs.start(runKey(place.id, record), (signal) =>
    runDeployment(context, run, place.id, signal),
  );
  const status = `${context.listener.baseUrl}${place.id}/operationStatuses/${record.asyncOperationId}?api-version=${context.apiVersion}`;
  return {
    status: created ? 201 : 200,
    body: renderDeployment(headOf(place, request), record, record.startedAt),
    headers: { 'azure-asyncoperation': status, 'retry-after': '1' },
  };
}

/**
 * `POST …/validate`: the template checked and planned as a PUT would be, nothing written. 200 with
 * the deployment as it would start and its `validatedResources`; a fault is 400 with ARM's error.
 */
export async function validateDeployment(context: OperationContext): Promise<ArmResponse> {
  const prepared = await prepareDeployment(context);
  return {
    status: 200,
    body: renderValidation(headOf(prepared.place, prepared.request), prepared.record),
  };
}
