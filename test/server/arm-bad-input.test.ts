// Bad input across the ARM surface, one table: each row gets the ARM error code Azure uses and changes nothing.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  Credential,
  IdentityAttachment,
  Principal,
  Resource,
  RoleAssignment,
  RoleDefinition,
} from '../../src/core/model.js';
import type { Page, PageRequest, Store } from '../../src/core/ports.js';
import { BUILT_IN_ROLE_IDS } from '../../src/core/rbac/index.js';
import { type ArmHarness, type ArmResult, errorCode, startArm } from './arm-harness.js';

const RG_V = 'api-version=2021-04-01';
const MSI_V = 'api-version=2023-01-31';
const VM_V = 'api-version=2024-07-01';
const KV_V = 'api-version=2023-07-01';
const AUTH_V = 'api-version=2022-04-01';
const UAI = 'Microsoft.ManagedIdentity/userAssignedIdentities';
const VMS = 'Microsoft.Compute/virtualMachines';
const VAULTS = 'Microsoft.KeyVault/vaults';
const ASSIGNMENTS = 'Microsoft.Authorization/roleAssignments';
const DEFINITIONS = 'Microsoft.Authorization/roleDefinitions';

/** What the rows refer to; made through the ARM surface before the table runs. */
interface Fixtures {
  readonly sub: string;
  /** `/subscriptions/{sub}/resourceGroups/bad-input`. */
  readonly group: string;
  /** The id of a user-assigned identity in the group. */
  readonly uai: string;
  /** A VM in the group holding its system identity and `uai`. */
  readonly vm: string;
  readonly vault: string;
  /** A client with Reader at the group through the assignment `assignment`. */
  readonly principalId: string;
  readonly assignment: string;
  /** Reader's role definition id at subscription scope. */
  readonly reader: string;
}

/** One bad request and the ARM error Azure answers it with. */
interface Row {
  readonly name: string;
  readonly method: 'GET' | 'PUT' | 'PATCH' | 'POST' | 'DELETE';
  readonly path: (f: Fixtures) => string;
  /** The query without `?`: normally `api-version=…`; '' for none. */
  readonly query: string;
  /** The body as raw text (so it may be malformed); absent sends none. */
  readonly body?: string | ((f: Fixtures) => string);
  readonly status: number;
  /** ARM's `error.code`. */
  readonly code: string;
  /** ARM's `error.target`, where the answer carries one. */
  readonly target?: string;
  /** A fragment of `error.message`. */
  readonly message?: string;
}

const json = (value: unknown): string => JSON.stringify(value);
const uaiPath = (f: Fixtures, name: string): string => `${f.group}/providers/${UAI}/${name}`;
const vmPath = (f: Fixtures, name: string): string => `${f.group}/providers/${VMS}/${name}`;
const vaultPath = (f: Fixtures, name: string): string => `${f.group}/providers/${VAULTS}/${name}`;
const assignmentPath = (f: Fixtures, name: string): string =>
  `${f.group}/providers/${ASSIGNMENTS}/${name}`;
const newVm = (f: Fixtures): string => vmPath(f, 'fresh-vm');
const vmWithIdentity = (identity: unknown): string => json({ location: 'westeurope', identity });
const vmWithIdentityOf =
  (identity: (f: Fixtures) => unknown) =>
  (f: Fixtures): string =>
    json({ location: 'westeurope', identity: identity(f) });
const assignmentBody =
  (properties: (f: Fixtures) => Record<string, unknown>) =>
  (f: Fixtures): string =>
    json({ properties: properties(f) });

// Sources are next to each row: a captured Azure answer (issue or pull request), or "Tessera's
// choice" where docs/compatibility.md records an intentional difference or Azure's answer is not
// captured anywhere.
const ROWS: readonly Row[] = [
  // --- malformed ids ---------------------------------------------------------------------------
  {
    // Azure: hashicorp/terraform-provider-azurerm#25954 (400), Azure/azure-cli#30953 (text).
    name: 'subscription id that is not a GUID',
    method: 'PUT',
    path: () => '/subscriptions/not-a-guid/resourceGroups/rg-x',
    query: RG_V,
    body: json({ location: 'westeurope' }),
    status: 400,
    code: 'InvalidSubscriptionId',
    message: "The provided subscription identifier 'not-a-guid' is malformed or invalid.",
  },
  {
    // Azure: Azure/azure-cli#33657 (code, text), Azure/azure-cli PR 30164 (ResourceNotFoundError).
    name: 'subscription that does not exist',
    method: 'PUT',
    path: () => `/subscriptions/${randomUUID()}/resourceGroups/rg-x`,
    query: RG_V,
    body: json({ location: 'westeurope' }),
    status: 404,
    code: 'SubscriptionNotFound',
  },
  {
    // Tessera's choice (docs/compatibility.md: ids with empty segments are refused).
    name: 'empty path segment',
    method: 'PUT',
    path: (f) => `/subscriptions/${f.sub}/resourceGroups//providers/${UAI}/x1x`,
    query: MSI_V,
    body: json({ location: 'westeurope' }),
    status: 404,
    code: 'InvalidResourceType',
  },
  {
    // Azure: Azure/terraform-provider-azapi#604 (a type the namespace lacks, 404).
    name: 'resource type the namespace does not have',
    method: 'PUT',
    path: (f) => `${f.group}/providers/Microsoft.Compute/virtualThings/x`,
    query: VM_V,
    body: json({ location: 'westeurope' }),
    status: 404,
    code: 'InvalidResourceType',
  },
  {
    // Azure: aci-connector-k8s#13 (code and text; the status is not captured, 404 as for types).
    name: 'resource namespace that does not exist',
    method: 'PUT',
    path: (f) => `${f.group}/providers/Contoso.Widgets/widgets/x`,
    query: VM_V,
    body: json({ location: 'westeurope' }),
    status: 404,
    code: 'InvalidResourceNamespace',
    message: "The resource namespace 'Contoso.Widgets' is invalid.",
  },
  {
    // Azure: Azure/azure-cli#14481 (code, text naming the offending characters).
    name: 'resource group name with invalid characters',
    method: 'PUT',
    path: (f) => `/subscriptions/${f.sub}/resourceGroups/bad*name`,
    query: RG_V,
    body: json({ location: 'westeurope' }),
    status: 400,
    code: 'InvalidResourceGroup',
    message: "has these invalid characters: '*'",
  },
  {
    // Azure: Azure/azure-cli#14481 (code); the length text is Tessera's.
    name: 'resource group name of 91 characters',
    method: 'PUT',
    path: (f) => `/subscriptions/${f.sub}/resourceGroups/${'g'.repeat(91)}`,
    query: RG_V,
    body: json({ location: 'westeurope' }),
    status: 400,
    code: 'InvalidResourceGroup',
  },
  {
    // Azure: the providers' code (rh-mobb/documentation PR 204); MSI's own text not captured.
    name: 'identity name too short',
    method: 'PUT',
    path: (f) => uaiPath(f, 'a'),
    query: MSI_V,
    body: json({ location: 'westeurope' }),
    status: 400,
    code: 'InvalidResourceName',
  },
  {
    // As above; Compute's text not captured.
    name: 'VM name starting with an underscore',
    method: 'PUT',
    path: (f) => vmPath(f, '_bad'),
    query: VM_V,
    body: json({ location: 'westeurope' }),
    status: 400,
    code: 'InvalidResourceName',
  },
  {
    // Azure: cristianoag/microsoft-teams-apps-company-communicator#28 (code and text).
    name: 'vault name starting with a digit',
    method: 'PUT',
    path: (f) => vaultPath(f, '1vault'),
    query: KV_V,
    body: json({ location: 'westeurope' }),
    status: 400,
    code: 'VaultNameNotValid',
    message: "The vault name '1vault' is invalid.",
  },

  // --- api-version, per authority ----------------------------------------------------------------
  {
    // Azure: MicrosoftDocs/feedback#2279 (code, text), the same for every authority.
    name: 'no api-version on a resource group (ARM)',
    method: 'PUT',
    path: (f) => `${f.group}-new`,
    query: '',
    body: json({ location: 'westeurope' }),
    status: 400,
    code: 'MissingApiVersionParameter',
    message: 'The api-version query parameter (?api-version=) is required for all requests.',
  },
  {
    // Tessera's choice (docs/compatibility.md: an empty value counts as missing).
    name: 'empty api-version on a resource group (ARM)',
    method: 'PUT',
    path: (f) => `${f.group}-new`,
    query: 'api-version=',
    body: json({ location: 'westeurope' }),
    status: 400,
    code: 'MissingApiVersionParameter',
  },
  {
    // Azure: Azure/azure-sdk-for-net#2276, ansible-collections/azure#1739.
    name: 'unsupported api-version on a resource group (ARM)',
    method: 'PUT',
    path: (f) => `${f.group}-new`,
    query: 'api-version=2099-01-01',
    body: json({ location: 'westeurope' }),
    status: 400,
    code: 'InvalidApiVersionParameter',
    message: "The api-version '2099-01-01' is invalid.",
  },
  {
    name: 'no api-version on an identity (provider)',
    method: 'PUT',
    path: (f) => uaiPath(f, 'no-version'),
    query: '',
    body: json({ location: 'westeurope' }),
    status: 400,
    code: 'MissingApiVersionParameter',
  },
  {
    // Azure: Azure/azure-cli#28496 (NoRegisteredProviderFound, 400, text).
    name: 'unsupported api-version on an identity (provider)',
    method: 'PUT',
    path: (f) => uaiPath(f, 'bad-version'),
    query: 'api-version=2020-01-01',
    body: json({ location: 'westeurope' }),
    status: 400,
    code: 'NoRegisteredProviderFound',
    message: "API version '2020-01-01' for type 'userAssignedIdentities'",
  },
  {
    name: 'no api-version on a VM (provider)',
    method: 'PUT',
    path: newVm,
    query: '',
    body: json({ location: 'westeurope' }),
    status: 400,
    code: 'MissingApiVersionParameter',
  },
  {
    // Azure: MicrosoftDocs/azure-docs PR 62621 (virtualMachines/extensions).
    name: 'unsupported api-version on a VM (provider)',
    method: 'PUT',
    path: newVm,
    query: 'api-version=2016-01-01',
    body: json({ location: 'westeurope' }),
    status: 400,
    code: 'NoRegisteredProviderFound',
  },
  {
    name: 'unsupported api-version on a vault (provider)',
    method: 'PUT',
    path: (f) => vaultPath(f, 'kv-new'),
    query: 'api-version=2015-06-01',
    body: json({ location: 'westeurope' }),
    status: 400,
    code: 'NoRegisteredProviderFound',
  },
  {
    name: 'no api-version on a role assignment (Authorization)',
    method: 'PUT',
    path: (f) => assignmentPath(f, randomUUID()),
    query: '',
    body: assignmentBody((f) => ({ roleDefinitionId: f.reader, principalId: f.principalId })),
    status: 400,
    code: 'MissingApiVersionParameter',
  },
  {
    // Azure: Azure/azure-sdk-for-go#16699 (code, text), Azure/azure-sdk-for-js#15460 (404).
    name: 'unsupported api-version on a role assignment (Authorization)',
    method: 'PUT',
    path: (f) => assignmentPath(f, randomUUID()),
    query: 'api-version=2014-01-01',
    body: assignmentBody((f) => ({ roleDefinitionId: f.reader, principalId: f.principalId })),
    status: 404,
    code: 'InvalidResourceType',
    message: "The resource type 'roleAssignments' could not be found in the namespace",
  },
  {
    name: 'unsupported api-version on a role definition (Authorization)',
    method: 'GET',
    path: (f) => `/subscriptions/${f.sub}/providers/${DEFINITIONS}/${BUILT_IN_ROLE_IDS.reader}`,
    query: 'api-version=2014-01-01',
    status: 404,
    code: 'InvalidResourceType',
  },

  // --- bodies that are not a JSON object ---------------------------------------------------------
  {
    // Azure: Azure/azure-sdk-for-net#3487 (code, status, wrapping of Json.NET's sentence).
    name: 'truncated JSON for a resource group',
    method: 'PUT',
    path: (f) => `${f.group}-new`,
    query: RG_V,
    body: '{"location": ',
    status: 400,
    code: 'InvalidRequestContent',
    message: 'The request content was invalid and could not be deserialized:',
  },
  {
    name: 'truncated JSON for an identity PATCH',
    method: 'PATCH',
    path: (f) => f.uai,
    query: MSI_V,
    body: '{"tags": {"a": "b"}',
    status: 400,
    code: 'InvalidRequestContent',
  },
  {
    // Tessera's words for a non-object body (docs/compatibility.md); the code is ARM's.
    name: 'JSON array for a VM',
    method: 'PUT',
    path: newVm,
    query: VM_V,
    body: '[]',
    status: 400,
    code: 'InvalidRequestContent',
  },
  {
    name: 'empty body for a vault',
    method: 'PUT',
    path: (f) => vaultPath(f, 'kv-new'),
    query: KV_V,
    body: '',
    status: 400,
    code: 'InvalidRequestContent',
  },
  {
    name: 'truncated JSON for a role assignment',
    method: 'PUT',
    path: (f) => assignmentPath(f, randomUUID()),
    query: AUTH_V,
    body: '{',
    status: 400,
    code: 'InvalidRequestContent',
  },

  // --- location ----------------------------------------------------------------------------------
  {
    // Azure: ARM's code and text quoted in public Azure SDK tests (no status capture).
    name: 'resource group without location',
    method: 'PUT',
    path: (f) => `${f.group}-new`,
    query: RG_V,
    body: json({ tags: {} }),
    status: 400,
    code: 'LocationRequired',
    message: 'The location property is required for this definition.',
  },
  {
    name: 'identity without location',
    method: 'PUT',
    path: (f) => uaiPath(f, 'no-location'),
    query: MSI_V,
    body: json({}),
    status: 400,
    code: 'LocationRequired',
  },
  {
    // Azure: microsoft/bedrock#100 (StatusCode=409, code, text), trailofbits/algo#1814 (409).
    name: 'resource group moved to another location',
    method: 'PUT',
    path: (f) => f.group,
    query: RG_V,
    body: json({ location: 'East US', tags: { moved: 'yes' } }),
    status: 409,
    code: 'InvalidResourceGroupLocation',
    message:
      "Invalid resource group location 'East US'. The Resource group already exists in location 'westeurope'.",
  },
  {
    // Azure: rancher/rancher#15651 (StatusCode=409, code, text); ARM answers it for every kind.
    name: 'identity moved to another location',
    method: 'PUT',
    path: (f) => f.uai,
    query: MSI_V,
    body: json({ location: 'eastus' }),
    status: 409,
    code: 'InvalidResourceLocation',
    message: "already exists in location 'westeurope'",
  },
  {
    name: 'VM moved to another location',
    method: 'PUT',
    path: (f) => f.vm,
    query: VM_V,
    body: json({ location: 'eastus' }),
    status: 409,
    code: 'InvalidResourceLocation',
  },
  {
    name: 'vault moved to another location',
    method: 'PUT',
    path: (f) => f.vault,
    query: KV_V,
    body: json({ location: 'eastus' }),
    status: 409,
    code: 'InvalidResourceLocation',
  },

  // --- other properties --------------------------------------------------------------------------
  {
    // Tessera's choice (docs/compatibility.md: tag values must be JSON strings).
    name: 'tag value that is not a string',
    method: 'PUT',
    path: (f) => `${f.group}-new`,
    query: RG_V,
    body: json({ location: 'westeurope', tags: { a: 1 } }),
    status: 400,
    code: 'InvalidTag',
  },
  {
    // Tessera's text (Azure's not captured).
    name: 'unknown isolationScope',
    method: 'PUT',
    path: (f) => uaiPath(f, 'scoped'),
    query: 'api-version=2024-11-30',
    body: json({ location: 'westeurope', properties: { isolationScope: 'Global' } }),
    status: 400,
    code: 'InvalidParameter',
    target: 'properties.isolationScope',
  },
  {
    // Tessera's choice (docs/compatibility.md: vaults are RBAC-only).
    name: 'vault with access policies instead of RBAC',
    method: 'PUT',
    path: (f) => vaultPath(f, 'kv-new'),
    query: KV_V,
    body: json({ location: 'westeurope', properties: { enableRbacAuthorization: false } }),
    status: 400,
    code: 'InvalidParameter',
    target: 'properties.enableRbacAuthorization',
  },
  {
    // Tessera's text (Azure's not captured).
    name: 'vault with an unknown sku',
    method: 'PATCH',
    path: (f) => f.vault,
    query: KV_V,
    body: json({ properties: { sku: { family: 'A', name: 'gold' } } }),
    status: 400,
    code: 'InvalidParameter',
    target: 'properties.sku.name',
  },
  {
    // Azure: Azure/azure-cli-extensions#1306 and pulumi/pulumi#3891 (404, code, text).
    name: 'identity in a group that does not exist',
    method: 'PUT',
    path: (f) => `/subscriptions/${f.sub}/resourceGroups/no-such-group/providers/${UAI}/orphan`,
    query: MSI_V,
    body: json({ location: 'westeurope' }),
    status: 404,
    code: 'ResourceGroupNotFound',
  },

  // --- VM identities -----------------------------------------------------------------------------
  // A type is matched case-insensitively in either order ("systemassigned,userassigned" is
  // accepted: docs/compatibility.md), so these are types that name no identity kind at all.
  {
    // Azure's answer for an unknown type is not captured; Compute's InvalidParameter form.
    name: 'identity type that is no type',
    method: 'PUT',
    path: newVm,
    query: VM_V,
    body: vmWithIdentity({ type: 'Both' }),
    status: 400,
    code: 'InvalidParameter',
    target: 'identity.type',
  },
  {
    name: 'identity type naming one kind twice',
    method: 'PUT',
    path: newVm,
    query: VM_V,
    body: vmWithIdentity({ type: 'SystemAssigned,SystemAssigned' }),
    status: 400,
    code: 'InvalidParameter',
    target: 'identity.type',
  },
  {
    name: 'identity type that is a number',
    method: 'PUT',
    path: newVm,
    query: VM_V,
    body: vmWithIdentity({ type: 1 }),
    status: 400,
    code: 'InvalidParameter',
    target: 'identity.type',
  },
  {
    // Azure: Azure/aad-pod-identity#313 (a VM), Azure/azure-powershell#7556 (a scale set).
    name: 'identity without type on PUT',
    method: 'PUT',
    path: newVm,
    query: VM_V,
    body: vmWithIdentity({}),
    status: 400,
    code: 'InvalidRequestContent',
    message: "Required property 'type' not found in JSON. Path 'identity'.",
  },
  {
    // Azure: microsoft/CromwellOnAzure PR 765 (Compute's text; code not captured).
    name: 'UserAssigned without identities on PUT',
    method: 'PUT',
    path: newVm,
    query: VM_V,
    body: vmWithIdentity({ type: 'UserAssigned' }),
    status: 400,
    code: 'InvalidParameter',
    message: "The identity ids must not be null or empty for 'UserAssigned' identity type.",
  },
  {
    // Azure: pulumi/pulumi-azure-native#4176 (an array for the dictionary, 400).
    name: 'identity dictionary that is an array',
    method: 'PUT',
    path: newVm,
    query: VM_V,
    body: vmWithIdentityOf((f) => ({ type: 'UserAssigned', userAssignedIdentities: [f.uai] })),
    status: 400,
    code: 'InvalidRequestContent',
  },
  {
    name: 'identity that is a string',
    method: 'PUT',
    path: newVm,
    query: VM_V,
    body: vmWithIdentity('SystemAssigned'),
    status: 400,
    code: 'InvalidRequestContent',
  },
  {
    // Azure: MicrosoftDocs/azure-docs#112377 (code, text, path ''), Azure/aad-pod-identity
    // PR 548 (the same on VM and scale-set updates).
    name: 'identity key that is no resource id',
    method: 'PUT',
    path: newVm,
    query: VM_V,
    body: vmWithIdentity({ type: 'UserAssigned', userAssignedIdentities: { 'not-an-id': {} } }),
    status: 400,
    code: 'LinkedInvalidPropertyId',
    message: "Property id 'not-an-id' at path '' is invalid.",
  },
  {
    // Azure: Azure/aad-pod-identity#230 (a resource id that is no identity's, 400).
    name: 'identity key that is another resource type',
    method: 'PATCH',
    path: (f) => f.vm,
    query: VM_V,
    body: (f) =>
      json({
        identity: { type: 'UserAssigned', userAssignedIdentities: { [vmPath(f, 'other')]: {} } },
      }),
    status: 400,
    code: 'InvalidIdentityId',
  },
  {
    // Azure: Azure/azure-policy#1311 (a VM, 2024): the identity provider's "Resource '…' was not
    // found." inside ARM's FailedIdentityOperation sentence (Azure/azure-cli#31837).
    name: 'identity dictionary naming an identity that does not exist',
    method: 'PATCH',
    path: (f) => f.vm,
    query: VM_V,
    body: (f) =>
      json({
        identity: {
          type: 'SystemAssigned, UserAssigned',
          userAssignedIdentities: { [uaiPath(f, 'no-such-identity')]: {} },
        },
      }),
    status: 400,
    code: 'FailedIdentityOperation',
    message: 'was not found.',
  },
  {
    // Azure: Azure/bicep#16559 ("Number '…' Assign exceed limit '150'"), wrapped as in
    // Azure/bicep-registry-modules#2719. 1001 ids go past the per-request limit first.
    name: 'more than 1000 user-assigned identities',
    method: 'PUT',
    path: newVm,
    query: VM_V,
    body: vmWithIdentityOf((f) => ({
      type: 'UserAssigned',
      userAssignedIdentities: Object.fromEntries(
        Array.from({ length: 1001 }, (_, i) => [uaiPath(f, `many-${String(i)}`), {}]),
      ),
    })),
    status: 400,
    code: 'FailedIdentityOperation',
    message: "Assign exceed limit '150'",
  },
  {
    // Azure: Azure/terraform-provider-azapi#840 (400, code, text), kubernetes/autoscaler#1592.
    name: 'identity value that is a string',
    method: 'PATCH',
    path: (f) => f.vm,
    query: VM_V,
    body: (f) =>
      json({
        identity: {
          type: 'SystemAssigned, UserAssigned',
          userAssignedIdentities: { [f.uai]: 'x' },
        },
      }),
    status: 400,
    code: 'InvalidIdentityValues',
    message: "The 'UserAssignedIdentities' property keys should only be empty json objects",
  },
  {
    name: 'identity value with unknown members',
    method: 'PUT',
    path: newVm,
    query: VM_V,
    body: vmWithIdentityOf((f) => ({
      type: 'UserAssigned',
      userAssignedIdentities: { [f.uai]: { clientId: 'c', role: 'reader' } },
    })),
    status: 400,
    code: 'InvalidIdentityValues',
  },

  // --- role assignments and definitions ----------------------------------------------------------
  {
    // Azure: Azure/Azure-Landing-Zones#3419 (code, text), Azure/azure-service-operator#2586.
    name: 'role assignment name that is not a GUID',
    method: 'PUT',
    path: (f) => assignmentPath(f, 'not-a-guid'),
    query: AUTH_V,
    body: assignmentBody((f) => ({ roleDefinitionId: f.reader, principalId: f.principalId })),
    status: 400,
    code: 'InvalidRoleAssignmentId',
    message: "The role assignment ID 'not-a-guid' is not valid.",
  },
  {
    name: 'role assignment DELETE by a name that is not a GUID',
    method: 'DELETE',
    path: (f) => assignmentPath(f, 'not-a-guid'),
    query: AUTH_V,
    status: 400,
    code: 'InvalidRoleAssignmentId',
  },
  {
    // Azure: Azure/terraform-azurerm-caf-enterprise-scale wiki (code, text).
    name: 'role definition that does not exist',
    method: 'PUT',
    path: (f) => assignmentPath(f, randomUUID()),
    query: AUTH_V,
    body: assignmentBody((f) => ({
      roleDefinitionId: `/subscriptions/${f.sub}/providers/${DEFINITIONS}/${randomUUID()}`,
      principalId: f.principalId,
    })),
    status: 400,
    code: 'RoleDefinitionDoesNotExist',
  },
  {
    // Azure: hashicorp/terraform-provider-azurerm#8547 (400, code and text).
    name: 'role definition id that is no id at all',
    method: 'PUT',
    path: (f) => assignmentPath(f, randomUUID()),
    query: AUTH_V,
    body: assignmentBody((f) => ({ roleDefinitionId: 'xyz', principalId: f.principalId })),
    status: 400,
    code: 'InvalidRoleDefinitionId',
    message: "The role definition ID 'xyz' is not valid.",
  },
  {
    // Azure: Azure/azure-powershell#16627 (code, text).
    name: 'principal id that is not a GUID',
    method: 'PUT',
    path: (f) => assignmentPath(f, randomUUID()),
    query: AUTH_V,
    body: assignmentBody((f) => ({ roleDefinitionId: f.reader, principalId: 'someone' })),
    status: 400,
    code: 'InvalidPrincipalId',
  },
  {
    // Azure: Azure/avdaccelerator#99, Azure/HubAndSpokeResearchEnclave#50 (code, text).
    name: 'principal that does not exist',
    method: 'PUT',
    path: (f) => assignmentPath(f, randomUUID()),
    query: AUTH_V,
    body: assignmentBody((f) => ({ roleDefinitionId: f.reader, principalId: randomUUID() })),
    status: 400,
    code: 'PrincipalNotFound',
  },
  {
    // Azure: Azure/azure-dev#5814 (code and text, typo included).
    name: 'principal type that is not the principal’s',
    method: 'PUT',
    path: (f) => assignmentPath(f, randomUUID()),
    query: AUTH_V,
    body: assignmentBody((f) => ({
      roleDefinitionId: f.reader,
      principalId: f.principalId,
      principalType: 'User',
    })),
    status: 400,
    code: 'UnmatchedPrincipalType',
  },
  {
    // Azure: Azure-Samples/azure-search-openai-demo#1091 (409, code).
    name: 'duplicate of an existing assignment under a new name',
    method: 'PUT',
    path: (f) => assignmentPath(f, randomUUID()),
    query: AUTH_V,
    body: assignmentBody((f) => ({ roleDefinitionId: f.reader, principalId: f.principalId })),
    status: 409,
    code: 'RoleAssignmentExists',
  },
  {
    // Azure: Azure/Azure-Landing-Zones#2040 (code, text).
    name: 'existing assignment changed to another role',
    method: 'PUT',
    path: (f) => assignmentPath(f, f.assignment),
    query: AUTH_V,
    body: assignmentBody((f) => ({
      roleDefinitionId: `/subscriptions/${f.sub}/providers/${DEFINITIONS}/${BUILT_IN_ROLE_IDS.contributor}`,
      principalId: f.principalId,
    })),
    status: 400,
    code: 'RoleAssignmentUpdateNotPermitted',
  },
  {
    // Azure: terraform-azurerm-caf-enterprise-scale wiki (404 on a definition read).
    name: 'role definition read by a name that is not a GUID',
    method: 'GET',
    path: (f) => `/subscriptions/${f.sub}/providers/${DEFINITIONS}/not-a-guid`,
    query: AUTH_V,
    status: 404,
    code: 'RoleDefinitionDoesNotExist',
  },

  // --- methods not allowed -----------------------------------------------------------------------
  // Azure: Azure/azure-powershell#9709 (405, {"error":{"code":"MethodNotAllowed",…}}).
  {
    name: 'POST on a resource group',
    method: 'POST',
    path: (f) => f.group,
    query: RG_V,
    body: json({}),
    status: 405,
    code: 'MethodNotAllowed',
  },
  {
    name: 'POST on an identity',
    method: 'POST',
    path: (f) => f.uai,
    query: MSI_V,
    body: json({}),
    status: 405,
    code: 'MethodNotAllowed',
  },
  {
    name: 'POST on a VM',
    method: 'POST',
    path: (f) => f.vm,
    query: VM_V,
    body: json({}),
    status: 405,
    code: 'MethodNotAllowed',
  },
  {
    name: 'POST on a vault',
    method: 'POST',
    path: (f) => f.vault,
    query: KV_V,
    body: json({}),
    status: 405,
    code: 'MethodNotAllowed',
  },
  {
    name: 'PATCH on a role assignment',
    method: 'PATCH',
    path: (f) => assignmentPath(f, f.assignment),
    query: AUTH_V,
    body: json({ properties: {} }),
    status: 405,
    code: 'MethodNotAllowed',
  },
  {
    // Azure's answer in azure-sdk-for-net's RoleDefinitionCreateTests recording.
    name: 'PUT of a custom role definition without assignable scopes',
    method: 'PUT',
    path: (f) => `/subscriptions/${f.sub}/providers/${DEFINITIONS}/${randomUUID()}`,
    query: AUTH_V,
    body: json({ properties: { roleName: 'custom' } }),
    status: 400,
    code: 'MissingAssignableScopes',
  },
];

/** Everything a request could change, in a stable order, for before/after comparisons. */
interface StateDump {
  readonly resources: readonly Resource[];
  readonly principals: readonly Principal[];
  readonly credentials: readonly Credential[];
  readonly attachments: readonly IdentityAttachment[];
  readonly assignments: readonly RoleAssignment[];
  readonly definitions: readonly RoleDefinition[];
  readonly changes: { readonly oldest: number; readonly latest: number };
}

async function everything<T>(fetch: (page: PageRequest) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await fetch({ limit: 500, cursor });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return items;
}

const byKey =
  <T>(key: (item: T) => string) =>
  (a: T, b: T): number =>
    key(a).localeCompare(key(b));

/**
 * Reads the whole store the ARM surface writes to: every resource, every principal of every
 * tenant with its credentials and attachments, every role assignment and definition, and the
 * bounds of the agents' change feed.
 */
async function dumpState(store: Store): Promise<StateDump> {
  const resources = await everything((page) => store.resources.list({}, page));
  const principals: Principal[] = [];
  for (const tenant of await store.tenants.list()) {
    principals.push(...(await everything((page) => store.principals.list(tenant.id, page))));
  }
  principals.sort(byKey((p) => p.objectId));
  const credentials: Credential[] = [];
  const attachments: IdentityAttachment[] = [];
  for (const principal of principals) {
    credentials.push(...(await store.credentials.listForPrincipal(principal.objectId)));
    attachments.push(...(await store.attachments.listForPrincipal(principal.objectId)));
  }
  return {
    resources,
    principals,
    credentials: credentials.sort(byKey((c) => c.id)),
    attachments: attachments.sort(byKey((a) => `${a.resourceId}|${a.principalId}|${a.kind}`)),
    assignments: (await everything((page) => store.roles.listAssignments({}, page))).sort(
      byKey((a) => a.id),
    ),
    definitions: [...(await store.roles.listDefinitions())].sort(byKey((d) => d.id)),
    changes: await store.changes.bounds(),
  };
}

describe('ARM surface: bad input is refused with Azure’s code and changes nothing', () => {
  let h: ArmHarness;
  let f: Fixtures;

  const created = async (pending: Promise<ArmResult>): Promise<ArmResult> => {
    const result = await pending;
    expect(result.status, JSON.stringify(result.body)).toBe(201);
    return result;
  };

  beforeAll(async () => {
    h = await startArm();
    const { sub, admin } = h;
    const put = (path: string, body: unknown): Promise<ArmResult> =>
      h.arm('PUT', path, { token: admin, body });
    const group = `/subscriptions/${sub}/resourceGroups/bad-input`;
    await created(put(`${group}?${RG_V}`, { location: 'westeurope' }));
    const uai = `${group}/providers/${UAI}/steady-id`;
    await created(put(`${uai}?${MSI_V}`, { location: 'westeurope' }));
    const vm = `${group}/providers/${VMS}/steady-vm`;
    await created(
      put(`${vm}?${VM_V}`, {
        location: 'westeurope',
        identity: {
          type: 'SystemAssigned, UserAssigned',
          userAssignedIdentities: { [uai]: {} },
        },
      }),
    );
    const vault = `${group}/providers/${VAULTS}/kv-steady`;
    await created(put(`${vault}?${KV_V}`, { location: 'westeurope' }));
    const client = await h.newClient('bad-input-reader');
    const reader = `/subscriptions/${sub}/providers/${DEFINITIONS}/${BUILT_IN_ROLE_IDS.reader}`;
    const assignment = randomUUID();
    await created(
      put(`${group}/providers/${ASSIGNMENTS}/${assignment}?${AUTH_V}`, {
        properties: { roleDefinitionId: reader, principalId: client.principal.objectId },
      }),
    );
    f = { sub, group, uai, vm, vault, principalId: client.principal.objectId, assignment, reader };
  });

  afterAll(async () => {
    await h.close();
  });

  it.each(ROWS)('$name', async (row) => {
    const before = await dumpState(h.store);
    const path = row.path(f);
    const body = typeof row.body === 'function' ? row.body(f) : row.body;
    const result = await h.arm(row.method, row.query === '' ? path : `${path}?${row.query}`, {
      token: h.admin,
      ...(body === undefined ? {} : { body }),
    });
    const error = result.body?.error as { message?: unknown; target?: unknown } | undefined;
    expect([result.status, errorCode(result.body)], JSON.stringify(result.body)).toEqual([
      row.status,
      row.code,
    ]);
    expect(typeof error?.message).toBe('string');
    if (row.target !== undefined) expect(error?.target).toBe(row.target);
    if (row.message !== undefined) expect(error?.message).toContain(row.message);
    expect(await dumpState(h.store)).toEqual(before);
  });

  // The guard above is only as good as the dump: every part it compares must see a real change.
  it('sees resources, principals, attachments and assignments change on good requests', async () => {
    const { admin } = h;
    const steps: [string, keyof StateDump, () => Promise<ArmResult>][] = [
      [
        'a new identity',
        'resources',
        () =>
          h.arm('PUT', `${f.group}/providers/${UAI}/control-id?${MSI_V}`, {
            token: admin,
            body: { location: 'westeurope' },
          }),
      ],
      [
        'its service principal',
        'principals',
        () =>
          h.arm('PUT', `${f.group}/providers/${UAI}/control-two?${MSI_V}`, {
            token: admin,
            body: { location: 'westeurope' },
          }),
      ],
      [
        'the identity attached to the VM',
        'attachments',
        () =>
          h.arm('PATCH', `${f.vm}?${VM_V}`, {
            token: admin,
            body: {
              identity: {
                type: 'SystemAssigned, UserAssigned',
                userAssignedIdentities: { [`${f.group}/providers/${UAI}/control-id`]: {} },
              },
            },
          }),
      ],
      [
        'a role assignment',
        'assignments',
        () =>
          h.arm('PUT', `${f.group}/providers/${ASSIGNMENTS}/${randomUUID()}?${AUTH_V}`, {
            token: admin,
            body: {
              properties: {
                roleDefinitionId: `/subscriptions/${f.sub}/providers/${DEFINITIONS}/${BUILT_IN_ROLE_IDS.contributor}`,
                principalId: f.principalId,
              },
            },
          }),
      ],
    ];
    for (const [label, part, step] of steps) {
      const before = await dumpState(h.store);
      const result = await step();
      expect([label, result.status < 300]).toEqual([label, true]);
      const after = await dumpState(h.store);
      expect([label, after[part]]).not.toEqual([label, before[part]]);
    }
  });
});
