// Store-level setup for ARM suites: user-assigned identities, role assignments, state snapshots.
import { randomUUID } from 'node:crypto';
import type { Principal } from '../../src/core/model.js';
import type { ArmHarness } from './arm-harness.js';

const UAI_TYPE = 'Microsoft.ManagedIdentity/userAssignedIdentities';

/** A user-assigned identity written to the store: its id and its principal. */
export interface StoredUai {
  readonly id: string;
  readonly principal: Principal;
}

/**
 * Writes a user-assigned identity straight to the store (resource plus `ManagedIdentity`
 * principal whose alternative name is the id), as the identity routes would.
 */
export async function createStoredUai(
  h: ArmHarness,
  group: string,
  name: string,
): Promise<StoredUai> {
  const id = `/subscriptions/${h.sub}/resourcegroups/${group}/providers/${UAI_TYPE}/${name}`;
  const now = Date.now();
  await h.store.resources.put({
    id,
    type: UAI_TYPE,
    name,
    subscriptionId: h.sub,
    resourceGroup: group,
    location: 'westeurope',
    tags: {},
    properties: {},
    createdAt: now,
    updatedAt: now,
  });
  const principal = await h.server.services.directory.createPrincipal({
    tenantId: h.server.tenant.id,
    displayName: name,
    type: 'ManagedIdentity',
    alternativeNames: [id],
  });
  return { id, principal };
}

/** Gives `principalId` the role at `scope`; returns the assignment's id. */
export async function assignRole(
  h: ArmHarness,
  principalId: string,
  role: string,
  scope: string,
): Promise<string> {
  const id = randomUUID();
  await h.store.roles.createAssignment({
    id,
    scope,
    roleDefinitionId: role,
    principalId,
    principalType: 'ServicePrincipal',
    createdAt: Date.now(),
    createdBy: null,
  });
  return id;
}

/** Everything an ARM request may change in the subscription, for before/after comparisons. */
export async function storeSnapshot(h: ArmHarness): Promise<unknown> {
  const resources = await h.store.resources.list({ subscriptionId: h.sub }, { limit: 1000 });
  const attachments = [];
  for (const resource of resources.items) {
    attachments.push(...(await h.store.attachments.listForResource(resource.id)));
  }
  return {
    resources: resources.items,
    attachments,
    principals: (await h.store.principals.list(h.server.tenant.id, { limit: 1000 })).items,
    assignments: (await h.store.roles.listAssignments({}, { limit: 1000 })).items,
  };
}
