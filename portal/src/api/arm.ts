// Typed ARM calls the portal makes: subscriptions, groups, identities and their federated credentials, machines, roles, permissions.
import type { Http } from './http.js';
import type { PermissionBlock } from './permissions.js';

export const API = {
  subscriptions: '2022-12-01',
  groups: '2021-04-01',
  identities: '2023-01-31',
  compute: '2024-07-01',
  authorization: '2022-04-01',
} as const;

const UAI = 'Microsoft.ManagedIdentity/userAssignedIdentities';
const VM = 'Microsoft.Compute/virtualMachines';
const VMSS = 'Microsoft.Compute/virtualMachineScaleSets';

export interface Subscription {
  readonly subscriptionId: string;
  readonly displayName: string;
}
export interface ResourceGroup {
  readonly id: string;
  readonly name: string;
  readonly location: string;
}
export interface UserIdentity {
  readonly id: string;
  readonly name: string;
  readonly location: string;
  readonly properties: { readonly principalId: string; readonly clientId: string };
}
/** Who may exchange a token from `issuer` about `subject` for a user-assigned identity's. */
export interface FederatedCredential {
  readonly id: string;
  readonly name: string;
  readonly properties: {
    readonly issuer: string;
    readonly subject: string;
    readonly audiences: readonly string[];
  };
}
/** A VM's or scale set's `identity`, as ARM returns it. */
export interface ArmIdentity {
  readonly type?: string;
  readonly principalId?: string;
  readonly userAssignedIdentities?: Record<string, { principalId?: string; clientId?: string }>;
}
export interface Extension {
  readonly id?: string;
  readonly name: string;
  readonly properties?: { readonly publisher?: string; readonly type?: string };
}
/** A VM or a scale set (`kind` says which), with what the portal shows of it. */
export interface Machine {
  readonly kind: 'vm' | 'vmss';
  readonly id: string;
  readonly name: string;
  readonly identity?: ArmIdentity;
  readonly properties?: {
    readonly vmId?: string;
    readonly tessera?: { readonly hostId?: string };
    readonly virtualMachineProfile?: { readonly extensionProfile?: { extensions?: Extension[] } };
  };
}
export interface RoleDefinition {
  readonly id: string;
  readonly name: string;
  readonly properties: { readonly roleName: string };
}
export interface RoleAssignment {
  readonly id: string;
  readonly name: string;
  readonly properties: {
    readonly roleDefinitionId: string;
    readonly principalId: string;
    readonly scope: string;
  };
}

const q = (path: string, version: string): string =>
  `${path}${path.includes('?') ? '&' : '?'}api-version=${version}`;

/** Every page of a list, following `nextLink` by its path and query (same-origin). */
export async function list<T>(http: Http, path: string): Promise<T[]> {
  const out: T[] = [];
  let next: string | undefined = path;
  while (next !== undefined) {
    const page = (await http.send('GET', next)) as { value?: T[]; nextLink?: string };
    out.push(...(page.value ?? []));
    // nextLink is absolute; keep the call same-origin by taking its path and query.
    const link = page.nextLink === undefined ? undefined : new URL(page.nextLink);
    next = link === undefined ? undefined : `${link.pathname}${link.search}`;
  }
  return out;
}

/** The resource group of a resource id (`/subscriptions/s/resourceGroups/g/...`). */
export function groupOf(id: string): string {
  return /\/resourceGroups\/([^/]+)/i.exec(id)?.[1] ?? '';
}
/** The last segment of a resource id: its name. */
export const nameOf = (id: string): string => id.split('/').filter(Boolean).pop() ?? id;

/** `suffix` under `scope`, the root `/` included (`/providers/...`, not `//providers/...`). */
const under = (scope: string, suffix: string): string => `${scope.replace(/\/+$/, '')}${suffix}`;

const sub = (s: string): string => `/subscriptions/${encodeURIComponent(s)}`;

export const subscriptions = (http: Http): Promise<Subscription[]> =>
  list(http, q('/subscriptions', API.subscriptions));
export const resourceGroups = (http: Http, s: string): Promise<ResourceGroup[]> =>
  list(http, q(`${sub(s)}/resourcegroups`, API.groups));
export const userIdentities = (http: Http, s: string): Promise<UserIdentity[]> =>
  list(http, q(`${sub(s)}/providers/${UAI}`, API.identities));
/** A user-assigned identity's federated credentials (`{identityId}/federatedIdentityCredentials`). */
export const federatedCredentials = (http: Http, id: string): Promise<FederatedCredential[]> =>
  list(http, q(`${id}/federatedIdentityCredentials`, API.identities));

/** The VMs and scale sets of a subscription. */
export async function machines(http: Http, s: string): Promise<Machine[]> {
  const [vms, sets] = await Promise.all([
    list<Omit<Machine, 'kind'>>(http, q(`${sub(s)}/providers/${VM}`, API.compute)),
    list<Omit<Machine, 'kind'>>(http, q(`${sub(s)}/providers/${VMSS}`, API.compute)),
  ]);
  return [
    ...vms.map((m) => ({ ...m, kind: 'vm' as const })),
    ...sets.map((m) => ({ ...m, kind: 'vmss' as const })),
  ];
}

/** A VM's extensions; a scale set's come with its model. */
export async function extensionsOf(http: Http, machine: Machine): Promise<Extension[]> {
  if (machine.kind === 'vmss') {
    return machine.properties?.virtualMachineProfile?.extensionProfile?.extensions ?? [];
  }
  return list(http, q(`${machine.id}/extensions`, API.compute));
}

/** The host ids of a scale set's instances. */
export async function instanceHosts(http: Http, vmssId: string): Promise<string[]> {
  const instances = await list<Machine>(http, q(`${vmssId}/virtualMachines`, API.compute));
  return instances.flatMap((i) => {
    const host = i.properties?.tessera?.hostId;
    return host === undefined ? [] : [host];
  });
}

export const createIdentity = (http: Http, id: string, location: string): Promise<unknown> =>
  http.send('PUT', q(id, API.identities), { location });
export const deleteIdentity = (http: Http, id: string): Promise<unknown> =>
  http.send('DELETE', q(id, API.identities));

/** Sends an identity PATCH (see identity-patch.ts) to a VM or scale set. */
export const patchMachine = (http: Http, id: string, body: unknown): Promise<unknown> =>
  http.send('PATCH', q(id, API.compute), body);
export const getMachine = async (http: Http, machine: Machine): Promise<Machine> => ({
  ...((await http.send('GET', q(machine.id, API.compute))) as Omit<Machine, 'kind'>),
  kind: machine.kind,
});

export const roleDefinitions = (http: Http, s: string): Promise<RoleDefinition[]> =>
  list(http, q(`${sub(s)}/providers/Microsoft.Authorization/roleDefinitions`, API.authorization));
/** Assignments at, above and below `scope`. */
export const roleAssignments = (http: Http, scope: string): Promise<RoleAssignment[]> =>
  list(
    http,
    q(under(scope, '/providers/Microsoft.Authorization/roleAssignments'), API.authorization),
  );

/** Grants `roleDefinitionId` to `principalId` at `scope` under a new assignment id. */
export const grantRole = (
  http: Http,
  scope: string,
  roleDefinitionId: string,
  principalId: string,
): Promise<unknown> =>
  http.send(
    'PUT',
    q(
      under(scope, `/providers/Microsoft.Authorization/roleAssignments/${crypto.randomUUID()}`),
      API.authorization,
    ),
    { properties: { roleDefinitionId, principalId, principalType: 'ServicePrincipal' } },
  );
export const revokeRole = (http: Http, assignmentId: string): Promise<unknown> =>
  http.send('DELETE', q(assignmentId, API.authorization));

/** The caller's permissions at `scope`. */
export const permissionsAt = (http: Http, scope: string): Promise<PermissionBlock[]> =>
  list(http, q(under(scope, '/providers/Microsoft.Authorization/permissions'), API.authorization));

/** The id of a user-assigned identity named `name` in `group`. */
export const identityId = (s: string, group: string, name: string): string =>
  `${sub(s)}/resourceGroups/${encodeURIComponent(group)}/providers/${UAI}/${encodeURIComponent(name)}`;
