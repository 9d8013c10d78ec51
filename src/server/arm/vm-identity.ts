// A VM's managed identities: read from its attachments, planned from a request, applied in a transaction.
import { AppError, isAppError } from '../../core/errors.js';
import type { IdentityAttachment, Principal, Resource } from '../../core/model.js';
import type { Store } from '../../core/ports.js';
import { deletePrincipalEverywhere } from '../../core/resources/identity-lifecycle.js';
import {
  type IdentityPrincipals,
  type IdentityRequest,
  type IdentityState,
  failedIdentityOperation,
  mergeIdentity,
  resourceIdKey,
  userAssignedIdentityNotFound,
} from '../../wire/arm/index.js';
import type { ArmRequest, ArmServices } from './context.js';

const UAI_TYPE = 'microsoft.managedidentity/userassignedidentities';

/**
 * The action ARM checks on each user-assigned identity being attached. Managed Identity
 * Operator grants it through `Microsoft.ManagedIdentity/userAssignedIdentities/*\/assign/action`
 * (PROTOCOL.md 4.3); the evaluator takes concrete actions only, so the wildcard form is not asked.
 */
export const UAI_ASSIGN_ACTION = 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action';

/** A VM's identities as attached now, with the principals behind them. */
export interface CurrentIdentity {
  readonly state: IdentityState;
  /** The system-assigned identity's principal, when the VM has one. */
  readonly system: Principal | undefined;
  /** User-assigned identities by {@link resourceIdKey} of their id. */
  readonly userAssigned: ReadonlyMap<
    string,
    { readonly id: string; readonly principal: Principal }
  >;
}

/** A VM with no identity (a VM being created). */
export const NO_CURRENT_IDENTITY: CurrentIdentity = {
  state: { system: false, userAssigned: [] },
  system: undefined,
  userAssigned: new Map(),
};

/**
 * Reads a VM's identities from its attachments (the one record of them). An attachment whose
 * principal has gone is skipped. User-assigned ids keep the case they were attached with, in
 * attachment order.
 */
export async function readVmIdentity(store: Store, vmId: string): Promise<CurrentIdentity> {
  const attachments = await store.attachments.listForResource(vmId);
  const principals = new Map<string, Principal>();
  for (const attachment of attachments) {
    const principal = await store.principals.get(attachment.principalId);
    if (principal !== undefined) principals.set(principal.objectId, principal);
  }
  return currentIdentityOf(attachments, principals);
}

/**
 * {@link CurrentIdentity} from a resource's attachments and their principals by object id, read
 * beforehand (one by one, or for a page of VMs at once); attachments whose principal is gone are
 * passed over.
 */
export function currentIdentityOf(
  attachments: readonly IdentityAttachment[],
  principals: ReadonlyMap<string, Principal>,
): CurrentIdentity {
  const ordered = [...attachments].sort(byCreation);
  let system: Principal | undefined;
  const userAssigned = new Map<string, { id: string; principal: Principal }>();
  for (const attachment of ordered) {
    const principal = principals.get(attachment.principalId);
    if (principal === undefined) continue;
    if (attachment.kind === 'SystemAssigned') system = principal;
    else {
      userAssigned.set(resourceIdKey(attachment.identityResourceId), {
        id: attachment.identityResourceId,
        principal,
      });
    }
  }
  return {
    state: {
      system: system !== undefined,
      userAssigned: [...userAssigned.values()].map((entry) => entry.id),
    },
    system,
    userAssigned,
  };
}

function byCreation(a: IdentityAttachment, b: IdentityAttachment): number {
  return a.createdAt - b.createdAt;
}

/** The principals of {@link CurrentIdentity} as `renderIdentity` reads them. */
export function identityPrincipals(current: CurrentIdentity): IdentityPrincipals {
  return {
    system:
      current.system === undefined
        ? undefined
        : { principalId: current.system.objectId, tenantId: current.system.tenantId },
    userAssigned: (id) => {
      const found = current.userAssigned.get(resourceIdKey(id));
      return found === undefined
        ? undefined
        : { principalId: found.principal.objectId, clientId: found.principal.appId };
    },
  };
}

/** What one request changes in a VM's identities, checked and resolved before any write. */
export interface IdentityPlan {
  readonly next: IdentityState;
  readonly createSystem: boolean;
  /** The system-assigned principal to delete everywhere. */
  readonly deleteSystem: string | undefined;
  /** User-assigned identities to attach: id as sent and its principal. */
  readonly attach: readonly { readonly id: string; readonly principalId: string }[];
  /** Principals of user-assigned identities to detach. */
  readonly detach: readonly string[];
}

/** A plan that changes nothing. */
export function keepIdentity(current: CurrentIdentity): IdentityPlan {
  return {
    next: current.state,
    createSystem: false,
    deleteSystem: undefined,
    attach: [],
    detach: [],
  };
}

/**
 * Merges `request` into `current` (`mergeIdentity`, whose 400s propagate), then, for each
 * user-assigned identity to be attached: refuses with `LinkedAuthorizationFailed` (403, naming
 * `writeAction`, the compute resource's write action) unless the
 * caller has {@link UAI_ASSIGN_ACTION} on every one of them (checked first, as ARM does before the
 * resource provider sees the request), then with Compute's `InvalidParameter`
 * (`userAssignedIdentityNotFound`) unless the identity exists with its principal.
 */
export async function planIdentity(
  services: ArmServices,
  request: ArmRequest,
  vmId: string,
  current: CurrentIdentity,
  identity: IdentityRequest,
  isPatch: boolean,
  writeAction = 'Microsoft.Compute/virtualMachines/write',
): Promise<IdentityPlan> {
  let next: IdentityState;
  try {
    next = mergeIdentity(current.state, identity, isPatch);
  } catch (error) {
    // The limits are the identity provider's; ARM wraps its answer.
    if (isAppError(error) && error.wire.arm === 'BadRequest') {
      throw failedIdentityOperation(vmId, error);
    }
    throw error;
  }
  const nextKeys = new Set(next.userAssigned.map((id) => resourceIdKey(id)));
  const added = next.userAssigned.filter((id) => !current.userAssigned.has(resourceIdKey(id)));

  const denied: string[] = [];
  for (const id of added) {
    const { allowed } = await services.rbac.check({
      principalId: request.caller.objectId,
      action: UAI_ASSIGN_ACTION,
      scope: id,
    });
    if (!allowed) denied.push(id);
  }
  if (denied.length > 0) throw linkedAuthorizationFailed(request, vmId, denied, writeAction);

  const attach: { id: string; principalId: string }[] = [];
  for (const id of added) {
    const resource = await services.store.resources.get(id);
    const principal = await services.store.principals.getByAlternativeName(id);
    if (
      resource?.type.toLowerCase() !== UAI_TYPE ||
      principal === undefined ||
      principal.type !== 'ManagedIdentity'
    ) {
      throw failedIdentityOperation(vmId, userAssignedIdentityNotFound(id));
    }
    attach.push({ id, principalId: principal.objectId });
  }
  const detach = [...current.userAssigned]
    .filter(([key]) => !nextKeys.has(key))
    .map(([, entry]) => entry.principal.objectId);
  return {
    next,
    createSystem: next.system && current.system === undefined,
    deleteSystem: !next.system ? current.system?.objectId : undefined,
    attach,
    detach,
  };
}

/**
 * Carries out `plan` for `vm` (already written) with `tx`, the request's transaction store. A
 * new system-assigned identity is a `ManagedIdentity` principal named after the VM whose
 * alternative name is the VM's id (how tokens and lookups find it), attached as `SystemAssigned`;
 * a removed one is deleted everywhere (attachments, role assignments, the principal). Throws
 * `userAssignedIdentityNotFound` if an identity was deleted since the plan was made (the
 * transaction then rolls back).
 */
export async function applyIdentity(
  tx: Store,
  services: ArmServices,
  vm: Resource,
  plan: IdentityPlan,
  tenantId: string,
): Promise<void> {
  const now = services.clock.now();
  if (plan.deleteSystem !== undefined) await deletePrincipalEverywhere(tx, plan.deleteSystem, now);
  if (plan.createSystem) {
    const principal: Principal = {
      objectId: services.newId(),
      appId: services.newId(),
      tenantId,
      displayName: vm.name,
      type: 'ManagedIdentity',
      alternativeNames: [vm.id],
      enabled: true,
      createdAt: now,
      updatedAt: now,
    };
    await tx.principals.create(principal);
    await tx.attachments.attach({
      resourceId: vm.id,
      principalId: principal.objectId,
      kind: 'SystemAssigned',
      identityResourceId: vm.id,
      createdAt: now,
    });
  }
  for (const principalId of plan.detach) await tx.attachments.detach(vm.id, principalId);
  for (const { id, principalId } of plan.attach) {
    if ((await tx.principals.get(principalId)) === undefined) {
      throw failedIdentityOperation(vm.id, userAssignedIdentityNotFound(id));
    }
    await tx.attachments.attach({
      resourceId: vm.id,
      principalId,
      kind: 'UserAssigned',
      identityResourceId: id,
      createdAt: now,
    });
  }
}

/**
 * `LinkedAuthorizationFailed` (403): the caller may write the VM but not assign the identities.
 * Ids are joined with ',' and appear as sent. Source:
 * https://github.com/Azure/aad-pod-identity/issues/443 (one id),
 * https://github.com/Azure/aad-pod-identity/issues/339 (several, joined with ',').
 */
function linkedAuthorizationFailed(
  request: ArmRequest,
  vmId: string,
  ids: string[],
  writeAction: string,
): AppError {
  const { caller } = request;
  const client = caller.appId ?? caller.objectId;
  return new AppError(
    'Forbidden',
    `The client '${client}' with object id '${caller.objectId}' has permission to perform action '${writeAction}' on scope '${vmId}'; however, it does not have permission to perform action '${UAI_ASSIGN_ACTION}' on the linked scope(s) '${ids.join(',')}' or the linked scope(s) are invalid.`,
    { status: 403, wire: { arm: 'LinkedAuthorizationFailed' } },
  );
}
