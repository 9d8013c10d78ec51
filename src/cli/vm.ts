// `tessera vm`: virtual machines through ARM, with the operator's token, shaped like `az vm`.
import type { Command } from 'commander';
import type { ArmClient, ArmObject } from '../client/arm.js';
import { ClientError } from '../client/errors.js';
import { createHostClient } from '../client/hosts.js';
import { RESOURCE_TYPES } from '../core/resource-types.js';
import {
  clientFlags,
  type ClientFlagOptions,
  connect,
  reporting,
  subscriptionOf,
  withExample,
} from './client-kit.js';
import { registerVmExtensionCommands } from './vm-extension.js';
import {
  COMPUTE_API,
  identityBody,
  identityInfo,
  listScope,
  parseIdentities,
  registerIdentityCommands,
  resourcePath,
  type TargetOptions,
  targetsOf,
} from './vm-identity.js';
import { confirmed, printResult } from './az-result.js';

/** The ARM type of a VM. */
export const VM_TYPE = RESOURCE_TYPES.virtualMachines;

/**
 * `az vm list`'s and `az vm show`'s table columns, and the host the VM is placed on: its name
 * (see {@link withHostNames}), or, when the caller may not read hosts, the id the VM names.
 */
const vmColumns = (namesKnown: boolean): string =>
  `{Name:name, ResourceGroup:resourceGroup, Location:location, Host:${namesKnown ? 'hostName' : 'properties.tessera.hostId'} || '${NOT_PLACED}'}`;

/** What the table shows for a VM on no host: none named, or one that no longer exists. */
const NOT_PLACED = 'not placed';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Options of `tessera vm create`. */
export interface VmCreateOptions extends ClientFlagOptions {
  readonly resourceGroup: string;
  readonly name: string;
  readonly location?: string;
  /** `true` when given without values. */
  readonly assignIdentity?: boolean | readonly string[];
  readonly host?: string;
  readonly privateIp?: readonly string[];
}

/**
 * The body of a VM `PUT`: the location, Tessera's placement (`properties.tessera`: `hostId` and
 * `privateIpAddresses`, how the agent on that host recognises the VM) and the identities.
 */
export function vmBody(
  location: string,
  options: Pick<VmCreateOptions, 'host' | 'privateIp'>,
  identity: ArmObject | undefined,
): ArmObject {
  const tessera = {
    ...(options.host === undefined ? {} : { hostId: options.host }),
    ...(options.privateIp === undefined ? {} : { privateIpAddresses: [...options.privateIp] }),
  };
  return {
    location,
    properties: Object.keys(tessera).length === 0 ? {} : { tessera },
    ...(identity === undefined ? {} : { identity }),
  };
}

/**
 * What `az vm create` prints for a VM: its id, group and location, its identities when some were
 * assigned (`systemAssignedIdentity`, `userAssignedIdentities`) and its addresses. Tessera has no
 * public addresses, DNS names or zones: those are empty, as az prints them for a VM without.
 */
export function createSummary(vm: ArmObject, assigned: boolean): ArmObject {
  const properties = (vm.properties ?? {}) as { tessera?: { privateIpAddresses?: string[] } };
  return {
    fqdns: '',
    id: vm.id,
    ...(assigned ? { identity: identityInfo(vm.identity) } : {}),
    location: vm.location,
    privateIpAddress: (properties.tessera?.privateIpAddresses ?? []).join(','),
    publicIpAddress: '',
    zones: '',
  };
}

/**
 * The id of the host `given` names (a host's name or id), asked of the server. An unknown host is
 * `HostNotFound`; a caller who may not read hosts (403) can still give an id, used as is.
 */
export async function hostIdOf(arm: Pick<ArmClient, 'request'>, given: string): Promise<string> {
  try {
    return (await createHostClient(arm).get(given)).id;
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    if (error.status === 403 && GUID.test(given)) return given;
    if (error.code !== 'HostNotFound') throw error;
    throw new ClientError(
      'HostNotFound',
      `no host is named '${given}' or has that id: \`tessera host list\` shows the hosts, \`tessera host create -n NAME\` makes one`,
      { status: 404, cause: error },
    );
  }
}

/**
 * The names of the hosts by id, or undefined when the caller may not read hosts (403: the role
 * lacks `Tessera.Agent/hosts/read` at `/`).
 */
async function hostNames(
  arm: Pick<ArmClient, 'request'>,
): Promise<Map<string, string> | undefined> {
  try {
    return new Map((await createHostClient(arm).list()).map((host) => [host.id, host.name]));
  } catch (error) {
    if (error instanceof ClientError && error.status === 403) return undefined;
    throw error;
  }
}

/**
 * `vm` with `hostName` added (Tessera's, as `az` adds `resourceGroup`): the name of the host its
 * `properties.tessera.hostId` names, or null when it is not placed (no host id, or the host was
 * deleted). Unchanged when `names` is undefined (the caller may not read hosts).
 */
export function withHostNames(
  vm: ArmObject,
  names: ReadonlyMap<string, string> | undefined,
): ArmObject {
  if (names === undefined) return vm;
  const properties = (vm.properties ?? {}) as { tessera?: { hostId?: unknown } };
  const hostId = properties.tessera?.hostId;
  const name = typeof hostId === 'string' ? names.get(hostId) : undefined;
  return { ...vm, hostName: name ?? null };
}

/** `vm show`: each VM the flags name (one object or a list), with its host's name. */
async function runVmShow(options: TargetOptions, command: Command): Promise<void> {
  const { arm } = await connect(options, command);
  const targets = await targetsOf(arm, options, command, VM_TYPE);
  const [names, ...found] = await Promise.all([
    hostNames(arm),
    ...targets.map(
      async (t) => (await arm.request('GET', `${t.path}?api-version=${COMPUTE_API}`)).body,
    ),
  ]);
  const vms = found.map((vm) => withHostNames(vm, names));
  const [only] = vms;
  printResult(vms.length === 1 ? only : vms, options, vmColumns(names !== undefined));
}

/** `vm list`: the VMs of `-g`, or of the whole subscription, with their hosts' names. */
async function runVmList(
  options: ClientFlagOptions & { readonly resourceGroup?: string },
  command: Command,
): Promise<void> {
  const { arm } = await connect(options, command);
  const scope = await listScope(arm, options);
  const [names, found] = await Promise.all([
    hostNames(arm),
    arm.list(`${scope}/providers/${VM_TYPE}?api-version=${COMPUTE_API}`),
  ]);
  const vms = found.map((vm) => withHostNames(vm, names));
  printResult(vms, options, `[].${vmColumns(names !== undefined)}`);
}

async function runVmCreate(options: VmCreateOptions, command: Command): Promise<void> {
  const { arm } = await connect(options, command);
  const host = options.host === undefined ? undefined : await hostIdOf(arm, options.host);
  const sub = await subscriptionOf(arm, options);
  const group = options.resourceGroup;
  // As `az`: the VM goes where its group is unless told otherwise.
  const location = options.location ?? String((await arm.getResourceGroup(sub, group)).location);
  const identity =
    options.assignIdentity === undefined
      ? undefined
      : identityBody(parseIdentities(options.assignIdentity, sub, group));
  const path = `${resourcePath(sub, group, VM_TYPE, options.name)}?api-version=${COMPUTE_API}`;
  const placement = { ...options, ...(host === undefined ? {} : { host }) };
  const { body } = await arm.request('PUT', path, vmBody(location, placement, identity));
  printResult(createSummary(body, identity !== undefined), options);
}

/** Options of `tessera vm delete`. */
interface VmDeleteOptions extends TargetOptions {
  readonly yes?: boolean;
}

/** Adds `tessera vm` and its subcommands; `addConfigFlags` gives each the configuration flags. */
export function registerVmCommands(
  program: Command,
  addConfigFlags: (command: Command) => Command,
): void {
  const vm = program
    .command('vm')
    .description(
      "virtual machines, their identities and extensions, with the operator's token (like `az vm`)",
    );
  const flags = clientFlags(addConfigFlags);
  const named = (command: Command): Command =>
    flags(
      command
        .option('-g, --resource-group <group>', 'the resource group')
        .option('-n, --name <name>', "the VM's name")
        .option('--ids <ids...>', 'resource ids of VMs (instead of --resource-group and --name)'),
    );

  withExample(
    flags(
      vm
        .command('create')
        .description('create (or update) a VM and place it on an agent host')
        .requiredOption('-g, --resource-group <group>', 'the resource group (it must exist)')
        .requiredOption('-n, --name <name>', "the VM's name")
        .option('-l, --location <location>', "the location (default: the resource group's)")
        .option(
          '--assign-identity [ids...]',
          "enable managed identities: none given or '[system]' for system-assigned, others are user-assigned (names in the group or resource ids)",
        )
        .option(
          '--host <nameOrId>',
          "the agent host the VM runs on, by name or id (Tessera's properties.tessera.hostId; without it the VM is not placed and gets no tokens)",
        )
        .option(
          '--private-ip <ips...>',
          "the VM's private addresses on that host, as its agent sees callers (IPv4 or IPv6)",
        ),
    ),
    'tessera vm create -g demo-rg -n web --assign-identity [system] demo-identity --host local --private-ip 10.0.0.4',
  ).action((options: VmCreateOptions, command: Command) =>
    reporting(() => runVmCreate(options, command)),
  );

  withExample(
    named(vm.command('show').description('show a VM')),
    'tessera vm show -g demo-rg -n web --query identity.principalId -o tsv',
  ).action((options: TargetOptions, command: Command) =>
    reporting(() => runVmShow(options, command)),
  );

  withExample(
    flags(
      vm
        .command('list')
        .description('list the VMs of a resource group, or of the subscription')
        .option('-g, --resource-group <group>', 'the resource group (default: all)'),
    ),
    'tessera vm list -g demo-rg -o table',
  ).action((options: ClientFlagOptions & { resourceGroup?: string }, command: Command) =>
    reporting(() => runVmList(options, command)),
  );

  withExample(
    named(
      vm
        .command('delete')
        .description('delete a VM (its system-assigned identity goes with it)')
        .option('-y, --yes', 'do not ask for confirmation'),
    ),
    'tessera vm delete -g demo-rg -n web --yes',
  ).action((options: VmDeleteOptions, command: Command) =>
    reporting(async () => {
      const { arm } = await connect(options, command);
      const targets = await targetsOf(arm, options, command, VM_TYPE);
      if (!(await confirmed(options.yes, command))) return;
      for (const target of targets) {
        await arm.request('DELETE', `${target.path}?api-version=${COMPUTE_API}`);
      }
    }),
  );

  registerIdentityCommands(vm, flags, VM_TYPE, { command: 'vm', text: 'VM' });
  registerVmExtensionCommands(vm, flags);
}
