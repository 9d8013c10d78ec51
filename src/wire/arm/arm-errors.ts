// ARM's request-validation errors by reason: wire code, HTTP status and text, each with its source.
import { AppError, invalidApiVersion, invalidRequest, type ErrorCode } from '../../core/errors.js';

/** How an ARM error is raised: the wire code, the status and the request element at fault. */
interface ArmErrorOptions {
  readonly status?: 400 | 404;
  /** ARM's `target`; set only where Azure's own answer carries one. */
  readonly target?: string | undefined;
}

/**
 * An {@link AppError} rendered by `renderArmError` with `armCode` as its `error.code`. The
 * Tessera code follows the status (400 `InvalidParameter`, 404 `NotFound`), so other dialects
 * still render something sensible.
 */
export function armError(
  armCode: string,
  message: string,
  options: ArmErrorOptions = {},
): AppError {
  const status = options.status ?? 400;
  const code: ErrorCode = status === 404 ? 'NotFound' : 'InvalidParameter';
  return new AppError(code, message, {
    status,
    wire: { arm: armCode },
    ...(options.target === undefined ? {} : { target: options.target }),
  });
}

/**
 * `InvalidApiVersionParameter` (400), ARM's own answer for its own types (resource groups,
 * subscriptions): versions comma-separated without spaces, newest first.
 * Source: https://github.com/Azure/azure-sdk-for-net/issues/2276,
 * https://github.com/ansible-collections/azure/issues/1739 (2024 capture, same format).
 */
export function invalidApiVersionParameter(given: string, supported: readonly string[]): AppError {
  return invalidApiVersion(given, supported);
}

/**
 * `NoRegisteredProviderFound` (400), ARM's answer when a resource provider's manifest does not
 * list the version: type without its namespace, lists joined with `', '`.
 * Source: https://github.com/Azure/azure-cli/issues/28496 (networkInterfaces),
 * https://github.com/MicrosoftDocs/azure-docs/pull/62621 (virtualMachines/extensions),
 * https://github.com/Azure/bicep/issues/3543 (global type: "The supported locations are ''.").
 */
export function noRegisteredProviderFound(
  location: string,
  given: string,
  type: string,
  supported: readonly string[],
  locations: readonly string[],
): AppError {
  return new AppError(
    'InvalidApiVersion',
    `No registered resource provider found for location '${location}' and API version '${given}' for type '${type}'. The supported api-versions are '${supported.join(', ')}'. The supported locations are '${locations.join(', ')}'.`,
    { status: 400, wire: { arm: 'NoRegisteredProviderFound' } },
  );
}

/**
 * `InvalidResourceType` (404). With `supported` it is ARM's answer for a Microsoft.Authorization
 * type asked for with an unknown version (lists comma-separated without spaces); without, the
 * answer for a type its namespace does not have.
 * Source: https://github.com/Azure/azure-sdk-for-go/issues/16699 (roleAssignments),
 * https://github.com/Azure/azure-sdk-for-js/issues/15460 (status 404),
 * https://github.com/Azure/terraform-provider-azapi/issues/604 (unknown type, 404).
 */
export function invalidResourceType(
  type: string,
  namespace: string,
  given: string,
  supported?: readonly string[],
): AppError {
  const versions =
    supported === undefined ? '' : ` The supported api-versions are '${supported.join(',')}'.`;
  return armError(
    'InvalidResourceType',
    `The resource type '${type}' could not be found in the namespace '${namespace}' for api version '${given}'.${versions}`,
    { status: 404 },
  );
}

/**
 * `InvalidResourceNamespace` (404; the status is not captured): a namespace ARM does not know.
 * Source: https://github.com/Azure/aci-connector-k8s/issues/13
 */
export function invalidResourceNamespace(namespace: string): AppError {
  return armError('InvalidResourceNamespace', `The resource namespace '${namespace}' is invalid.`, {
    status: 404,
  });
}

/**
 * `InvalidSubscriptionId` (400): the subscription segment is not a GUID.
 * Source: https://github.com/hashicorp/terraform-provider-azurerm/issues/25954 (400),
 * https://github.com/Azure/azure-cli/issues/30953 (text).
 */
export function invalidSubscriptionId(subscriptionId: string): AppError {
  return armError(
    'InvalidSubscriptionId',
    `The provided subscription identifier '${subscriptionId}' is malformed or invalid.`,
  );
}

/**
 * `InvalidResourceGroup` (400). With `invalidCharacters` the text is ARM's (every offending
 * character, in order); the length and trailing-period texts are Tessera's in the same style.
 * Source: https://github.com/Azure/azure-cli/issues/14481 (a GET answered this way).
 */
export function invalidResourceGroup(name: string, invalidCharacters?: string): AppError {
  const message =
    invalidCharacters === undefined
      ? `The provided resource group name '${name}' is invalid. The name must be 1 to 90 characters long and can't end with a period.`
      : `The provided resource group name '${name}' has these invalid characters: '${invalidCharacters}'. The name can only be a letter, digit, '-', '.', '(', ')' or '_'.`;
  return armError('InvalidResourceGroup', message);
}

/**
 * `InvalidResourceName` (400): a resource name outside its type's rules. The code is the one
 * resource providers use (e.g. https://github.com/rh-mobb/documentation/pull/204); each
 * provider words the text itself and none was captured for these types, so `rule` is Tessera's.
 */
export function invalidResourceName(name: string, rule: string): AppError {
  return armError('InvalidResourceName', `Resource name ${name} is invalid. ${rule}`);
}

/**
 * `LinkedInvalidPropertyId` (400): a resource id in the body is not a fully qualified id.
 * Source: https://github.com/Azure/azure-cli/issues/30560,
 * https://github.com/Azure/avdaccelerator/issues/84 (path of an array element).
 */
export function linkedInvalidPropertyId(id: string, path: string): AppError {
  return armError(
    'LinkedInvalidPropertyId',
    `Property id '${id}' at path '${path}' is invalid. Expect fully qualified resource Id that start with '/subscriptions/{subscriptionId}' or '/providers/{resourceProviderNamespace}/'.`,
  );
}

/**
 * `InvalidRequestContent` (400): the body could not be read. `detail` is the deserializer's
 * sentence, quoted as ARM quotes Json.NET's.
 * Source: https://github.com/Azure/azure-sdk-for-net/issues/3487 (code, status and wrapping).
 */
export function invalidRequestContent(detail: string): AppError {
  return invalidRequest(
    `The request content was invalid and could not be deserialized: '${detail}'.`,
  );
}

/**
 * `PrivateIPAddressIsAllocated` (400): Azure Network's answer when an IP configuration asks for a
 * private address another resource holds, word for word, with the VM or scale-set instance
 * `resourceId` in place of the IP configuration and `address` as the request spelled it. The
 * holder is named when `holderId` is given (callers who may not read it are told "another
 * resource" instead).
 * Source: https://github.com/F5Networks/terraform-azure-bigip-module/issues/63 (2024: status 400,
 * code and text), https://github.com/daniel-rhoades/acs-engine-terraform/issues/10 (2018).
 */
export function privateAddressAllocated(
  resourceId: string,
  address: string,
  holderId: string | undefined,
): AppError {
  const holder = holderId === undefined ? 'another resource' : `resource ${holderId}`;
  return armError(
    'PrivateIPAddressIsAllocated',
    `IP configuration ${resourceId} is using the private IP address ${address} which is already allocated to ${holder}.`,
  );
}

/**
 * 400 `InvalidParameter` on `properties.tessera.hostId` naming no registered host (Tessera's own
 * member: Azure places VMs itself). The agent of an unknown host would never serve the VM.
 */
export function hostNotFound(hostId: string): AppError {
  return armError(
    'InvalidParameter',
    `The host '${hostId}' in 'properties.tessera.hostId' does not exist. Give the id of a registered host (tessera host list).`,
    { target: 'properties.tessera.hostId' },
  );
}

/**
 * `ResourceNotFound` (404) for a resource in a group, word for word, e.g. for
 * `Microsoft.ManagedIdentity/userAssignedIdentities/id1` in `rg`.
 * Source: PROTOCOL.md 4.1 (azure-docs automation tutorial capture).
 */
export function resourceNotFound(fullTypeAndName: string, group: string): AppError {
  return armError(
    'ResourceNotFound',
    `The Resource '${fullTypeAndName}' under resource group '${group}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
    { status: 404 },
  );
}

/** `LocationRequired` (400): a PUT of a tracked resource (group, identity, VM) without `location`. */
export function locationRequired(): AppError {
  return armError('LocationRequired', 'The location property is required for this definition.');
}

/**
 * `InvalidResourceLocation` (409): a PUT names another location than the existing resource's.
 * ARM itself answers it, before the resource provider sees the request, so the status is the same
 * for every resource kind. Text from https://github.com/fortinetsolutions/Azure-Templates/issues/8
 * and https://github.com/MicrosoftDocs/azure-docs/issues/70422; status 409 from
 * https://github.com/rancher/rancher/issues/15651 (`StatusCode=409 … Code="InvalidResourceLocation"`
 * for Microsoft.Compute). `status` is only accepted for callers that still pass it.
 */
export function invalidResourceLocation(
  name: string,
  current: string,
  group: string,
  asked: string,
  status: 409 = 409,
): AppError {
  const message = `The resource '${name}' already exists in location '${current}' in resource group '${group}'. A resource with the same name cannot be created in location '${asked}'. Please select a new resource name.`;
  return new AppError('Conflict', message, { status, wire: { arm: 'InvalidResourceLocation' } });
}

/**
 * `InvalidResourceGroupLocation` (409): a resource group PUT names another location than the
 * group's; `asked` as sent, `current` as stored.
 * Source: https://github.com/microsoft/bedrock/issues/100 (`StatusCode=409`, code, text),
 * https://github.com/trailofbits/algo/issues/1814 (status 409),
 * https://github.com/Azure/pcs-cli/issues/400 (the asked location echoed as sent, 'East US').
 */
export function invalidResourceGroupLocation(asked: string, current: string): AppError {
  return new AppError(
    'Conflict',
    `Invalid resource group location '${asked}'. The Resource group already exists in location '${current}'.`,
    { status: 409, wire: { arm: 'InvalidResourceGroupLocation' } },
  );
}
