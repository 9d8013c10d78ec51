// Microsoft.Resources/deployments: template deployments at a resource group or subscription, with validate, whatIf, cancel and exportTemplate.
import { RESOURCE_TYPES } from '../../../core/resource-types.js';
import type { DeploymentRecord } from '../../../core/deployments/record.js';
import { validateDeploymentName } from '../../../wire/arm/deployment-body.js';
import {
  deploymentCannotBeCancelled,
  deploymentStillRunning,
  renderDeployment,
} from '../../../wire/arm/deployment.js';
import { armError, versionsOf } from '../../../wire/arm/index.js';
import type { ArmResponse } from '../context.js';
import {
  asSeen,
  deploymentPlace,
  isActive,
  requireDeployment,
  runKey,
  updateDeployment,
  type StoredDeployment,
} from '../deployment-record.js';
import { putDeployment, validateDeployment } from '../deployment-run.js';
import { whatIfDeployment } from '../deployment-what-if.js';
import { actionOf, type OperationContext, type ResourceTypeDeclaration } from '../provider.js';

const DEPLOYMENTS = RESOURCE_TYPES.deployments;

/** A stored deployment as ARM renders it. */
export function renderStored(stored: StoredDeployment, now: number) {
  const { resource } = stored;
  return renderDeployment(
    { id: resource.id, name: resource.name, location: resource.location, tags: resource.tags },
    asSeen(resource.id, stored.record, now),
    now,
  );
}

async function read(context: OperationContext): Promise<ArmResponse> {
  const stored = await requireDeployment(context.services, deploymentPlace(context));
  if (context.request.method === 'HEAD') return { status: 204 };
  return { status: 200, body: renderStored(stored, context.services.clock.now()) };
}

/** `$filter=provisioningState eq '{state}'`, the one filter ARM takes here; undefined without one. */
function stateFilter(context: OperationContext): string | undefined {
  const raw = Object.entries(context.request.query).find(([k]) => k.toLowerCase() === '$filter');
  const value = typeof raw?.[1] === 'string' ? raw[1].trim() : undefined;
  if (value === undefined || value === '') return undefined;
  const match = /^provisioningState\s+eq\s+'([A-Za-z]+)'$/i.exec(value);
  if (match === null) {
    throw armError(
      'InvalidFilter',
      `The filter '${value}' is not valid: only provisioningState eq '{state}' is supported.`,
    );
  }
  return (match[1] ?? '').toLowerCase();
}

function list(context: OperationContext): Promise<ArmResponse> {
  const { where } = context;
  const inGroup = context.target.resourceGroup !== undefined;
  const state = stateFilter(context);
  const now = context.services.clock.now();
  return context.list(
    {
      subscriptionId: where.subscriptionId,
      type: DEPLOYMENTS,
      ...(inGroup ? { resourceGroup: where.groupName } : {}),
    },
    (resource) => {
      if (!inGroup && resource.resourceGroup !== null) return undefined;
      const record = asSeen(resource.id, resource.properties as unknown as DeploymentRecord, now);
      if (state !== undefined && record.state.toLowerCase() !== state) return undefined;
      return actionOf(deployments, 'read');
    },
    (resource) =>
      renderStored({ resource, record: resource.properties as unknown as DeploymentRecord }, now),
  );
}

/** DELETE: the deployment's history entry (its resources stay, as on Azure); refused while it runs. */
async function remove(context: OperationContext): Promise<ArmResponse> {
  const { services } = context;
  const stored = await requireDeployment(services, deploymentPlace(context));
  if (isActive(stored.record, services.clock.now())) {
    throw deploymentStillRunning(stored.resource.name);
  }
  await services.store.resources.delete(stored.resource.id);
  return { status: 204 };
}

/** `POST …/cancel`: an Accepted or Running deployment becomes Canceled; what it deployed stays. */
async function cancel(context: OperationContext): Promise<ArmResponse> {
  const { services } = context;
  const stored = await requireDeployment(services, deploymentPlace(context));
  const now = services.clock.now();
  let refused: string | undefined;
  await updateDeployment(services, stored.resource.id, (record) => {
    if (!isActive(record, now)) {
      refused = asSeen(stored.resource.id, record, now).state;
      return undefined;
    }
    return { ...record, state: 'Canceled', endedAt: now };
  });
  if (refused !== undefined) throw deploymentCannotBeCancelled(stored.resource.name, refused);
  context.jobs.cancel(runKey(stored.resource.id, stored.record));
  return { status: 204 };
}

/** `POST …/exportTemplate`: the template exactly as it was deployed. */
async function exportTemplate(context: OperationContext): Promise<ArmResponse> {
  const stored = await requireDeployment(context.services, deploymentPlace(context));
  return { status: 200, body: { template: stored.record.template } };
}

/** `…/providers/Microsoft.Resources/deployments[/{name}]` at a resource group or subscription. */
export const deployments: ResourceTypeDeclaration = {
  type: DEPLOYMENTS,
  apiVersions: versionsOf(DEPLOYMENTS),
  placement: ['resourceGroup', 'subscription'],
  validateName: validateDeploymentName,
  operations: {
    read: { run: read },
    list: { run: list },
    put: { run: putDeployment },
    delete: { run: remove },
    actions: {
      validate: { run: validateDeployment },
      whatif: { run: whatIfDeployment },
      cancel: { run: cancel },
      exporttemplate: { run: exportTemplate },
    },
  },
};
