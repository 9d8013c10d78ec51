// `tessera identity`: user-assigned managed identities through ARM, with `az identity`'s names, flags and output.
import type { Command } from 'commander';
import type { ArmClient, ArmObject } from '../client/arm.js';
import {
  AZ_API_VERSIONS,
  flattenProperties,
  groupPath,
  IDENTITY_TYPE,
  identityPath,
  parseArmId,
  parseTags,
  withApiVersion,
} from './arm-ids.js';
import {
  clientFlags,
  type ClientFlagOptions,
  connect,
  print,
  reporting,
  subscriptionOf,
  usage,
} from './client-kit.js';
import { addResourceGroup } from './az-result.js';
import { registerFederatedCredentialCommands } from './federated-credential.js';

/** Options of the `tessera identity` commands. */
export interface IdentityOptions extends ClientFlagOptions {
  readonly resourceGroup?: string;
  readonly name?: string;
  readonly location?: string;
  readonly tags?: string[];
  readonly ids?: string[];
}

/** One identity a command acts on. */
interface IdentityRef {
  readonly subscriptionId: string;
  readonly group: string;
  readonly name: string;
}

/**
 * An identity as `az identity` prints it: `properties` flattened (`clientId`, `principalId`,
 * `tenantId`, `isolationScope`) and `resourceGroup` added.
 */
export const azIdentity = (identity: ArmObject): ArmObject =>
  addResourceGroup(flattenProperties(identity));

const path = (ref: IdentityRef): string =>
  withApiVersion(identityPath(ref.subscriptionId, ref.group, ref.name), AZ_API_VERSIONS.identities);

/**
 * The identities `--ids` names (each must be a user-assigned identity's id, its subscription
 * taken from it), or the one `-g` and `-n` name; usage errors for a mix or for neither.
 */
async function targets(
  arm: ArmClient,
  options: IdentityOptions,
  command: Command,
): Promise<IdentityRef[]> {
  const { ids, resourceGroup: group, name } = options;
  if (ids !== undefined) {
    if (group !== undefined || name !== undefined) {
      return usage(command, 'pass either --ids or -g and -n, not both');
    }
    return ids.map((id) => {
      const parts = parseArmId(id);
      if (
        parts?.resourceGroup === undefined ||
        parts.name === undefined ||
        parts.type?.toLowerCase() !== IDENTITY_TYPE.toLowerCase()
      ) {
        return usage(command, `--ids: '${id}' is not a user-assigned identity's resource id`);
      }
      return { subscriptionId: parts.subscriptionId, group: parts.resourceGroup, name: parts.name };
    });
  }
  if (group === undefined || name === undefined) {
    return usage(command, 'pass --ids ID, or -g GROUP and -n NAME');
  }
  return [{ subscriptionId: await subscriptionOf(arm, options), group, name }];
}

/** Registers `tessera identity`; `addConfigFlags` gives each command the configuration flags. */
export function registerIdentityCommands(
  program: Command,
  addConfigFlags: (command: Command) => Command,
): void {
  const identity = program
    .command('identity')
    .description('user-assigned managed identities (ARM), as `az identity`');
  const flags = clientFlags(addConfigFlags);
  const byIdOrName = (name: string, description: string): Command =>
    identity
      .command(name)
      .description(description)
      .option('-g, --resource-group <group>', 'the resource group')
      .option('-n, --name <name>', "the identity's name")
      .option('--ids <ids...>', 'resource ids, space-separated (instead of -g and -n)');

  flags(
    identity
      .command('create')
      .description(
        'create a user-assigned identity (and its service principal), or update its tags',
      )
      .requiredOption('-g, --resource-group <group>', 'the resource group (it must exist)')
      .requiredOption('-n, --name <name>', "the identity's name")
      .option('-l, --location <location>', "the location (default: the resource group's)")
      .option('--tags <tags...>', 'space-separated tags: key[=value] ("" clears them)'),
    'tessera identity create -g my-rg -n app-identity --query principalId -o tsv',
  ).action((options: IdentityOptions, command: Command) =>
    reporting(async () => {
      const { arm } = await connect(options, command);
      const [ref] = await targets(arm, options, command);
      if (ref === undefined) return;
      // As `az`: the identity goes where its group is unless told otherwise.
      const location =
        options.location ??
        (
          await arm.request(
            'GET',
            withApiVersion(
              groupPath(ref.subscriptionId, ref.group),
              AZ_API_VERSIONS.resourceGroups,
            ),
          )
        ).body.location;
      const tags = parseTags(options.tags);
      const body = { location, ...(tags === undefined ? {} : { tags }) };
      print(azIdentity((await arm.request('PUT', path(ref), body)).body), options);
    }),
  );

  flags(
    byIdOrName('show', 'show an identity (one per --ids: a list for several)'),
    'tessera identity show -g my-rg -n app-identity',
    'tessera identity show --ids /subscriptions/…/resourceGroups/my-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app-identity',
  ).action((options: IdentityOptions, command: Command) =>
    reporting(async () => {
      const { arm } = await connect(options, command);
      const refs = await targets(arm, options, command);
      const found = await Promise.all(
        refs.map(async (ref) => azIdentity((await arm.request('GET', path(ref))).body)),
      );
      print(found.length === 1 ? found[0] : found, options);
    }),
  );

  flags(
    identity
      .command('list')
      .description('list the identities of a resource group, or of the whole subscription')
      .option('-g, --resource-group <group>', 'only this resource group'),
    'tessera identity list -g my-rg -o table',
  ).action((options: IdentityOptions, command: Command) =>
    reporting(async () => {
      const { arm } = await connect(options, command);
      const sub = await subscriptionOf(arm, options);
      const collection =
        options.resourceGroup === undefined
          ? `/subscriptions/${encodeURIComponent(sub)}/providers/${IDENTITY_TYPE}`
          : identityPath(sub, options.resourceGroup);
      const found = await arm.list(withApiVersion(collection, AZ_API_VERSIONS.identities));
      print(found.map(azIdentity), options);
    }),
  );

  flags(
    byIdOrName('delete', 'delete identities and their service principals (none there is no error)'),
    'tessera identity delete -g my-rg -n app-identity',
  ).action((options: IdentityOptions, command: Command) =>
    reporting(async () => {
      const { arm } = await connect(options, command);
      const refs = await targets(arm, options, command);
      for (const ref of refs) await arm.request('DELETE', path(ref));
    }),
  );

  registerFederatedCredentialCommands(identity, flags);
}
