// What `tessera vm` and `tessera vmss` share: az's identity flags and identity commands, resource targets and result shaping.
import type { Command } from 'commander';
import type { ArmClient, ArmObject } from '../client/arm.js';
import { ClientError } from '../client/errors.js';
import { RESOURCE_TYPES } from '../core/resource-types.js';
import {
  type ClientFlagOptions,
  connect,
  reporting,
  subscriptionOf,
  usage,
  withExample,
} from './client-kit.js';
import { printResult } from './az-result.js';
import { isRecord } from '../core/guards.js';

/** The Compute api-version the commands send: what `az` 2.6x sends for VMs and scale sets. */
export const COMPUTE_API = '2024-07-01';

/** `az`'s name for the system-assigned identity in an identity list (`MSI_LOCAL_ID`). */
export const SYSTEM_IDENTITY = '[system]';

const UAI_TYPE = RESOURCE_TYPES.userAssignedIdentities;

/** The identities an `--assign-identity` or `--identities` flag names. */
export interface IdentitySelection {
  readonly system: boolean;
  /** Full resource ids of user-assigned identities, as given or built from a name. */
  readonly userAssigned: readonly string[];
}

/**
 * Reads an identity list flag as `az` does: absent or given without values (`true`) is the
 * system-assigned identity alone; in a list, `[system]` is the system-assigned identity and
 * anything else a user-assigned identity, by resource id or by name in `group` of `sub`.
 */
export function parseIdentities(
  value: boolean | readonly string[] | undefined,
  sub: string,
  group: string,
): IdentitySelection {
  if (value === undefined || typeof value === 'boolean' || value.length === 0) {
    return { system: true, userAssigned: [] };
  }
  const userAssigned: string[] = [];
  let system = false;
  for (const given of value) {
    if (given.toLowerCase() === SYSTEM_IDENTITY) system = true;
    else userAssigned.push(userAssignedIdentityId(given, sub, group));
  }
  return { system, userAssigned };
}

/** A user-assigned identity's resource id: `given` when it is one, else the name in `group`. */
export function userAssignedIdentityId(given: string, sub: string, group: string): string {
  if (given.startsWith('/')) return given;
  return `/subscriptions/${sub}/resourceGroups/${group}/providers/${UAI_TYPE}/${given}`;
}

/** ARM's `identity.type` for a system flag and whether user-assigned identities remain. */
export function identityType(system: boolean, userAssigned: boolean): string {
  if (system) return userAssigned ? 'SystemAssigned, UserAssigned' : 'SystemAssigned';
  return userAssigned ? 'UserAssigned' : 'None';
}

/** The `identity` of a PUT that gives a new resource exactly `selection`. */
export function identityBody(selection: IdentitySelection): ArmObject {
  const users = selection.userAssigned;
  return {
    type: identityType(selection.system, users.length > 0),
    ...(users.length === 0
      ? {}
      : { userAssignedIdentities: Object.fromEntries(users.map((id) => [id, {}])) }),
  };
}

/** Whether a resource's `identity` has the system-assigned identity, and its user-assigned ids. */
function currentIdentity(identity: unknown): { system: boolean; userAssigned: string[] } {
  if (!isRecord(identity)) return { system: false, userAssigned: [] };
  const type = typeof identity.type === 'string' ? identity.type.toLowerCase() : '';
  const users = isRecord(identity.userAssignedIdentities) ? identity.userAssignedIdentities : {};
  return { system: type.includes('systemassigned'), userAssigned: Object.keys(users) };
}

/**
 * The PATCH body that adds `selection` to a resource whose identity is `current`: `az vm
 * identity assign`'s type rules (a system-assigned identity is kept, user-assigned ones join).
 */
export function assignPatch(current: unknown, selection: IdentitySelection): ArmObject {
  const now = currentIdentity(current);
  const system = now.system || selection.system;
  const users = selection.userAssigned.length > 0 || now.userAssigned.length > 0;
  const added = selection.userAssigned;
  return {
    identity: {
      type: identityType(system, users),
      ...(added.length === 0
        ? {}
        : { userAssignedIdentities: Object.fromEntries(added.map((id) => [id, {}])) }),
    },
  };
}

/**
 * The PATCH body that takes `selection` off a resource whose identity is `current`, as `az vm
 * identity remove` builds it; undefined when the resource has no identity (nothing to do).
 * Throws `InvalidArgument` for a user-assigned identity the resource does not have, with az's
 * text.
 */
export function removePatch(
  current: unknown,
  selection: IdentitySelection,
  resourceName: string,
): ArmObject | undefined {
  if (!isRecord(current) || current.type === 'None') return undefined;
  const now = currentIdentity(current);
  const existing = new Set(now.userAssigned.map((id) => id.toLowerCase()));
  const removed = [...new Set(selection.userAssigned.map((id) => id.toLowerCase()))];
  const missing = removed.filter((id) => !existing.has(id));
  if (missing.length > 0) {
    throw new ClientError(
      'InvalidArgument',
      `'${missing.join(',')}' are not associated with '${resourceName}'`,
    );
  }
  const system = now.system && !selection.system;
  const remaining = existing.size > removed.length;
  const type = identityType(system, remaining);
  return {
    identity: {
      type,
      ...(remaining && removed.length > 0
        ? { userAssignedIdentities: Object.fromEntries(removed.map((id) => [id, null])) }
        : {}),
    },
  };
}

/**
 * `az`'s summary of a resource's identities (`_construct_identity_info`): the system-assigned
 * principal id (empty when none) and the user-assigned identities with their ids.
 */
export function identityInfo(identity: unknown): ArmObject {
  const value = isRecord(identity) ? identity : {};
  return {
    systemAssignedIdentity: typeof value.principalId === 'string' ? value.principalId : '',
    userAssignedIdentities: isRecord(value.userAssignedIdentities)
      ? value.userAssignedIdentities
      : {},
  };
}

/** The flags that name one resource: `-g`/`-n`, or `--ids`. */
export interface TargetOptions extends ClientFlagOptions {
  readonly resourceGroup?: string;
  readonly name?: string;
  readonly ids?: readonly string[];
}

/** One resource, located. */
export interface Target {
  readonly sub: string;
  readonly group: string;
  readonly name: string;
  /** Its path, without a query. */
  readonly path: string;
}

/**
 * The resources of ARM type `type` the flags name: each of `--ids`, or `-n` in `-g` of the
 * subscription. A mix, or neither, is a usage error (exit 2), as is an id of another type.
 */
export async function targetsOf(
  arm: ArmClient,
  options: TargetOptions,
  command: Command,
  type: string,
): Promise<Target[]> {
  const { ids, resourceGroup, name } = options;
  if (ids !== undefined) {
    if (resourceGroup !== undefined || name !== undefined) {
      return usage(command, 'pass either --ids or --resource-group and --name, not both');
    }
    const pattern = new RegExp(
      `^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/${type}/([^/]+)$`,
      'i',
    );
    return ids.map((id) => {
      const match = pattern.exec(id);
      const [, sub, group, resource] = match ?? [];
      if (sub === undefined || group === undefined || resource === undefined) {
        return usage(command, `--ids: '${id}' is not the id of a ${type}`);
      }
      return { sub, group, name: resource, path: id };
    });
  }
  if (resourceGroup === undefined || name === undefined) {
    return usage(command, 'pass --resource-group and --name, or --ids');
  }
  const sub = await subscriptionOf(arm, options);
  return [{ sub, group: resourceGroup, name, path: resourcePath(sub, resourceGroup, type, name) }];
}

/** `show` of compute resources of `type`: each one the flags name, one object or a list. */
export async function showCompute(
  options: TargetOptions,
  command: Command,
  type: string,
  tableView: string,
): Promise<void> {
  const { arm } = await connect(options, command);
  const targets = await targetsOf(arm, options, command, type);
  const found = await Promise.all(
    targets.map(
      async (t) => (await arm.request('GET', `${t.path}?api-version=${COMPUTE_API}`)).body,
    ),
  );
  const [only] = found;
  printResult(found.length === 1 ? only : found, options, tableView);
}

/** Where a `list` looks: the group of `-g`, or the whole subscription. */
export async function listScope(
  arm: Parameters<typeof subscriptionOf>[0],
  options: ClientFlagOptions & { readonly resourceGroup?: string },
): Promise<string> {
  const sub = encodeURIComponent(await subscriptionOf(arm, options));
  const group = options.resourceGroup;
  return group === undefined
    ? `/subscriptions/${sub}`
    : `/subscriptions/${sub}/resourceGroups/${encodeURIComponent(group)}`;
}

/** `list` of compute resources of `type`: those of `-g`, or of the whole subscription. */
export async function listCompute(
  options: ClientFlagOptions & { readonly resourceGroup?: string },
  command: Command,
  type: string,
  tableView: string,
): Promise<void> {
  const { arm } = await connect(options, command);
  const scope = await listScope(arm, options);
  const found = await arm.list(`${scope}/providers/${type}?api-version=${COMPUTE_API}`);
  printResult(found, options, `[].${tableView}`);
}

/** A resource's path: `/subscriptions/{sub}/resourceGroups/{group}/providers/{type}/{name}`. */
export function resourcePath(sub: string, group: string, type: string, name: string): string {
  const segment = encodeURIComponent;
  return `/subscriptions/${segment(sub)}/resourceGroups/${segment(group)}/providers/${type}/${segment(name)}`;
}

/** Options of the `identity assign|remove|show` commands. */
export interface IdentityOptions extends ClientFlagOptions {
  readonly resourceGroup: string;
  readonly name: string;
  readonly identities?: readonly string[];
}

/**
 * Adds `identity assign`, `identity remove` and `identity show` under `parent` for resources of
 * ARM type `type` (`Microsoft.Compute/virtualMachines`), `noun` naming it in help texts.
 */
export function registerIdentityCommands(
  parent: Command,
  flags: (command: Command) => Command,
  type: string,
  noun: { readonly command: string; readonly text: string },
): void {
  const identity = parent
    .command('identity')
    .description(`the managed identities of a ${noun.text}`);
  const base = (name: string, description: string): Command =>
    flags(
      identity
        .command(name)
        .description(description)
        .requiredOption('-g, --resource-group <group>', 'the resource group')
        .requiredOption('-n, --name <name>', `the ${noun.text}'s name`),
    );
  const path = (target: { sub: string; group: string; name: string }): string =>
    `${resourcePath(target.sub, target.group, type, target.name)}?api-version=${COMPUTE_API}`;
  const read = async (
    options: IdentityOptions,
    command: Command,
  ): Promise<{ arm: ArmClient; where: string; resource: ArmObject; sub: string }> => {
    const { arm } = await connect(options, command);
    const sub = await subscriptionOf(arm, options);
    const where = path({ sub, group: options.resourceGroup, name: options.name });
    return { arm, where, sub, resource: (await arm.request('GET', where)).body };
  };
  const example = `tessera ${noun.command} identity`;

  withExample(
    base('assign', `enable managed identities on a ${noun.text} (default: system-assigned)`).option(
      '--identities [ids...]',
      `'${SYSTEM_IDENTITY}' and user-assigned identities (names in the group, or resource ids)`,
    ),
    `${example} assign -g demo-rg -n web --identities [system] app-identity`,
  ).action((options: IdentityOptions, command: Command) =>
    reporting(async () => {
      const { arm, where, resource, sub } = await read(options, command);
      const selection = parseIdentities(options.identities, sub, options.resourceGroup);
      const patch = assignPatch(resource.identity, selection);
      const { body } = await arm.request('PATCH', where, patch);
      printResult(identityInfo(body.identity), options);
    }),
  );

  withExample(
    base(
      'remove',
      `remove managed identities from a ${noun.text} (default: system-assigned)`,
    ).option(
      '--identities [ids...]',
      `'${SYSTEM_IDENTITY}' and user-assigned identities to remove (names or resource ids)`,
    ),
    `${example} remove -g demo-rg -n web --identities app-identity`,
  ).action((options: IdentityOptions, command: Command) =>
    reporting(async () => {
      const { arm, where, resource, sub } = await read(options, command);
      const selection = parseIdentities(options.identities, sub, options.resourceGroup);
      const patch = removePatch(resource.identity, selection, options.name);
      if (patch === undefined) return;
      const { body } = await arm.request('PATCH', where, patch);
      printResult(body.identity, options);
    }),
  );

  withExample(
    base('show', `show the managed identities of a ${noun.text} (ARM's identity object)`),
    `${example} show -g demo-rg -n web --query principalId -o tsv`,
  ).action((options: IdentityOptions, command: Command) =>
    reporting(async () => {
      const { resource } = await read(options, command);
      printResult(resource.identity, options);
    }),
  );
}
