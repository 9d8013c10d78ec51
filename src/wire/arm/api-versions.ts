// The api-versions Tessera's ARM surface accepts per resource type, and ARM's errors for the rest.
import { missingApiVersion } from '../../core/errors.js';
import {
  invalidApiVersionParameter,
  invalidResourceType,
  noRegisteredProviderFound,
} from './arm-errors.js';

/**
 * Who answers a bad api-version, which decides the error: ARM itself for `Microsoft.Resources`
 * (`InvalidApiVersionParameter`), ARM's own Authorization provider (`InvalidResourceType`, 404),
 * or a resource provider's manifest (`NoRegisteredProviderFound`).
 */
export type ApiVersionAuthority = 'arm' | 'authorization' | 'provider';

/** One resource type's accepted versions, in the order ARM lists them in its errors. */
export interface ResourceTypeVersions {
  readonly authority: ApiVersionAuthority;
  readonly versions: readonly string[];
}

/**
 * ARM's list for its own types (resource groups, subscriptions), newest first as ARM prints it,
 * including its odd tail. Captured in https://github.com/ansible-collections/azure/issues/1739
 * (2024); 2024-07-01, 2024-11-01, 2025-03-01 (what @azure/arm-resources 6.1 sends) and 2025-04-01 added from
 * azure-rest-api-specs `specification/resources/resource-manager/Microsoft.Resources/resources/
 * stable/`.
 */
// prettier-ignore
const RESOURCES_VERSIONS = [
  '2025-04-01', '2025-03-01', '2024-11-01', '2024-08-01', '2024-07-01', '2024-06-01-preview', '2024-03-01',
  '2023-07-01', '2023-07-01-preview', '2023-03-01-preview', '2022-12-01', '2022-11-01-preview',
  '2022-09-01', '2022-06-01', '2022-05-01', '2022-03-01-preview', '2022-01-01', '2021-04-01',
  '2021-01-01', '2020-10-01', '2020-09-01', '2020-08-01', '2020-07-01', '2020-06-01', '2020-05-01',
  '2020-01-01', '2019-11-01', '2019-10-01', '2019-09-01', '2019-08-01', '2019-07-01', '2019-06-01',
  '2019-05-10', '2019-05-01', '2019-03-01', '2018-11-01', '2018-09-01', '2018-08-01', '2018-07-01',
  '2018-06-01', '2018-05-01', '2018-02-01', '2018-01-01', '2017-12-01', '2017-08-01', '2017-06-01',
  '2017-05-10', '2017-05-01', '2017-03-01', '2016-09-01', '2016-07-01', '2016-06-01', '2016-02-01',
  '2015-11-01', '2015-01-01', '2014-04-01-preview', '2014-04-01', '2014-01-01', '2013-03-01',
  '2014-02-26', '2014-04',
] as const;

/**
 * Deployments: ARM's own list and 2026-06-01, what `@azure/arm-resourcesdeployments` 2.0.0 sends
 * (PROTOCOL-TOOLS Part C 1.2).
 */
const DEPLOYMENT_VERSIONS: readonly string[] = ['2026-06-01', ...RESOURCES_VERSIONS];

/**
 * Microsoft.ManagedIdentity, every version in azure-rest-api-specs
 * `specification/msi/resource-manager/Microsoft.ManagedIdentity/ManagedIdentity/{stable,preview}/`
 * (@azure/arm-msi 2.2.0 sends 2024-11-30, CLIENTS.md section 4).
 */
// prettier-ignore
const MSI_VERSIONS = [
  '2015-08-31-preview', '2018-11-30', '2021-09-30-preview', '2022-01-31-preview', '2023-01-31',
  '2023-07-31-preview', '2024-11-30', '2025-01-31-preview', '2025-05-31-preview', '2026-04-30',
  '2026-05-31',
] as const;

/**
 * Microsoft.Compute GA versions that have the VM `identity` property: 2017-12-01 (`identityIds`)
 * and 2018-06-01 onwards (the dictionary). The list to 2023-07-01 is ARM's own, captured in
 * https://github.com/Azure/azure-sdk-for-python/issues/32029; later ones are the
 * `ComputeRP/stable/` folders of azure-rest-api-specs. @azure/arm-compute 24.1.0 sends 2026-03-01
 * for virtualMachines.get (CLIENTS.md section 4); the SDK's repository sends 2025-11-01 for VM
 * extensions (sdk/compute/arm-compute/src/api/virtualMachineExtensions/operations.ts).
 */
// prettier-ignore
const COMPUTE_VERSIONS = [
  '2017-12-01', '2018-06-01', '2018-10-01', '2019-03-01', '2019-07-01', '2019-12-01', '2020-06-01',
  '2020-12-01', '2021-03-01', '2021-04-01', '2021-07-01', '2021-11-01', '2022-03-01', '2022-08-01',
  '2022-11-01', '2023-03-01', '2023-07-01', '2023-09-01', '2024-03-01', '2024-07-01', '2024-11-01',
  '2025-04-01', '2025-11-01', '2026-03-01',
] as const;

/**
 * Per resource type (matched case-insensitively), the versions Tessera serves. Authorization
 * lists are the versions current SDKs and the az CLI send (2022-04-01 for assignments, PROTOCOL.md
 * 4.5) and their predecessors; Key Vault's are management-plane GA versions of azure-rest-api-specs
 * `keyvault/resource-manager` (2024-11-01 confirmed there).
 */
export const API_VERSIONS: Readonly<Record<string, ResourceTypeVersions>> = {
  'Microsoft.Resources/subscriptions': { authority: 'arm', versions: RESOURCES_VERSIONS },
  'Microsoft.Resources/resourceGroups': { authority: 'arm', versions: RESOURCES_VERSIONS },
  'Microsoft.Resources/tenants': { authority: 'arm', versions: RESOURCES_VERSIONS },
  'Microsoft.Resources/resources': { authority: 'arm', versions: RESOURCES_VERSIONS },
  'Microsoft.Resources/providers': { authority: 'arm', versions: RESOURCES_VERSIONS },
  'Microsoft.Resources/deployments': { authority: 'arm', versions: DEPLOYMENT_VERSIONS },
  'Microsoft.Resources/deployments/operations': { authority: 'arm', versions: DEPLOYMENT_VERSIONS },
  'Microsoft.Resources/deployments/operationStatuses': {
    authority: 'arm',
    versions: DEPLOYMENT_VERSIONS,
  },
  'Microsoft.ManagedIdentity/userAssignedIdentities': {
    authority: 'provider',
    versions: MSI_VERSIONS,
  },
  'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials': {
    authority: 'provider',
    versions: MSI_VERSIONS.filter((v) => v >= '2022-01-31-preview'),
  },
  'Microsoft.ManagedIdentity/identities': { authority: 'provider', versions: MSI_VERSIONS },
  'Microsoft.Compute/virtualMachines': { authority: 'provider', versions: COMPUTE_VERSIONS },
  'Microsoft.Compute/virtualMachines/extensions': {
    authority: 'provider',
    versions: COMPUTE_VERSIONS,
  },
  'Microsoft.Compute/virtualMachineScaleSets': {
    authority: 'provider',
    versions: COMPUTE_VERSIONS,
  },
  'Microsoft.Compute/virtualMachineScaleSets/virtualMachines': {
    authority: 'provider',
    versions: COMPUTE_VERSIONS,
  },
  'Microsoft.Compute/virtualMachineScaleSets/extensions': {
    authority: 'provider',
    versions: COMPUTE_VERSIONS,
  },
  'Microsoft.Authorization/roleAssignments': {
    authority: 'authorization',
    versions: [
      '2015-07-01',
      '2018-01-01-preview',
      '2018-09-01-preview',
      '2020-04-01-preview',
      '2022-04-01',
    ],
  },
  'Microsoft.Authorization/roleDefinitions': {
    authority: 'authorization',
    versions: ['2015-07-01', '2018-01-01-preview', '2022-04-01', '2022-05-01-preview'],
  },
  'Microsoft.KeyVault/vaults': {
    authority: 'provider',
    versions: ['2019-09-01', '2021-10-01', '2022-07-01', '2023-02-01', '2023-07-01', '2024-11-01'],
  },
  // The Activity Log (ActivityLogs_List): azure-rest-api-specs `monitor/resource-manager/
  // Microsoft.Insights` has activityLogs_API.json in the 2015-04-01 stable folder only.
  'Microsoft.Insights/eventtypes': { authority: 'provider', versions: ['2015-04-01'] },
};

/**
 * The versions of a type of {@link API_VERSIONS}; a provider declaration names its type's list
 * with it. Throws a plain `Error` (a programming fault) for a type the table does not have.
 */
export function versionsOf(resourceType: string): ResourceTypeVersions {
  const spec = API_VERSIONS[resourceType];
  if (spec === undefined) throw new Error(`no api-versions are listed for ${resourceType}`);
  return spec;
}

/**
 * The newest api-version of a type of {@link API_VERSIONS} that is not a preview: what Tessera
 * itself reads a resource with when no client named one (an export, a Complete deployment's
 * deletes).
 */
export function newestVersionOf(resourceType: string): string {
  const stable = versionsOf(resourceType).versions.filter((v) => !v.includes('preview'));
  return [...stable].sort().at(-1) ?? '';
}

/** The query as a server hands it over: a `URLSearchParams` or a parsed record. */
export type ApiVersionQuery =
  URLSearchParams | Readonly<Record<string, string | readonly string[] | undefined>>;

/** Where a provider type is served, for `NoRegisteredProviderFound`'s text. */
export interface ApiVersionOptions {
  /** The location of the request (the body's `location`, or the resource's). Default `''`. */
  readonly location?: string;
  /** Every location the type is served in (Tessera's region). Default none. */
  readonly locations?: readonly string[];
}

/**
 * Reads `api-version` from the query. The name matches in any case; a repeated parameter is
 * joined with commas, as ARM's .NET front door does (so `a&a` is the invalid version `a,a`:
 * https://github.com/Azure/autorest.typescript/issues/1035 shows ARM echoing such a joined
 * value); an empty value counts as absent. Returns undefined when absent.
 */
export function readApiVersion(query: ApiVersionQuery): string | undefined {
  const values: string[] = [];
  const entries: Iterable<[string, string | readonly string[] | undefined]> =
    query instanceof URLSearchParams ? query.entries() : Object.entries(query);
  for (const [name, value] of entries) {
    if (name.toLowerCase() !== 'api-version' || value === undefined) continue;
    if (typeof value === 'string') values.push(value);
    else values.push(...value);
  }
  const joined = values.filter((value) => value !== '').join(',');
  return joined === '' ? undefined : joined;
}

/**
 * Checks the request's `api-version` against `spec`, the versions of `resourceType`
 * (`Microsoft.Compute/virtualMachines`, canonical case), and returns the version in the case
 * listed. Fails as ARM does:
 *
 * - absent: `MissingApiVersionParameter` (400) "The api-version query parameter
 *   (?api-version=) is required for all requests."
 *   (https://github.com/MicrosoftDocs/feedback/issues/2279);
 * - not listed, for `Microsoft.Resources` types: `InvalidApiVersionParameter` (400);
 * - not listed, for `Microsoft.Authorization` types: `InvalidResourceType` (404) naming the
 *   supported versions;
 * - not listed, for provider types: `NoRegisteredProviderFound` (400) naming `location`,
 *   the supported versions and `locations`.
 *
 * Versions compare case-insensitively (`2022-05-01-PREVIEW`).
 */
export function checkApiVersion(
  resourceType: string,
  spec: ResourceTypeVersions,
  query: ApiVersionQuery,
  options: ApiVersionOptions = {},
): string {
  const given = readApiVersion(query);
  if (given === undefined) throw missingApiVersion();
  const match = spec.versions.find((version) => version.toLowerCase() === given.toLowerCase());
  if (match !== undefined) return match;
  const [namespace = '', ...rest] = resourceType.split('/');
  const type = rest.join('/');
  switch (spec.authority) {
    case 'arm':
      throw invalidApiVersionParameter(given, spec.versions);
    case 'authorization':
      throw invalidResourceType(type, namespace, given, spec.versions);
    case 'provider': {
      const locations = options.locations ?? [];
      const location = options.location ?? locations[0] ?? '';
      throw noRegisteredProviderFound(location, given, type, spec.versions, locations);
    }
  }
}
