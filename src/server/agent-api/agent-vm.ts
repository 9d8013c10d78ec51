// AgentVm records: a VM or scale-set instance resource as the agent on its host needs it (placement, profile, identities).
import {
  type CurrentIdentity,
  currentIdentityOf,
  readIdentity,
  scaleSetState,
} from '../../core/compute/index.js';
import type { IdentityAttachment, Resource } from '../../core/model.js';
import { isRecord } from '../../core/guards.js';
import type { Store } from '../../core/ports.js';
import {
  hostOf,
  privateAddressesOf,
  SCALE_SET_INSTANCE_TYPE,
  SCALE_SET_RESOURCE_TYPE,
  VM_RESOURCE_TYPE,
} from '../../core/resources/change-feed.js';
import {
  allVmLegacyPorts,
  legacyShimPort,
  scaleSetLegacyPort,
} from '../../core/resources/legacy-shim.js';
import type { AgentIdentity, AgentVm } from '../../wire/agent-api.js';

/** What kind of compute resource `resource` is for the agent, or undefined for any other type. */
export function computeKind(resource: Resource): AgentVm['kind'] | undefined {
  const type = resource.type.toLowerCase();
  if (type === VM_RESOURCE_TYPE.toLowerCase()) return 'vm';
  if (type === SCALE_SET_INSTANCE_TYPE.toLowerCase()) return 'scaleSetInstance';
  return undefined;
}

/** Whether `resource` is a VM or scale-set instance placed on host `hostId`. */
export function isPlacedOn(resource: Resource | undefined, hostId: string): boolean {
  return (
    resource !== undefined && computeKind(resource) !== undefined && hostOf(resource) === hostId
  );
}

/** The id of the scale set an instance (`{scaleSetId}/virtualMachines/{n}`) belongs to. */
export function scaleSetIdOf(instanceId: string): string {
  return instanceId.split('/').slice(0, -2).join('/');
}

/**
 * The resource whose identities a VM or instance has: the VM itself, or the instance's scale set
 * (a scale set's identities are its instances').
 */
export function identityHolderOf(resource: Resource): string {
  return computeKind(resource) === 'scaleSetInstance' ? scaleSetIdOf(resource.id) : resource.id;
}

/**
 * The identities attached to compute resource `holderId` (a VM or a scale set), system-assigned
 * first, then user-assigned in attachment order. `resourceId` is the identity's ARM id: `holderId`
 * for the system-assigned one, the user-assigned identity's id as attached otherwise.
 */
export async function readAgentIdentities(
  store: Store,
  holderId: string,
): Promise<AgentIdentity[]> {
  return agentIdentitiesOf(holderId, await readIdentity(store, holderId));
}

/** {@link readAgentIdentities} from an identity already read. */
function agentIdentitiesOf(holderId: string, current: CurrentIdentity): AgentIdentity[] {
  const identities: AgentIdentity[] = [];
  if (current.system !== undefined) {
    identities.push({
      kind: 'SystemAssigned',
      principalId: current.system.objectId,
      clientId: current.system.appId,
      tenantId: current.system.tenantId,
      resourceId: holderId,
    });
  }
  for (const { id, principal } of current.userAssigned.values()) {
    identities.push({
      kind: 'UserAssigned',
      principalId: principal.objectId,
      clientId: principal.appId,
      tenantId: principal.tenantId,
      resourceId: id,
    });
  }
  return identities;
}

/** The scale sets' facts an answer needs, each read once per answer. */
function scaleSetFactsCache(store: Store): (scaleSetId: string) => Promise<ScaleSetFacts> {
  const scaleSets = new Map<string, Promise<ScaleSetFacts>>();
  return (scaleSetId) => {
    const key = scaleSetId.toLowerCase();
    let facts = scaleSets.get(key);
    if (facts === undefined) {
      facts = readScaleSetFacts(store, scaleSetId);
      scaleSets.set(key, facts);
    }
    return facts;
  };
}

/**
 * Builds {@link AgentVm} records for one answer. Reads done for one VM that others share (a scale
 * set and its identities) are made once per reader, so build one reader per answer.
 */
export function createAgentVmReader(store: Store): (resource: Resource) => Promise<AgentVm> {
  const factsOf = scaleSetFactsCache(store);
  return async (resource) => {
    if (computeKind(resource) === 'scaleSetInstance') {
      return agentVmOf(resource, [], await factsOf(scaleSetIdOf(resource.id)), undefined);
    }
    const identities = await readAgentIdentities(store, resource.id);
    return agentVmOf(resource, identities, undefined, await legacyShimPort(store, resource.id));
  };
}

/** VMs whose attachments and principals are read together by {@link readAgentVmsInBulk}. */
const BULK_PAGE = 500;

/**
 * The records of every VM and instance in `resources`, in order, read in bulk for a full sync:
 * per page of VMs one read of their attachments and one of those identities' principals; one
 * scan of the VM extensions for legacy ports; each scale set once. Thousands of VMs take a few
 * dozen statements instead of several per VM (a round trip each on PostgreSQL).
 */
export async function readAgentVmsInBulk(
  store: Store,
  resources: readonly Resource[],
): Promise<AgentVm[]> {
  const factsOf = scaleSetFactsCache(store);
  const ports = await allVmLegacyPorts(store);
  const out: AgentVm[] = [];
  for (let i = 0; i < resources.length; i += BULK_PAGE) {
    const page = resources.slice(i, i + BULK_PAGE);
    const vmIds = page.filter((r) => computeKind(r) === 'vm').map((r) => r.id);
    const attachments = await store.attachments.listForResources(vmIds);
    const principals = new Map(
      (await store.principals.getMany(attachments.map((a) => a.principalId))).map((p) => [
        p.objectId,
        p,
      ]),
    );
    const byVm = new Map<string, IdentityAttachment[]>();
    for (const attachment of attachments) {
      const key = attachment.resourceId.toLowerCase();
      byVm.set(key, [...(byVm.get(key) ?? []), attachment]);
    }
    for (const resource of page) {
      if (computeKind(resource) === 'scaleSetInstance') {
        out.push(agentVmOf(resource, [], await factsOf(scaleSetIdOf(resource.id)), undefined));
        continue;
      }
      const key = resource.id.toLowerCase();
      const current = currentIdentityOf(byVm.get(key) ?? [], principals);
      out.push(
        agentVmOf(resource, agentIdentitiesOf(resource.id, current), undefined, ports.get(key)),
      );
    }
  }
  return out;
}

/**
 * One record: a VM's own identities and legacy port, or, for an instance (`scaleSet` given),
 * its scale set's.
 */
function agentVmOf(
  resource: Resource,
  ownIdentities: AgentIdentity[],
  scaleSet: ScaleSetFacts | undefined,
  ownPort: number | undefined,
): AgentVm {
  const { properties } = resource;
  const port = scaleSet === undefined ? ownPort : scaleSet.legacyPort;
  return {
    id: resource.id,
    vmId: stringAt(properties, ['vmId']),
    kind: scaleSet === undefined ? 'vm' : 'scaleSetInstance',
    name: resource.name,
    subscriptionId: resource.subscriptionId,
    resourceGroup: resource.resourceGroup ?? '',
    location: resource.location ?? '',
    tags: { ...resource.tags },
    scaleSetName: scaleSet?.name ?? '',
    // An instance placed without a profile of its own shows its scale set's.
    vmSize: stringAt(properties, ['hardwareProfile', 'vmSize']) || (scaleSet?.vmSize ?? ''),
    osType:
      stringAt(properties, ['storageProfile', 'osDisk', 'osType']) || (scaleSet?.osType ?? ''),
    addresses: privateAddressesOf(resource),
    identities: scaleSet?.identities ?? ownIdentities,
    ...(port === undefined ? {} : { legacyShimPort: port }),
  };
}

/** What an instance takes from its scale set. */
interface ScaleSetFacts {
  readonly name: string;
  readonly vmSize: string;
  readonly osType: string;
  readonly identities: AgentIdentity[];
  /** The legacy extension port its profile gives its instances. */
  readonly legacyPort: number | undefined;
}

async function readScaleSetFacts(store: Store, scaleSetId: string): Promise<ScaleSetFacts> {
  const scaleSet = await store.resources.get(scaleSetId);
  const found =
    scaleSet?.type.toLowerCase() === SCALE_SET_RESOURCE_TYPE.toLowerCase() ? scaleSet : undefined;
  const properties = found?.properties ?? {};
  return {
    name: found?.name ?? scaleSetId.split('/').at(-1) ?? '',
    // A scale set's sku name is its instances' size.
    vmSize: found === undefined ? '' : (scaleSetState(found).sku.name ?? ''),
    osType: stringAt(properties, ['virtualMachineProfile', 'storageProfile', 'osDisk', 'osType']),
    identities: await readAgentIdentities(store, found?.id ?? scaleSetId),
    legacyPort: found === undefined ? undefined : scaleSetLegacyPort(found),
  };
}

/** The string at `path` under `value`, or '' when any step is missing or of another type. */
function stringAt(value: unknown, path: readonly string[]): string {
  let current = value;
  for (const name of path) {
    if (!isRecord(current)) return '';
    current = current[name];
  }
  return typeof current === 'string' ? current : '';
}
