// Every resource type ARM serves: one line per provider module. Adding a type is a module and a line here.
import { createRegistry, type Registry } from '../registry.js';
import { activityLog } from './activity-log.js';
import { auditEvents } from './audit-events.js';
import { deploymentOperations, deploymentStatuses } from './deployment-operations.js';
import { deployments } from './deployments.js';
import { federatedCredentials } from './federated-credentials.js';
import { keyVaults } from './key-vaults.js';
import { permissions } from './permissions.js';
import { resourceGroups } from './resource-groups.js';
import { resourceProviders } from './resource-providers.js';
import { genericResources } from './resources.js';
import { roleAssignments } from './role-assignments.js';
import { roleDefinitions } from './role-definitions.js';
import { scaleSetInstances } from './scale-set-instances.js';
import { scaleSets } from './scale-sets.js';
import { subscriptions, tenants } from './subscriptions.js';
import { systemIdentities } from './system-identities.js';
import { userAssignedIdentities } from './user-assigned-identities.js';
import { virtualMachines } from './virtual-machines.js';
import { vmExtensions } from './vm-extensions.js';

/** The registry the ARM surface serves. */
export const ARM_REGISTRY: Registry = createRegistry([
  tenants,
  subscriptions,
  resourceGroups,
  genericResources(() => ARM_REGISTRY),
  resourceProviders(() => ARM_REGISTRY),
  userAssignedIdentities,
  federatedCredentials,
  systemIdentities,
  virtualMachines,
  vmExtensions,
  scaleSets,
  scaleSetInstances,
  roleAssignments,
  roleDefinitions,
  permissions,
  keyVaults,
  auditEvents,
  activityLog,
  deployments,
  deploymentOperations,
  deploymentStatuses,
]);
