// `tessera vmss`: virtual machine scale sets through ARM, with the operator's token, shaped like `az vmss`.
import { type Command, InvalidArgumentError } from 'commander';
import type { ArmObject } from '../client/arm.js';
import { RESOURCE_TYPES } from '../core/resource-types.js';
import {
  clientFlags,
  type ClientFlagOptions,
  connect,
  reporting,
  subscriptionOf,
  withExample,
} from './client-kit.js';
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
import { printResult } from './az-result.js';

/** The ARM type of a scale set. */
export const VMSS_TYPE = RESOURCE_TYPES.scaleSets;

/** `az vmss list`'s and `az vmss show`'s table columns. */
const VMSS_COLUMNS =
  '{Name:name, ResourceGroup:resourceGroup, Location:location, Capacity:sku.capacity, UpgradePolicy:properties.upgradePolicy.mode}';

/** Options of `tessera vmss create`. */
export interface VmssCreateOptions extends ClientFlagOptions {
  readonly resourceGroup: string;
  readonly name: string;
  readonly location?: string;
  readonly assignIdentity?: boolean | readonly string[];
  readonly instanceCount: number;
  readonly vmSku: string;
}

/** Commander parser for `--instance-count`: an integer from 0. */
function count(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected an integer from 0');
  return Number(value);
}

/**
 * The body of a scale-set `PUT`: location, `sku` (`capacity` is how many instances Tessera
 * makes), az's default upgrade policy and the identities. Instances are placed one by one
 * (their own `properties.tessera`), so the scale set itself has no placement.
 */
export function vmssBody(
  location: string,
  options: Pick<VmssCreateOptions, 'instanceCount' | 'vmSku'>,
  identity: ArmObject | undefined,
): ArmObject {
  return {
    location,
    sku: { name: options.vmSku, tier: 'Standard', capacity: options.instanceCount },
    properties: { upgradePolicy: { mode: 'Manual' } },
    ...(identity === undefined ? {} : { identity }),
  };
}

async function runVmssCreate(options: VmssCreateOptions, command: Command): Promise<void> {
  const { arm } = await connect(options, command);
  const sub = await subscriptionOf(arm, options);
  const group = options.resourceGroup;
  const location = options.location ?? String((await arm.getResourceGroup(sub, group)).location);
  const identity =
    options.assignIdentity === undefined
      ? undefined
      : identityBody(parseIdentities(options.assignIdentity, sub, group));
  const path = `${resourcePath(sub, group, VMSS_TYPE, options.name)}?api-version=${COMPUTE_API}`;
  const { body } = await arm.request('PUT', path, vmssBody(location, options, identity));
  // As `az vmss create`: the scale set's properties under `vmss`, with az's identity summary.
  const properties = (body.properties ?? {}) as ArmObject;
  printResult(
    {
      vmss: {
        ...properties,
        ...(identity === undefined ? {} : { identity: identityInfo(body.identity) }),
      },
    },
    options,
  );
}

/** Adds `tessera vmss` and its subcommands; `addConfigFlags` gives each the configuration flags. */
export function registerVmssCommands(
  program: Command,
  addConfigFlags: (command: Command) => Command,
): void {
  const vmss = program
    .command('vmss')
    .description("virtual machine scale sets and their identities, with the operator's token");
  const flags = clientFlags(addConfigFlags);
  const named = (command: Command): Command =>
    flags(
      command
        .option('-g, --resource-group <group>', 'the resource group')
        .option('-n, --name <name>', "the scale set's name")
        .option('--ids <ids...>', 'resource ids of scale sets (instead of -g and -n)'),
    );

  withExample(
    flags(
      vmss
        .command('create')
        .description('create (or update) a scale set and its instances')
        .requiredOption('-g, --resource-group <group>', 'the resource group (it must exist)')
        .requiredOption('-n, --name <name>', "the scale set's name")
        .option('-l, --location <location>', "the location (default: the resource group's)")
        .option('--instance-count <n>', 'how many instances', count, 2)
        .option('--vm-sku <sku>', "the instances' size (recorded)", 'Standard_DS1_v2')
        .option(
          '--assign-identity [ids...]',
          "enable managed identities: none given or '[system]' for system-assigned, others are user-assigned (names in the group or resource ids)",
        ),
    ),
    'tessera vmss create -g demo-rg -n workers --instance-count 3 --assign-identity [system]',
  ).action((options: VmssCreateOptions, command: Command) =>
    reporting(() => runVmssCreate(options, command)),
  );

  withExample(
    named(vmss.command('show').description('show a scale set')),
    'tessera vmss show -g demo-rg -n workers --query sku.capacity',
  ).action((options: TargetOptions, command: Command) =>
    reporting(() => showCompute(options, command, VMSS_TYPE, VMSS_COLUMNS)),
  );

  withExample(
    flags(
      vmss
        .command('list')
        .description('list the scale sets of a resource group, or of the subscription')
        .option('-g, --resource-group <group>', 'the resource group (default: all)'),
    ),
    'tessera vmss list -g demo-rg -o table',
  ).action((options: ClientFlagOptions & { resourceGroup?: string }, command: Command) =>
    reporting(() => listCompute(options, command, VMSS_TYPE, VMSS_COLUMNS)),
  );

  // As `az vmss delete`: no confirmation.
  withExample(
    named(
      vmss
        .command('delete')
        .description('delete a scale set and its instances (its system-assigned identity too)'),
    ),
    'tessera vmss delete -g demo-rg -n workers',
  ).action((options: TargetOptions, command: Command) =>
    reporting(async () => {
      const { arm } = await connect(options, command);
      for (const target of await targetsOf(arm, options, command, VMSS_TYPE)) {
        await arm.request('DELETE', `${target.path}?api-version=${COMPUTE_API}`);
      }
    }),
  );

  registerIdentityCommands(vmss, flags, VMSS_TYPE, { command: 'vmss', text: 'scale set' });
}
