// `tessera vm`: virtual machines through ARM, with the operator's token, shaped like `az vm`.
import type { Command } from 'commander';
import type { ArmObject } from '../client/arm.js';
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
  listCompute,
  parseIdentities,
  registerIdentityCommands,
  resourcePath,
  showCompute,
  type TargetOptions,
  targetsOf,
} from './vm-identity.js';
import { confirmed, printResult } from './az-result.js';

/** The ARM type of a VM. */
export const VM_TYPE = 'Microsoft.Compute/virtualMachines';

/** `az vm list`'s and `az vm show`'s table columns. */
const VM_COLUMNS = '{Name:name, ResourceGroup:resourceGroup, Location:location}';

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

async function runVmCreate(options: VmCreateOptions, command: Command): Promise<void> {
  const { arm } = await connect(options, command);
  const sub = await subscriptionOf(arm, options);
  const group = options.resourceGroup;
  // As `az`: the VM goes where its group is unless told otherwise.
  const location = options.location ?? String((await arm.getResourceGroup(sub, group)).location);
  const identity =
    options.assignIdentity === undefined
      ? undefined
      : identityBody(parseIdentities(options.assignIdentity, sub, group));
  const path = `${resourcePath(sub, group, VM_TYPE, options.name)}?api-version=${COMPUTE_API}`;
  const { body } = await arm.request('PUT', path, vmBody(location, options, identity));
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
        .option('--host <hostId>', "the agent host the VM runs on (Tessera's properties.tessera)")
        .option(
          '--private-ip <ips...>',
          "the VM's private addresses on that host, as its agent sees callers (IPv4 or IPv6)",
        ),
    ),
    'tessera vm create -g demo-rg -n web --assign-identity [system] app-identity --host host-1 --private-ip 10.0.0.4',
  ).action((options: VmCreateOptions, command: Command) =>
    reporting(() => runVmCreate(options, command)),
  );

  withExample(
    named(vm.command('show').description('show a VM')),
    'tessera vm show -g demo-rg -n web --query identity.principalId -o tsv',
  ).action((options: TargetOptions, command: Command) =>
    reporting(() => showCompute(options, command, VM_TYPE, VM_COLUMNS)),
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
    reporting(() => listCompute(options, command, VM_TYPE, VM_COLUMNS)),
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
