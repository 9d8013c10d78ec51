// A VM's or scale set's managed identities: read from its attachments, planned from a wanted set, applied in a transaction.
import type { IdentityAttachment, Principal, Resource } from '../model.js';
import type { Store } from '../ports.js';
import { createManagedIdentityPrincipal } from '../directory/managed-identity.js';
import { deletePrincipalEverywhere } from '../resources/identity-lifecycle.js';
import { identityToAttachNotFound } from './compute-errors.js';
import type { ComputeSources } from './services.js';

/** The ARM type of a user-assigned identity, lower-case. */
const UAI_TYPE = 'microsoft.managedidentity/userassignedidentities';

/**
 * The key of an identity's id: ARM compares ids case-insensitively, and every id here is a
 * well-formed user-assigned identity id (checked where the request was read).
 */
const idKey = (id: string): string => id.toLowerCase();

/** Which identities a VM or scale set has: ids keep the case they were first attached with. */
export interface IdentitySet {
  readonly system: boolean;
  readonly userAssigned: readonly string[];
}

/** A holder's identities as attached now, with the principals behind them. */
export interface CurrentIdentity {
  readonly state: IdentitySet;
  /** The system-assigned identity's principal, when the holder has one. */
  readonly system: Principal | undefined;
  /** User-assigned identities by their lower-case id. */
  readonly userAssigned: ReadonlyMap<
    string,
    { readonly id: string; readonly principal: Principal }
  >;
}

/** A holder with no identity (one being created). */
export const NO_CURRENT_IDENTITY: CurrentIdentity = {
  state: { system: false, userAssigned: [] },
  system: undefined,
  userAssigned: new Map(),
};

/**
 * Reads the identities of `holderId` (a VM or scale set) from its attachments, the one record of
 * them. An attachment whose principal has gone is skipped. User-assigned ids keep the case they
 * were attached with, in attachment order.
 */
export async function readIdentity(store: Store, holderId: string): Promise<CurrentIdentity> {
  const attachments = await store.attachments.listForResource(holderId);
  const found = await store.principals.getMany(attachments.map((a) => a.principalId));
  return currentIdentityOf(attachments, new Map(found.map((p) => [p.objectId, p])));
}

/**
 * {@link CurrentIdentity} from a holder's attachments and their principals by object id, read
 * beforehand (one by one, or for a page of VMs at once); attachments whose principal is gone are
 * passed over.
 */
export function currentIdentityOf(
  attachments: readonly IdentityAttachment[],
  principals: ReadonlyMap<string, Principal>,
): CurrentIdentity {
  const ordered = [...attachments].sort((a, b) => a.createdAt - b.createdAt);
  let system: Principal | undefined;
  const userAssigned = new Map<string, { id: string; principal: Principal }>();
  for (const attachment of ordered) {
    const principal = principals.get(attachment.principalId);
    if (principal === undefined) continue;
    if (attachment.kind === 'SystemAssigned') system = principal;
    else {
      userAssigned.set(idKey(attachment.identityResourceId), {
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

/** The user-assigned identity `id` of `current` (any case), with its principal. */
export function userAssignedOf(
  current: CurrentIdentity,
  id: string,
): { readonly id: string; readonly principal: Principal } | undefined {
  return current.userAssigned.get(idKey(id));
}

/** What one request changes in a holder's identities, checked and resolved before any write. */
export interface IdentityPlan {
  readonly next: IdentitySet;
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
 * Checks that the caller may attach each of `ids` (user-assigned identities not attached yet),
 * and throws the surface's refusal if not; RBAC is the surface's to ask and to word.
 */
export type AttachCheck = (ids: readonly string[]) => Promise<void>;

/** What {@link planIdentity} plans from. */
export interface IdentityChange {
  /** The VM or scale set, by the id it is (or will be) stored under. */
  readonly holderId: string;
  readonly current: CurrentIdentity;
  /** The identities it is to have. */
  readonly next: IdentitySet;
  readonly mayAttach: AttachCheck;
}

/**
 * Plans the move from `current` to `next`: for the user-assigned identities to be attached it
 * first asks `mayAttach` (the caller's right on every one of them, checked before anything else,
 * as ARM does before the resource provider sees the request), then requires each to exist with
 * its `ManagedIdentity` principal (`identity_not_found` otherwise, a `ComputeProblemError`).
 */
export async function planIdentity(store: Store, change: IdentityChange): Promise<IdentityPlan> {
  const { current, next } = change;
  const nextKeys = new Set(next.userAssigned.map(idKey));
  const added = next.userAssigned.filter((id) => !current.userAssigned.has(idKey(id)));
  if (added.length > 0) await change.mayAttach(added);

  const attach: { id: string; principalId: string }[] = [];
  for (const id of added) {
    const principal = await userAssignedPrincipal(store, id);
    if (principal === undefined) throw identityToAttachNotFound(change.holderId, id);
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
 * The principal of the user-assigned identity `id`, when it is a managed identity known by that
 * id: the one its resource names (two point reads), or for a resource that names none, the one
 * found by alternative name (a scan of the principals). Undefined for anything else.
 */
async function userAssignedPrincipal(store: Store, id: string): Promise<Principal | undefined> {
  const resource = await store.resources.get(id);
  if (resource?.type.toLowerCase() !== UAI_TYPE) return undefined;
  const { principalId } = resource.properties as { principalId?: unknown };
  const principal =
    typeof principalId === 'string' && principalId !== ''
      ? await store.principals.get(principalId)
      : await store.principals.getByAlternativeName(id);
  const key = idKey(id);
  return principal?.type === 'ManagedIdentity' &&
    principal.alternativeNames.some((name) => idKey(name) === key)
    ? principal
    : undefined;
}

/**
 * Carries out `plan` for `holder` (already written) with `tx`, the write's transaction store. A
 * new system-assigned identity is a managed-identity principal named after the holder, known by
 * its id (`createManagedIdentityPrincipal`), attached as `SystemAssigned`; a removed one is deleted
 * everywhere (attachments, role assignments, the principal). Throws `identity_not_found` if a
 * user-assigned identity was deleted since the plan was made (the transaction then rolls back).
 */
export async function applyIdentity(
  tx: Store,
  sources: ComputeSources,
  holder: Resource,
  plan: IdentityPlan,
  tenantId: string,
): Promise<void> {
  const now = sources.clock.now();
  if (plan.deleteSystem !== undefined) await deletePrincipalEverywhere(tx, plan.deleteSystem, now);
  if (plan.createSystem) {
    const principal = await createManagedIdentityPrincipal(tx, {
      tenantId,
      resourceId: holder.id,
      displayName: holder.name,
      newId: sources.newId,
      now,
    });
    await tx.attachments.attach({
      resourceId: holder.id,
      principalId: principal.objectId,
      kind: 'SystemAssigned',
      identityResourceId: holder.id,
      createdAt: now,
    });
  }
  for (const principalId of plan.detach) await tx.attachments.detach(holder.id, principalId);
  for (const { id, principalId } of plan.attach) {
    if ((await tx.principals.get(principalId)) === undefined) {
      throw identityToAttachNotFound(holder.id, id);
    }
    await tx.attachments.attach({
      resourceId: holder.id,
      principalId,
      kind: 'UserAssigned',
      identityResourceId: id,
      createdAt: now,
    });
  }
}
