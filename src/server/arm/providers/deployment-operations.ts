// A deployment's operations (one per resource it wrote) and the status at its Azure-AsyncOperation URL.
import { RESOURCE_TYPES } from '../../../core/resource-types.js';
import { renderOperation, renderOperationStatus } from '../../../wire/arm/deployment.js';
import { armError, listPage, parseListQuery, versionsOf } from '../../../wire/arm/index.js';
import type { ArmResponse } from '../context.js';
import { asSeen, deploymentPlace, requireDeployment } from '../deployment-record.js';
import type { OperationContext, ResourceTypeDeclaration } from '../provider.js';

const OPERATIONS = RESOURCE_TYPES.deploymentOperations;
const STATUSES = RESOURCE_TYPES.deploymentStatuses;

function operationNotFound(id: string) {
  return armError(
    'DeploymentOperationNotFound',
    `Deployment operation '${id}' could not be found.`,
    {
      status: 404,
    },
  );
}

async function listOperations(context: OperationContext): Promise<ArmResponse> {
  const { services } = context;
  const { resource, record } = await requireDeployment(services, deploymentPlace(context));
  const { top } = parseListQuery(context.request.query);
  const now = services.clock.now();
  const value = record.operations
    .slice(0, top ?? record.operations.length)
    .map((op) => renderOperation(resource.id, op, now));
  return { status: 200, body: listPage(value, { requestUrl: context.request.url }) };
}

async function readOperation(context: OperationContext): Promise<ArmResponse> {
  const { services } = context;
  const { resource, record } = await requireDeployment(services, deploymentPlace(context));
  const op = record.operations.find(
    (o) => o.operationId.toLowerCase() === context.name.toLowerCase(),
  );
  if (op === undefined) throw operationNotFound(context.name);
  return { status: 200, body: renderOperation(resource.id, op, services.clock.now()) };
}

/** `…/deployments/{name}/operations[/{operationId}]`, also addressed without the provider segments. */
export const deploymentOperations: ResourceTypeDeclaration = {
  type: OPERATIONS,
  apiVersions: versionsOf(OPERATIONS),
  placement: ['resourceGroup', 'subscription'],
  validateName: () => undefined,
  // The list is the deployment's own: authorized once at the deployment, not filtered per item.
  operations: {
    list: { run: listOperations, authorizeAt: 'container' },
    read: { run: readOperation },
  },
};

async function readStatus(context: OperationContext): Promise<ArmResponse> {
  const { resource, record: stored } = await requireDeployment(
    context.services,
    deploymentPlace(context),
  );
  const record = asSeen(resource.id, stored, context.services.clock.now());
  if (record.asyncOperationId !== context.name) throw operationNotFound(context.name);
  const running = record.state === 'Accepted' || record.state === 'Running';
  return {
    status: 200,
    body: renderOperationStatus(resource.id, record),
    ...(running ? { headers: { 'retry-after': '1' } } : {}),
  };
}

/** `…/deployments/{name}/operationStatuses/{id}`: what az and the SDKs poll after a PUT. */
export const deploymentStatuses: ResourceTypeDeclaration = {
  type: STATUSES,
  apiVersions: versionsOf(STATUSES),
  placement: ['resourceGroup', 'subscription'],
  validateName: () => undefined,
  operations: { read: { run: readStatus } },
};
