// Everything of a subscription the pages show, loaded in parallel, and lookups across it.
import {
  type Machine,
  machines,
  type ResourceGroup,
  resourceGroups,
  type RoleAssignment,
  roleAssignments,
  type RoleDefinition,
  roleDefinitions,
  type UserIdentity,
  userIdentities,
} from '../api/arm.js';
import type { Http } from '../api/http.js';
import { type Host, hosts } from '../api/tessera.js';

export interface Inventory {
  readonly groups: ResourceGroup[];
  readonly identities: UserIdentity[];
  readonly machines: Machine[];
  readonly roles: RoleDefinition[];
  readonly assignments: RoleAssignment[];
  readonly hosts: Host[];
  /** Set when the hosts could not be read (the caller may lack the right). */
  readonly hostsError?: unknown;
}

/** Loads a subscription's inventory. */
export async function loadInventory(http: Http, subscriptionId: string): Promise<Inventory> {
  const scope = `/subscriptions/${encodeURIComponent(subscriptionId)}`;
  const [groups, identities, found, roles, assignments, hostList] = await Promise.all([
    resourceGroups(http, subscriptionId),
    userIdentities(http, subscriptionId),
    machines(http, subscriptionId),
    roleDefinitions(http, subscriptionId),
    roleAssignments(http, scope),
    hosts(http).then(
      (value) => ({ value }),
      (error: unknown) => ({ value: [] as Host[], error }),
    ),
  ]);
  return {
    groups,
    identities,
    machines: found,
    roles,
    assignments,
    hosts: hostList.value,
    ...('error' in hostList ? { hostsError: hostList.error } : {}),
  };
}

/** A principal's name where the inventory knows it: an identity, or a machine's system identity. */
export function principalName(
  inventory: Inventory,
  principalId: string,
  selfId?: string,
): string | undefined {
  if (principalId === selfId) return 'you (signed in)';
  const user = inventory.identities.find((i) => i.properties.principalId === principalId);
  if (user !== undefined) return user.name;
  const machine = inventory.machines.find((m) => m.identity?.principalId === principalId);
  return machine === undefined ? undefined : `${machine.name} (system-assigned)`;
}

/** A role's name from its definition id (the last segment is the role's GUID). */
export function roleName(inventory: Inventory, roleDefinitionId: string): string {
  const guid = roleDefinitionId.split('/').pop()?.toLowerCase();
  return (
    inventory.roles.find((r) => r.name.toLowerCase() === guid)?.properties.roleName ?? guid ?? ''
  );
}

/**
 * How a VM's `properties.tessera.hostId` is shown: the host's name; the id itself when the hosts
 * could not be read; and `{id} (no such host)` when no host has that id: a VM whose host was
 * deleted since (ARM refuses a new placement on a host that does not exist, but such a VM keeps
 * its `hostId`), or one stored before that check. Names are unique and hold no spaces, so no
 * label of one host can be another's.
 */
export function hostLabel(inventory: Inventory, hostId: string): string {
  const host = inventory.hosts.find((h) => h.id === hostId);
  if (host !== undefined) return host.name;
  return inventory.hostsError === undefined ? `${hostId} (no such host)` : hostId;
}

/** {@link hostLabel} for each of `hostIds`, the id added to any label two hosts would share. */
export function hostLabels(inventory: Inventory, hostIds: readonly string[]): Map<string, string> {
  const labels = new Map(hostIds.map((id) => [id, hostLabel(inventory, id)]));
  const seen = new Map<string, number>();
  for (const label of labels.values()) seen.set(label, (seen.get(label) ?? 0) + 1);
  for (const [id, label] of labels) {
    if ((seen.get(label) ?? 0) > 1) labels.set(id, `${label} (id ${id})`);
  }
  return labels;
}

/** A short readable form of a scope: `subscription`, `demo-rg`, `demo-rg/demo-vm`. */
export function scopeLabel(scope: string): string {
  if (scope === '/' || scope === '') return 'root (/)';
  const parts = scope.split('/').filter(Boolean);
  if (parts.length <= 2) return 'subscription';
  const group = parts[3] ?? '';
  if (parts.length <= 4) return `${group} (resource group)`;
  return `${group}/${parts.slice(-1)[0] ?? ''}`;
}
