// The compute domain: VMs, scale sets and their instances, their identities, placement and extensions.

export {
  addressTaken,
  type ComputeProblem,
  ComputeProblemError,
  identityToAttachNotFound,
  isComputeProblem,
  unknownHost,
} from './compute-errors.js';
export {
  type ExtensionRecord,
  type LegacyExtensionUse,
  type LegacyExtensionWrite,
  legacyExtensionAudit,
  recordExtension,
  removeExtension,
} from './extensions.js';
export {
  applyIdentity,
  type AttachCheck,
  type CurrentIdentity,
  currentIdentityOf,
  type IdentityChange,
  type IdentityPlan,
  type IdentitySet,
  keepIdentity,
  NO_CURRENT_IDENTITY,
  planIdentity,
  readIdentity,
  userAssignedOf,
} from './identities.js';
export {
  applyResize,
  instanceIdOf,
  instanceResourceId,
  isInstanceId,
  newInstance,
  placeInstance,
  planResize,
  readInstances,
  removeInstance,
  type ResizePlan,
} from './instances.js';
export { getTyped, type ScaleSetWrite, type VmWrite, writeScaleSet, writeVm } from './lifecycle.js';
export { checkPlacement } from './placement.js';
export { canonicalPrivateAddress } from './private-address.js';
export {
  publicProperties,
  SCALE_SET_STATE_MEMBER,
  type ScaleSetSku,
  type ScaleSetState,
  scaleSetState,
  withState,
} from './scale-set-state.js';
export type { ComputeServices, ComputeSources } from './services.js';
