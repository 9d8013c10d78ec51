// VM and scale-set writes in ARM's terms: the identity change planned with ARM's checks, core's refusals answered in ARM's words.
import {
  type CurrentIdentity,
  type IdentityPlan,
  isComputeProblem,
  keepIdentity,
  NO_CURRENT_IDENTITY,
  planIdentity,
  readIdentity,
} from '../../../core/compute/index.js';
import type { Resource } from '../../../core/model.js';
import {
  computeProblemInArmWords,
  holderReadAction,
  type IdentityFormat,
  type IdentityRequest,
  identityFormat,
  linkedAuthorizationFailed,
  mergeHolderIdentity,
  UAI_ASSIGN_ACTION,
} from '../../../wire/arm/index.js';
import type { ArmResponse } from '../context.js';
import {
  actionOf,
  type OperationContext,
  type Operations,
  type ResourceTypeDeclaration,
} from '../provider.js';
import { trackedDeclaration } from '../tracked-operations.js';

/** One VM or scale-set write: the new version over the one read, and what it asks of identities. */
export interface HolderWrite {
  readonly holder: Resource;
  readonly existing: Resource | undefined;
  /** The body's `identity`; undefined leaves the identities as they are, on PUT too. */
  readonly identity: IdentityRequest | undefined;
  readonly isPatch: boolean;
}

/** A VM, scale-set or instance body renderer, given the holder's identities in the request's format. */
export type HolderRender = (
  holder: Resource,
  identity: CurrentIdentity,
  format: IdentityFormat,
) => unknown;

/** `render` of a VM or scale set with the identities it has now, in the api-version's format. */
async function renderHolder(
  context: OperationContext,
  holder: Resource,
  render: HolderRender,
): Promise<unknown> {
  const identity = await readIdentity(context.services.store, holder.id);
  return render(holder, identity, identityFormat(context.apiVersion));
}

/**
 * Refuses with `LinkedAuthorizationFailed` (403) unless the caller has {@link UAI_ASSIGN_ACTION}
 * on every one of `ids` (all are checked, then named).
 */
async function requireAssign(
  context: OperationContext,
  writeAction: string,
  holderId: string,
  ids: readonly string[],
): Promise<void> {
  const { caller } = context.request;
  const denied: string[] = [];
  for (const id of ids) {
    const { allowed } = await context.services.rbac.check({
      principalId: caller.objectId,
      action: UAI_ASSIGN_ACTION,
      scope: id,
    });
    if (!allowed) denied.push(id);
  }
  if (denied.length > 0) throw linkedAuthorizationFailed(caller, writeAction, holderId, denied);
}

/**
 * Plans a write's identity change: reads the holder's identities, merges the request into them
 * (`mergeHolderIdentity`), then has core plan it, the caller checked for the right to assign
 * each identity to attach. A missing identity is core's `identity_not_found`.
 */
async function planRequestedIdentity(
  context: OperationContext,
  writeAction: string,
  change: HolderWrite,
): Promise<IdentityPlan> {
  const { store } = context.services;
  const holderId = change.holder.id;
  const current =
    change.existing === undefined ? NO_CURRENT_IDENTITY : await readIdentity(store, holderId);
  // A body without `identity` leaves the identities as they are, on PUT too (see compatibility.md).
  if (change.identity === undefined) return keepIdentity(current);
  const next = mergeHolderIdentity(holderId, current.state, change.identity, change.isPatch);
  return planIdentity(store, {
    holderId,
    current,
    next,
    mayAttach: (ids) => requireAssign(context, writeAction, holderId, ids),
  });
}

/**
 * Runs `work` (a compute write, planning included) and answers core's `ComputeProblemError`s in
 * ARM's words (`computeProblemInArmWords`), naming the holder of a taken address only to a
 * caller who may read it. Run it outside the write's transaction: the permission is read once
 * that is over (on SQLite it holds the only connection).
 */
export async function answeringComputeProblems<T>(
  context: OperationContext,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!isComputeProblem(error)) throw error;
    const { problem } = error;
    const readable =
      problem.reason === 'address_taken' &&
      (
        await context.services.rbac.check({
          principalId: context.request.caller.objectId,
          action: holderReadAction(problem.holder),
          scope: problem.holder.id,
        })
      ).allowed;
    throw computeProblemInArmWords(problem, readable);
  }
}

/**
 * Writes a VM or scale set of `declaration`: plans the identity change (checked with its write
 * action), then runs `write` with the plan (core's one transaction), core's refusals of either
 * answered in ARM's words ({@link answeringComputeProblems}). Answers 201 or 200 with the
 * version written, rendered with its identities.
 */
export async function writeHolder(
  context: OperationContext,
  declaration: ResourceTypeDeclaration,
  render: HolderRender,
  change: HolderWrite,
  write: (plan: IdentityPlan) => Promise<{ created: boolean; written: Resource }>,
): Promise<ArmResponse> {
  const writeAction = actionOf(declaration, 'write');
  const { created, written } = await answeringComputeProblems(context, async () =>
    write(await planRequestedIdentity(context, writeAction, change)),
  );
  return { status: created ? 201 : 200, body: await renderHolder(context, written, render) };
}

/**
 * The declaration of a VM-like type (`trackedDeclaration`): each item read and listed with its
 * identities (`render`); `writes` are its own PUT and PATCH.
 */
export function holderDeclaration(
  type: string,
  render: HolderRender,
  writes: Required<Pick<Operations, 'put' | 'patch'>>,
): ResourceTypeDeclaration {
  return trackedDeclaration({
    type,
    render: (context, holder) => renderHolder(context, holder, render),
    ...writes,
  });
}
