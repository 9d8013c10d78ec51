// ARM's wire formats: resource ids, api-versions, envelopes, the VM identity property, the Activity Log, errors.
export {
  armError,
  invalidApiVersionParameter,
  invalidRequestContent,
  invalidResourceGroup,
  invalidResourceGroupLocation,
  invalidResourceLocation,
  invalidResourceName,
  invalidResourceNamespace,
  invalidResourceType,
  invalidSubscriptionId,
  linkedInvalidPropertyId,
  locationRequired,
  noRegisteredProviderFound,
  hostNotFound,
  privateAddressAllocated,
  resourceNotFound,
} from './arm-errors.js';
export {
  EVENT_DATA_KEYS,
  dotNetTicks,
  eventTimestamp,
  parseActivitySelect,
  renderActivityEvent,
  subStatusOf,
  type EventDataBody,
  type EventDataKey,
  type LocalizableString,
} from './activity-log.js';
export {
  ACTIVITY_LOG_MAX_AGE_DAYS,
  parseActivityFilter,
  parseActivityTime,
  type ActivityFilter,
} from './activity-log-filter.js';
export {
  API_VERSIONS,
  checkApiVersion,
  versionsOf,
  readApiVersion,
  type ApiVersionAuthority,
  type ApiVersionOptions,
  type ApiVersionQuery,
  type ResourceTypeVersions,
} from './api-versions.js';
export {
  ARM_HEADERS,
  MAX_TOP,
  TAG_LIMITS,
  armResource,
  armTraceHeaders,
  decodeSkipToken,
  encodeSkipToken,
  listPage,
  nextLink,
  parseJsonBody,
  parseJsonObject,
  parseListQuery,
  queryValues,
  type RequestQuery,
  validateTags,
  type ArmListPage,
  type ArmResource,
  type ArmResourceInput,
  type ArmSystemData,
  type ListPageOptions,
  type ListQuery,
} from './envelope.js';
export {
  IDENTITY_TYPES,
  MAX_USER_ASSIGNED_IDENTITIES,
  MAX_USER_ASSIGNED_PER_REQUEST,
  NO_IDENTITY,
  identityFormat,
  identityTypeOf,
  isUserAssignedIdentityId,
  mergeIdentity,
  parseIdentity,
  renderIdentity,
  failedIdentityOperation,
  userAssignedIdentityNotFound,
  type ArmIdentity,
  type IdentityFormat,
  type IdentityPrincipals,
  type IdentityRequest,
  type IdentityState,
  type IdentityType,
  type ParseIdentityOptions,
} from './identity.js';
export { describeJsonDepthFault, describeJsonFault, MAX_JSON_DEPTH } from './json-text.js';
export { canonicalPrivateAddress } from './private-address.js';
export {
  canonicalResourceId,
  formatResourceId,
  isGuid,
  parseResourceId,
  parseScope,
  resourceIdKey,
  sameResourceId,
  validateResourceGroupName,
  validateResourceName,
  type ParseResourceIdOptions,
  type ResourceId,
  type ResourceIdKind,
  type ResourceIdSpec,
} from './resource-id.js';
export {
  invalidFilter,
  matchesFilter,
  parseResourceExpand,
  parseResourceFilter,
  type FilterSubject,
  type ResourceExpand,
  type ResourceFilter,
} from './resource-filter.js';
export { checkPreconditions } from './preconditions.js';
export { OWN_TYPES, parseTarget, type ArmTarget, type ScopeKind } from './target.js';
export {
  renderGenericResource,
  renderProvider,
  renderResourceGroup,
  renderSubscription,
  renderTenant,
  type ProviderTypeInput,
} from './resource-manager.js';
export {
  AUDIT_EVENTS_API_VERSION,
  invalidQueryValue,
  parseAuditEventsQuery,
  renderAuditEvent,
} from './audit-events.js';
export {
  parseDefinitionFilter,
  permissionBlocks,
  queryFilter,
  renderRoleAssignment,
  renderRoleDefinition,
  type RoleDefinitionAuthors,
} from './authorization.js';
export {
  grantRefusal,
  invalidRoleAssignmentId,
  invalidRoleDefinitionId,
  roleAssignmentNotFound,
  roleDefinitionDoesNotExist,
} from './authorization-errors.js';
export { SYSTEM_IDENTITIES, mergeHolderIdentity, renderSystemIdentity } from './compute-body.js';
export {
  UAI_ASSIGN_ACTION,
  computeProblemInArmWords,
  holderReadAction,
  linkedAuthorizationFailed,
} from './compute-errors.js';
export {
  DEFAULT_SKU,
  VAULTS,
  defaultVaultUri,
  rbacProperties,
  renderVault,
  storedVaultProperties,
  validateVaultName,
  vaultAlreadyExists,
  vaultPropertiesOf,
} from './key-vault-body.js';
export { parseAssignmentFilter } from './role-assignment-filter.js';
export {
  CUSTOM_ROLE_LIMITS,
  customRoleRefusal,
  invalidRoleDefinitionScope,
  parseCustomRole,
} from './role-definition.js';
export {
  instanceSkipToken,
  instancesAfter,
  parseScaleSetProperties,
  parseSku,
  renderInstance,
  renderScaleSet,
} from './scale-set-body.js';
export {
  normaliseLocation,
  optionalLocation,
  refuseMove,
  requiredLocation,
  tagsOf,
} from './tracked-body.js';
export {
  USER_ASSIGNED_IDENTITIES,
  parseIsolationScope,
  renderUserAssignedIdentity,
  userAssignedIdentityProperties,
  type UserAssignedIdentityProperties,
} from './user-assigned-identity.js';
export {
  checkExtensionProperties,
  extensionPropertiesAfter,
  parseExtensionRequest,
  renderExtension,
  validateExtensionName,
} from './vm-extension-body.js';
export { mergePatch, parseVmProperties, patchVmProperties, renderVm } from './vm-body.js';
export {
  FEDERATED_FIELD_MAX,
  concurrentFederatedWrites,
  federatedCredentialOf,
  issuerSubjectTaken,
  parentIdentityNotFound,
  parseFederatedCredential,
  renderFederatedCredential,
  tooManyFederatedCredentials,
  validateFederatedCredentialName,
  type FederatedCredential,
} from './federated-credential.js';
