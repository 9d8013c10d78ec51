// `tessera group`: resource groups through ARM, with `az group`'s names, flags and output.
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Command } from 'commander';
import type { ArmObject } from '../client/arm.js';
import { ClientError } from '../client/errors.js';
import { isRecord } from '../core/guards.js';
import { AZ_API_VERSIONS, groupPath, parseTags, withApiVersion } from './arm-ids.js';
import { confirmed, withTableView } from './az-result.js';
import {
  clientFlags,
  type ClientFlagOptions,
  type Connection,
  connect,
  print,
  reporting,
  subscriptionOf,
  usage,
} from './client-kit.js';
import { call, DEPLOYMENTS_API_VERSION, ok, pollLocation } from './deployment-requests.js';

/** Options of the `tessera group` commands. */
export interface GroupOptions extends ClientFlagOptions {
  readonly name?: string;
  readonly resourceGroup?: string;
  readonly location?: string;
  readonly tags?: string[];
  readonly yes?: boolean;
  readonly includeComments?: boolean;
  readonly includeParameterDefaultValue?: boolean;
  readonly skipResourceNameParams?: boolean;
  readonly skipAllParams?: boolean;
  readonly resourceIds?: string[];
}

/** `az group list -o table`'s columns. */
const GROUP_TABLE = '[].{Name:name, Location:location, Status:properties.provisioningState}';

/** A resource group as `az` prints it: `managedBy` and `tags` always present, null when unset. */
export const azGroup = (group: ArmObject): ArmObject => ({
  id: group.id,
  location: group.location,
  managedBy: group.managedBy ?? null,
  name: group.name,
  properties: group.properties,
  tags: group.tags ?? null,
  type: group.type,
});

/** The group `-n` (or, as `az` allows, `-g`) names; a usage error without either. */
function groupName(options: GroupOptions, command: Command): string {
  const name = options.name ?? options.resourceGroup;
  if (name === undefined) {
    return usage(command, "required option '-n, --name <name>' not specified");
  }
  return name;
}

/** The group's ARM path with its api-version, in the caller's subscription. */
async function groupUrl(
  options: GroupOptions,
  command: Command,
): Promise<{ url: string; conn: Connection }> {
  const name = groupName(options, command);
  const conn = await connect(options, command);
  const sub = await subscriptionOf(conn.arm, options);
  return { url: withApiVersion(groupPath(sub, name), AZ_API_VERSIONS.resourceGroups), conn };
}

/** `--resource-ids` as az sends them: `["*"]` for all (the default), else valid resource ids. */
function exportedResources(ids: readonly string[] | undefined, command: Command): string[] {
  if (ids === undefined || ids.length === 0 || ids[0] === '*') return ['*'];
  for (const id of ids) {
    if (
      !/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/[^/]+\/[^/]+\/[^/]+/i.test(id)
    ) {
      usage(command, `argument --resource-ids: invalid ResourceId value: '${id}'`);
    }
  }
  return [...ids];
}

/** The export flags as ARM's `options` (comma-separated), undefined when none is given, as az. */
function exportOptions(options: GroupOptions): string | undefined {
  const chosen = [
    options.includeComments === true ? 'IncludeComments' : undefined,
    options.includeParameterDefaultValue === true ? 'IncludeParameterDefaultValue' : undefined,
    options.skipResourceNameParams === true ? 'SkipResourceNameParameterization' : undefined,
    options.skipAllParams === true ? 'SkipAllParameterization' : undefined,
  ].filter((option) => option !== undefined);
  return chosen.length === 0 ? undefined : chosen.join(',');
}

/**
 * An export's `error` as az reports it (the template is printed all the same): its message as a
 * warning, each detail's message as an error, on stderr.
 */
function reportExportError(error: unknown): void {
  if (error === undefined || error === null) return;
  const message =
    isRecord(error) && typeof error.message === 'string' ? error.message : JSON.stringify(error);
  process.stderr.write(`WARNING: ${message}\n`);
  const details = isRecord(error) && Array.isArray(error.details) ? error.details : [];
  for (const detail of details) {
    const text =
      isRecord(detail) && typeof detail.message === 'string'
        ? detail.message
        : JSON.stringify(detail);
    process.stderr.write(`ERROR: ${text}\n`);
  }
}

/** Registers `tessera group`; `addConfigFlags` gives each command the configuration flags. */
export function registerGroupCommands(
  program: Command,
  addConfigFlags: (command: Command) => Command,
): void {
  const group = program.command('group').description('resource groups (ARM), as `az group`');
  const flags = clientFlags(addConfigFlags);
  const named = (name: string, description: string): Command =>
    group
      .command(name)
      .description(description)
      .option('-n, --name <name>', "the resource group's name")
      .option('-g, --resource-group <name>', 'the same as --name, as `az` accepts');

  flags(
    named('create', 'create a resource group, or update its tags')
      .requiredOption('-l, --location <location>', 'its location, e.g. westeurope')
      .option('--tags <tags...>', 'space-separated tags: key[=value] ("" clears them)'),
    'tessera group create -n my-rg -l westeurope --tags team=payments env=dev',
  ).action((options: GroupOptions, command: Command) =>
    reporting(async () => {
      const { url, conn } = await groupUrl(options, command);
      const tags = parseTags(options.tags);
      const body = { location: options.location, ...(tags === undefined ? {} : { tags }) };
      print(azGroup((await conn.arm.request('PUT', url, body)).body), options);
    }),
  );

  flags(
    group.command('list').description("list the subscription's resource groups"),
    'tessera group list --query "[?location==\'westeurope\'].name" -o tsv',
  ).action((options: GroupOptions, command: Command) =>
    reporting(async () => {
      const { arm } = await connect(options, command);
      const sub = await subscriptionOf(arm, options);
      const path = `/subscriptions/${encodeURIComponent(sub)}/resourcegroups`;
      const groups = await arm.list(withApiVersion(path, AZ_API_VERSIONS.resourceGroups));
      print(groups.map(azGroup), withTableView(options, GROUP_TABLE));
    }),
  );

  flags(named('show', 'show a resource group'), 'tessera group show -n my-rg').action(
    (options: GroupOptions, command: Command) =>
      reporting(async () => {
        const { url, conn } = await groupUrl(options, command);
        print(azGroup((await conn.arm.request('GET', url)).body), options);
      }),
  );

  flags(
    named('delete', 'delete a resource group and everything in it').option(
      '-y, --yes',
      'do not ask for confirmation (required when stdin is not a terminal)',
    ),
    'tessera group delete -n my-rg --yes',
  ).action((options: GroupOptions, command: Command) =>
    reporting(async () => {
      groupName(options, command);
      if (!(await confirmed(options.yes, command))) {
        throw new ClientError('OperationCancelled', 'Operation cancelled.');
      }
      const { url, conn } = await groupUrl(options, command);
      await conn.arm.request('DELETE', url);
    }),
  );

  flags(
    named('export', 'capture the resource group as a template')
      .option('--include-comments', 'export the template with comments')
      .option('--include-parameter-default-value', 'give each parameter its default value')
      .option('--skip-resource-name-params', 'write resource names as literals, not parameters')
      .option('--skip-all-params', 'write no parameters at all')
      .option('--resource-ids <ids...>', 'only these resources (space-separated ids; * for all)'),
    'tessera group export -n my-rg > my-rg.json',
    'tessera group export -n my-rg --include-parameter-default-value --skip-resource-name-params',
  ).action((options: GroupOptions, command: Command) =>
    reporting(async () => {
      const name = groupName(options, command);
      const resources = exportedResources(options.resourceIds, command);
      const conn = await connect(options, command);
      const sub = await subscriptionOf(conn.arm, options);
      const path = `/subscriptions/${encodeURIComponent(sub)}/resourcegroups/${encodeURIComponent(name)}/exportTemplate`;
      const csv = exportOptions(options);
      const body = { resources, ...(csv === undefined ? {} : { options: csv }) };
      const url = withApiVersion(path, DEPLOYMENTS_API_VERSION);
      const started = ok(await call(conn, 'POST', url, body), `POST ${url}`);
      const answer = ok(await pollLocation(conn, started, (ms) => sleepFor(ms)), `GET ${url}`);
      reportExportError(answer.body.error);
      print(answer.body.template ?? null, options);
    }),
  );

  flags(
    named('exists', 'print true if the resource group exists, else false'),
    'tessera group exists -n my-rg',
  ).action((options: GroupOptions, command: Command) =>
    reporting(async () => {
      const { url, conn } = await groupUrl(options, command);
      let exists = true;
      try {
        await conn.arm.request('HEAD', url);
      } catch (error) {
        // A HEAD's 404 has no body to read a code from: its status says enough.
        if (!(error instanceof ClientError && error.status === 404)) throw error;
        exists = false;
      }
      print(exists, options);
    }),
  );
}
