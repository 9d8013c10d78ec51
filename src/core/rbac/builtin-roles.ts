// Azure's built-in roles that matter for managed identities, as Azure defines them, and their seeding into the store.

import type { EpochMs, Permission, RoleDefinition } from '../model.js';
import type { Store } from '../ports.js';

/** A built-in role as Azure publishes it: no timestamps, plus where the definition comes from. */
export type BuiltInRole = Omit<RoleDefinition, 'createdAt' | 'updatedAt'> & {
  /** The page of Azure's documentation the definition was copied from. */
  readonly source: string;
};

/** The GUIDs (ARM `name`) of the built-in roles Tessera ships. Identical in every Azure cloud. */
export const BUILT_IN_ROLE_IDS = {
  owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
  userAccessAdministrator: '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
  roleBasedAccessControlAdministrator: 'f58310d9-a9f6-439a-9e8d-f62e7b41a168',
  managedIdentityContributor: 'e40ec5ca-96e0-45a2-b4ff-59039f2c2b59',
  managedIdentityOperator: 'f1a07417-d97a-45cb-824c-7a7467783830',
  virtualMachineContributor: '9980e02c-c2be-4d73-94e8-173b1dc7cf3c',
  keyVaultAdministrator: '00482a5a-887f-4fb3-b363-3b7fe8e74483',
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  keyVaultReader: '21090545-7ca7-4776-b22c-e363652d74d2',
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
} as const;

const DOCS = 'https://learn.microsoft.com/en-us/azure/role-based-access-control/built-in-roles';

const permission = (p: Partial<Permission>): Permission => ({
  actions: p.actions ?? [],
  notActions: p.notActions ?? [],
  dataActions: p.dataActions ?? [],
  notDataActions: p.notDataActions ?? [],
});

const role = (
  id: string,
  roleName: string,
  description: string,
  source: string,
  p: Partial<Permission>,
): BuiltInRole => ({
  id,
  roleName,
  type: 'BuiltInRole',
  description,
  assignableScopes: ['/'],
  permissions: [permission(p)],
  source,
});

// The control-plane actions the Key Vault data roles share (security.md, every "Key Vault …"
// role that has Actions).
const KEY_VAULT_READ_ACTIONS = [
  'Microsoft.Authorization/*/read',
  'Microsoft.Insights/alertRules/*',
  'Microsoft.Resources/deployments/*',
  'Microsoft.Resources/subscriptions/resourceGroups/read',
  'Microsoft.Support/*',
  'Microsoft.KeyVault/checkNameAvailability/read',
  'Microsoft.KeyVault/deletedVaults/read',
  'Microsoft.KeyVault/locations/*/read',
  'Microsoft.KeyVault/vaults/*/read',
  'Microsoft.KeyVault/operations/read',
];

const KV_RBAC_ONLY =
  "Only works for key vaults that use the 'Azure role-based access control' permission model.";

/**
 * The built-in roles Tessera knows, copied verbatim (ids, names, descriptions, permissions) from
 * Azure's generated built-in roles reference; each entry's `source` is its page. Every one is a
 * `BuiltInRole` assignable at `/`.
 */
export const BUILT_IN_ROLES: readonly BuiltInRole[] = [
  role(
    BUILT_IN_ROLE_IDS.owner,
    'Owner',
    'Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.',
    `${DOCS}/privileged#owner`,
    { actions: ['*'] },
  ),
  role(
    BUILT_IN_ROLE_IDS.contributor,
    'Contributor',
    'Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.',
    `${DOCS}/privileged#contributor`,
    {
      actions: ['*'],
      notActions: [
        'Microsoft.Authorization/*/Delete',
        'Microsoft.Authorization/*/Write',
        'Microsoft.Authorization/elevateAccess/Action',
        'Microsoft.Blueprint/blueprintAssignments/write',
        'Microsoft.Blueprint/blueprintAssignments/delete',
        'Microsoft.Compute/galleries/share/action',
        'Microsoft.Purview/consents/write',
        'Microsoft.Purview/consents/delete',
        'Microsoft.Resources/deploymentStacks/manageDenySetting/action',
        'Microsoft.Subscription/cancel/action',
        'Microsoft.Subscription/enable/action',
      ],
    },
  ),
  role(
    BUILT_IN_ROLE_IDS.reader,
    'Reader',
    'View all resources, but does not allow you to make any changes.',
    `${DOCS}/general#reader`,
    { actions: ['*/read'] },
  ),
  role(
    BUILT_IN_ROLE_IDS.userAccessAdministrator,
    'User Access Administrator',
    'Lets you manage user access to Azure resources.',
    `${DOCS}/privileged#user-access-administrator`,
    { actions: ['*/read', 'Microsoft.Authorization/*', 'Microsoft.Support/*'] },
  ),
  role(
    BUILT_IN_ROLE_IDS.roleBasedAccessControlAdministrator,
    'Role Based Access Control Administrator',
    'Manage access to Azure resources by assigning roles using Azure RBAC. This role does not allow you to manage access using other ways, such as Azure Policy.',
    `${DOCS}/privileged#role-based-access-control-administrator`,
    {
      actions: [
        'Microsoft.Authorization/roleAssignments/write',
        'Microsoft.Authorization/roleAssignments/delete',
        '*/read',
        'Microsoft.Support/*',
      ],
    },
  ),
  role(
    BUILT_IN_ROLE_IDS.managedIdentityContributor,
    'Managed Identity Contributor',
    'Create, Read, Update, and Delete User Assigned Identity',
    `${DOCS}/identity#managed-identity-contributor`,
    {
      actions: [
        'Microsoft.ManagedIdentity/userAssignedIdentities/read',
        'Microsoft.ManagedIdentity/userAssignedIdentities/write',
        'Microsoft.ManagedIdentity/userAssignedIdentities/delete',
        'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read',
        'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write',
        'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/delete',
        'Microsoft.ManagedIdentity/userAssignedIdentities/revokeTokens/action',
        'Microsoft.Authorization/*/read',
        'Microsoft.Insights/alertRules/*',
        'Microsoft.Resources/subscriptions/resourceGroups/read',
        'Microsoft.Resources/deployments/*',
        'Microsoft.Support/*',
      ],
    },
  ),
  role(
    BUILT_IN_ROLE_IDS.managedIdentityOperator,
    'Managed Identity Operator',
    'Read and Assign User Assigned Identity',
    `${DOCS}/identity#managed-identity-operator`,
    {
      actions: [
        'Microsoft.ManagedIdentity/userAssignedIdentities/*/read',
        'Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action',
        'Microsoft.Authorization/*/read',
        'Microsoft.Insights/alertRules/*',
        'Microsoft.Resources/subscriptions/resourceGroups/read',
        'Microsoft.Resources/deployments/*',
        'Microsoft.Support/*',
      ],
    },
  ),
  role(
    BUILT_IN_ROLE_IDS.virtualMachineContributor,
    'Virtual Machine Contributor',
    "Lets you manage virtual machines, but not access to them, and not the virtual network or storage account they're connected to.",
    `${DOCS}/compute#virtual-machine-contributor`,
    {
      actions: [
        'Microsoft.Authorization/*/read',
        'Microsoft.Compute/availabilitySets/*',
        'Microsoft.Compute/locations/*',
        'Microsoft.Compute/virtualMachines/*',
        'Microsoft.Compute/virtualMachineScaleSets/*',
        'Microsoft.Compute/cloudServices/*',
        'Microsoft.Compute/disks/write',
        'Microsoft.Compute/disks/read',
        'Microsoft.Compute/disks/delete',
        'Microsoft.Compute/hostgroups/write',
        'Microsoft.Compute/hostgroups/hosts/write',
        'Microsoft.DevTestLab/schedules/*',
        'Microsoft.Insights/alertRules/*',
        'Microsoft.Network/applicationGateways/backendAddressPools/join/action',
        'Microsoft.Network/loadBalancers/backendAddressPools/join/action',
        'Microsoft.Network/loadBalancers/inboundNatPools/join/action',
        'Microsoft.Network/loadBalancers/inboundNatRules/join/action',
        'Microsoft.Network/loadBalancers/probes/join/action',
        'Microsoft.Network/loadBalancers/read',
        'Microsoft.Network/locations/*',
        'Microsoft.Network/networkInterfaces/*',
        'Microsoft.Network/networkSecurityGroups/join/action',
        'Microsoft.Network/networkSecurityGroups/read',
        'Microsoft.Network/publicIPAddresses/join/action',
        'Microsoft.Network/publicIPAddresses/read',
        'Microsoft.Network/virtualNetworks/read',
        'Microsoft.Network/virtualNetworks/subnets/join/action',
        'Microsoft.RecoveryServices/locations/*',
        'Microsoft.RecoveryServices/Vaults/backupFabrics/backupProtectionIntent/write',
        'Microsoft.RecoveryServices/Vaults/backupFabrics/protectionContainers/protectedItems/*/read',
        'Microsoft.RecoveryServices/Vaults/backupFabrics/protectionContainers/protectedItems/read',
        'Microsoft.RecoveryServices/Vaults/backupFabrics/protectionContainers/protectedItems/write',
        'Microsoft.RecoveryServices/Vaults/backupPolicies/read',
        'Microsoft.RecoveryServices/Vaults/backupPolicies/write',
        'Microsoft.RecoveryServices/Vaults/read',
        'Microsoft.RecoveryServices/Vaults/usages/read',
        'Microsoft.RecoveryServices/Vaults/write',
        'Microsoft.ResourceHealth/availabilityStatuses/read',
        'Microsoft.Resources/deployments/*',
        'Microsoft.Resources/subscriptions/resourceGroups/read',
        'Microsoft.SerialConsole/serialPorts/connect/action',
        'Microsoft.SqlVirtualMachine/*',
        'Microsoft.Storage/storageAccounts/listKeys/action',
        'Microsoft.Storage/storageAccounts/read',
        'Microsoft.Support/*',
      ],
    },
  ),
  role(
    BUILT_IN_ROLE_IDS.keyVaultAdministrator,
    'Key Vault Administrator',
    `Perform all data plane operations on a key vault and all objects in it, including certificates, keys, and secrets. Cannot manage key vault resources or manage role assignments. ${KV_RBAC_ONLY}`,
    `${DOCS}/security#key-vault-administrator`,
    { actions: KEY_VAULT_READ_ACTIONS, dataActions: ['Microsoft.KeyVault/vaults/*'] },
  ),
  role(
    BUILT_IN_ROLE_IDS.keyVaultSecretsOfficer,
    'Key Vault Secrets Officer',
    `Perform any action on the secrets of a key vault, except manage permissions. ${KV_RBAC_ONLY}`,
    `${DOCS}/security#key-vault-secrets-officer`,
    { actions: KEY_VAULT_READ_ACTIONS, dataActions: ['Microsoft.KeyVault/vaults/secrets/*'] },
  ),
  role(
    BUILT_IN_ROLE_IDS.keyVaultSecretsUser,
    'Key Vault Secrets User',
    `Read secret contents. ${KV_RBAC_ONLY}`,
    `${DOCS}/security#key-vault-secrets-user`,
    {
      dataActions: [
        'Microsoft.KeyVault/vaults/secrets/getSecret/action',
        'Microsoft.KeyVault/vaults/secrets/readMetadata/action',
      ],
    },
  ),
  role(
    BUILT_IN_ROLE_IDS.keyVaultReader,
    'Key Vault Reader',
    `Read metadata of key vaults and its certificates, keys, and secrets. Cannot read sensitive values such as secret contents or key material. ${KV_RBAC_ONLY}`,
    `${DOCS}/security#key-vault-reader`,
    {
      actions: KEY_VAULT_READ_ACTIONS,
      dataActions: [
        'Microsoft.KeyVault/vaults/*/read',
        'Microsoft.KeyVault/vaults/secrets/readMetadata/action',
      ],
    },
  ),
  role(
    BUILT_IN_ROLE_IDS.storageBlobDataReader,
    'Storage Blob Data Reader',
    'Allows for read access to Azure Storage blob containers and data',
    `${DOCS}/storage#storage-blob-data-reader`,
    {
      actions: [
        'Microsoft.Storage/storageAccounts/blobServices/containers/read',
        'Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action',
      ],
      dataActions: ['Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'],
    },
  ),
];

/** {@link BUILT_IN_ROLES} as role definitions created and updated at `at`. */
export function builtInRoleDefinitions(at: EpochMs): RoleDefinition[] {
  return BUILT_IN_ROLES.map((r) => ({
    id: r.id,
    roleName: r.roleName,
    type: r.type,
    description: r.description,
    assignableScopes: r.assignableScopes,
    permissions: r.permissions,
    createdAt: at,
    updatedAt: at,
  }));
}

/**
 * Writes every built-in role into the store, in one transaction: a missing role is created, a
 * role whose name, description, scopes or permissions differ from Azure's is brought back in line
 * (keeping its `createdAt`), and an identical one is left alone, so running it at every start
 * changes nothing. Returns the ids it wrote.
 */
export async function seedBuiltInRoles(store: Store, at: EpochMs): Promise<readonly string[]> {
  return store.transaction(async (tx) => {
    const existing = new Map(
      (await tx.roles.listDefinitions()).map((d) => [d.id.toLowerCase(), d] as const),
    );
    const written: string[] = [];
    for (const wanted of builtInRoleDefinitions(at)) {
      const current = existing.get(wanted.id);
      if (current !== undefined && sameDefinition(current, wanted)) continue;
      await tx.roles.putDefinition(
        current === undefined ? wanted : { ...wanted, createdAt: current.createdAt },
      );
      written.push(wanted.id);
    }
    return written;
  });
}

function sameDefinition(a: RoleDefinition, b: RoleDefinition): boolean {
  return JSON.stringify(comparable(a)) === JSON.stringify(comparable(b));
}

function comparable(d: RoleDefinition): unknown {
  return [
    d.roleName,
    d.type,
    d.description,
    d.assignableScopes,
    d.permissions.map((p) => [p.actions, p.notActions, p.dataActions, p.notDataActions]),
  ];
}
