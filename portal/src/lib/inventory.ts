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

/** The host's name for `hostId`, or the id when unknown. */
export function hostName(inventory: Inventory, hostId: string | undefined): string {
  if (hostId === undefined) return '';
  return inventory.hosts.find((h) => h.id === hostId)?.name ?? hostId;
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
