// Every ARM resource type Tessera knows, by name: the one place its type strings are written.

/** The full types, in ARM's canonical case (ids and types compare case-insensitively). */
export const RESOURCE_TYPES = {
  tenants: 'Microsoft.Resources/tenants',
  subscriptions: 'Microsoft.Resources/subscriptions',
  resourceGroups: 'Microsoft.Resources/resourceGroups',
  resources: 'Microsoft.Resources/resources',
  providers: 'Microsoft.Resources/providers',
  deployments: 'Microsoft.Resources/deployments',
  deploymentOperations: 'Microsoft.Resources/deployments/operations',
  deploymentStatuses: 'Microsoft.Resources/deployments/operationStatuses',
  userAssignedIdentities: 'Microsoft.ManagedIdentity/userAssignedIdentities',
  federatedCredentials:
    'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials',
  systemIdentities: 'Microsoft.ManagedIdentity/identities',
  virtualMachines: 'Microsoft.Compute/virtualMachines',
  vmExtensions: 'Microsoft.Compute/virtualMachines/extensions',
  scaleSets: 'Microsoft.Compute/virtualMachineScaleSets',
  scaleSetInstances: 'Microsoft.Compute/virtualMachineScaleSets/virtualMachines',
  keyVaults: 'Microsoft.KeyVault/vaults',
  roleAssignments: 'Microsoft.Authorization/roleAssignments',
  roleDefinitions: 'Microsoft.Authorization/roleDefinitions',
  permissions: 'Microsoft.Authorization/permissions',
  activityLog: 'Microsoft.Insights/eventtypes/values',
} as const;
