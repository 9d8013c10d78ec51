// `tessera role definition|assignment`: Azure RBAC through ARM, with `az role`'s names, flags and output.
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { ARM_SCOPE, type ArmClient, type ArmObject } from '../client/arm.js';
import { ClientError } from '../client/errors.js';
import {
  AZ_API_VERSIONS,
  flattenProperties,
  IDENTITY_TYPE,
  isGuid,
  roleDefinitionGuid,
  scopePath,
  withApiVersion,
} from './arm-ids.js';
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
import { addResourceGroup, withTableView } from './az-result.js';

/** Options of the `tessera role` commands. */
export interface RoleOptions extends ClientFlagOptions {
  readonly name?: string;
  readonly scope?: string;
  readonly resourceGroup?: string;
  readonly customRoleOnly?: boolean;
  readonly assignee?: string;
  readonly assigneeObjectId?: string;
  readonly role?: string;
  readonly all?: boolean;
  readonly includeInherited?: boolean;
  readonly ids?: string[];
}

const AUTHORIZATION = '/providers/Microsoft.Authorization';
/** `az role definition list -o table`'s columns. */
const DEFINITION_TABLE = '[].{Name:roleName, Type:roleType, Description:description}';
/** `az role assignment list -o table`'s columns. */
const ASSIGNMENT_TABLE = '[].{Principal:principalName, Role:roleDefinitionName, Scope:scope}';

/** A role definition as `az` prints it: `properties` flattened, their `type` as `roleType`. */
export const azDefinition = (definition: ArmObject): ArmObject =>
  flattenProperties(definition, { type: 'roleType' });

/** A role assignment as `az` prints it: `properties` flattened, `resourceGroup` added. */
export const azAssignment = (assignment: ArmObject): ArmObject =>
  addResourceGroup(flattenProperties(assignment));

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** `{scope}/providers/Microsoft.Authorization/{kind}` with `query` and its api-version. */
function authorizationPath(
  scope: string,
  kind: 'roleDefinitions' | 'roleAssignments',
  rest = '',
): string {
  return withApiVersion(
    `${scopePath(scope)}${AUTHORIZATION}/${kind}${rest}`,
    AZ_API_VERSIONS[kind],
  );
}

const filter = (expression: string): string => `?$filter=${encodeURIComponent(expression)}`;

/**
 * The role definitions at `scope` named `name`: by `roleName eq` first; when none is called so
 * and `name` is a GUID, the definition with that id (`RoleDefinitionDoesNotExist` if none).
 */
async function findDefinitions(arm: ArmClient, scope: string, name?: string): Promise<ArmObject[]> {
  if (name === undefined) return arm.list(authorizationPath(scope, 'roleDefinitions'));
  const named = await arm.list(
    authorizationPath(scope, 'roleDefinitions', filter(`roleName eq '${name}'`)),
  );
  if (named.length > 0 || !isGuid(name)) return named;
  const path = authorizationPath(scope, 'roleDefinitions', `/${encodeURIComponent(name)}`);
  return [(await arm.request('GET', path)).body];
}

/**
 * `--role` as a role definition id, as `az`: a full definition id as given; a GUID in the
 * subscription; otherwise a role name looked up at `scope`, which must match exactly one.
 */
async function resolveRole(
  arm: ArmClient,
  sub: string,
  role: string,
  scope: string,
): Promise<string> {
  if (roleDefinitionGuid(role) !== undefined) return role;
  if (isGuid(role)) return `/subscriptions/${sub}${AUTHORIZATION}/roleDefinitions/${role}`;
  const found = await arm.list(
    authorizationPath(scope, 'roleDefinitions', filter(`roleName eq '${role}'`)),
  );
  const [only, ...more] = found;
  if (only === undefined) {
    throw new ClientError('RoleDefinitionDoesNotExist', `Role '${role}' doesn't exist.`);
  }
  if (more.length > 0) {
    const ids = found.map((d) => text(d.id)).join("', '");
    throw new ClientError(
      'RoleDefinitionAmbiguous',
      `More than one role matches the given name '${role}'. Please pick an id from '${ids}'`,
    );
  }
  return text(only.id);
}

/** `--assignee` (or `--assignee-object-id`): an object id; Tessera has no Graph to look names up. */
function assigneeOf(options: RoleOptions, command: Command): string | undefined {
  const given = options.assignee ?? options.assigneeObjectId;
  if (given !== undefined && !isGuid(given)) {
    return usage(
      command,
      `--assignee '${given}' is not an object id (GUID): Tessera has no directory search by name`,
    );
  }
  return given?.toLowerCase();
}

/** `az`'s scope: `--scope`, else `-g`'s group, else the subscription; never both flags. */
function scopeOf(options: RoleOptions, command: Command, sub: string): string {
  const { scope, resourceGroup } = options;
  if (scope !== undefined && resourceGroup !== undefined) {
    return usage(
      command,
      `resource group '${resourceGroup}' is redundant because --scope is given`,
    );
  }
  if (scope === '' || (scope !== undefined && !scope.startsWith('/'))) {
    return usage(command, `invalid --scope '${scope}': a scope is an id such as /subscriptions/…`);
  }
  if (scope !== undefined) return scope.length > 1 ? scope.replace(/\/+$/, '') : scope;
  const subscription = `/subscriptions/${sub}`;
  return resourceGroup === undefined
    ? subscription
    : `${subscription}/resourceGroups/${resourceGroup}`;
}

/**
 * `az`'s search: at `scope` (and, with `includeInherited`, above it) or, without a scope, the
 * whole subscription; then only `role`'s and `assignee`'s. Returns `az`-shaped assignments.
 */
async function searchAssignments(
  arm: ArmClient,
  sub: string,
  search: { scope?: string; assignee?: string; role?: string; includeInherited?: boolean },
): Promise<ArmObject[]> {
  const { scope, assignee, role } = search;
  const subscription = `/subscriptions/${sub}`;
  const query =
    scope !== undefined
      ? filter('atScope()')
      : assignee !== undefined
        ? filter(`principalId eq '${assignee}'`)
        : '';
  const listed = await arm.list(authorizationPath(scope ?? subscription, 'roleAssignments', query));
  const roleGuid =
    role === undefined
      ? undefined
      : roleDefinitionGuid(await resolveRole(arm, sub, role, scope ?? subscription));
  const wanted = scope?.toLowerCase();
  return listed.map(azAssignment).filter((a) => {
    const at = text(a.scope).toLowerCase();
    const inScope =
      wanted === undefined ||
      at === wanted ||
      (search.includeInherited === true && (at === '/' || wanted.startsWith(`${at}/`)));
    return (
      inScope &&
      (roleGuid === undefined || roleDefinitionGuid(text(a.roleDefinitionId)) === roleGuid) &&
      (assignee === undefined || text(a.principalId).toLowerCase() === assignee)
    );
  });
}

/**
 * Adds `roleDefinitionName` (from the definitions at `scope`; null for a deleted role) and
 * `principalName` (what `az` shows for a service principal, its application id, where Tessera
 * can tell: the caller's own and the subscription's user-assigned identities; else '').
 */
async function addNames(
  conn: Connection,
  sub: string,
  scope: string,
  assignments: ArmObject[],
): Promise<void> {
  const { arm, tokens } = conn;
  const roleNames = new Map(
    (await findDefinitions(arm, scope)).map((d) => [
      roleDefinitionGuid(text(d.id)),
      azDefinition(d).roleName,
    ]),
  );
  const principals = new Map<string, string>([
    [(await tokens.objectId(ARM_SCOPE)).toLowerCase(), await tokens.clientId(ARM_SCOPE)],
  ]);
  const identities = await arm
    .list(
      withApiVersion(
        `/subscriptions/${sub}/providers/${IDENTITY_TYPE}`,
        AZ_API_VERSIONS.identities,
      ),
    )
    .catch(() => []); // Names are a convenience: a caller who may not list identities still gets the list.
  for (const identity of identities.map((i) => flattenProperties(i))) {
    principals.set(text(identity.principalId).toLowerCase(), text(identity.clientId));
  }
  for (const a of assignments) {
    a.roleDefinitionName = roleNames.get(roleDefinitionGuid(text(a.roleDefinitionId))) ?? null;
    a.principalName = principals.get(text(a.principalId).toLowerCase()) ?? '';
  }
}

/** Registers `tessera role`; `addConfigFlags` gives each command the configuration flags. */
export function registerRoleCommands(
  program: Command,
  addConfigFlags: (command: Command) => Command,
): void {
  const role = program
    .command('role')
    .description('role definitions and assignments (Azure RBAC), as `az role`');
  const flags = clientFlags(addConfigFlags);
  const definition = role.command('definition').description('role definitions');
  const assignment = role.command('assignment').description('role assignments');
  const assigneeFlags = (command: Command): Command =>
    command
      .option('--assignee <objectId>', 'the principal: its object id')
      .option('--assignee-object-id <objectId>', 'the same, as `az` also names it');

  flags(
    definition
      .command('list')
      .description('list the role definitions assignable at a scope')
      .option('-n, --name <roleNameOrId>', 'only the role with this name, or this id (a GUID)')
      .option('--scope <scope>', 'the scope (default: the subscription)')
      .option('-g, --resource-group <group>', "the scope is this group's")
      .option('--custom-role-only', 'only custom roles'),
    'tessera role definition list --name "Key Vault Secrets User" --query "[].name" -o tsv',
  ).action((options: RoleOptions, command: Command) =>
    reporting(async () => {
      const { arm } = await connect(options, command);
      const scope = scopeOf(options, command, await subscriptionOf(arm, options));
      const found = (await findDefinitions(arm, scope, options.name))
        .map(azDefinition)
        .filter((d) => options.customRoleOnly !== true || d.roleType === 'CustomRole');
      print(found, withTableView(options, DEFINITION_TABLE));
    }),
  );

  flags(
    assigneeFlags(
      assignment
        .command('create')
        .description('assign a role to a principal at a scope')
        .requiredOption('--role <role>', 'a role name ("Reader"), its GUID or its full id')
        .requiredOption('--scope <scope>', 'where: a subscription, group or resource id'),
    ),
    'tessera role assignment create --assignee 6f1c…e2 --role "Key Vault Secrets User" --scope /subscriptions/…/resourceGroups/my-rg',
  ).action((options: RoleOptions, command: Command) =>
    reporting(async () => {
      const principalId = assigneeOf(options, command);
      if (principalId === undefined) return usage(command, 'pass the principal with --assignee');
      const { arm } = await connect(options, command);
      const sub = await subscriptionOf(arm, options);
      const scope = scopeOf(options, command, sub);
      const roleDefinitionId = await resolveRole(arm, sub, options.role ?? '', scope);
      const path = authorizationPath(scope, 'roleAssignments', `/${randomUUID()}`);
      const answer = await arm.request('PUT', path, {
        properties: { roleDefinitionId, principalId },
      });
      print(azAssignment(answer.body), options);
    }),
  );

  flags(
    assigneeFlags(
      assignment
        .command('list')
        .description('list role assignments (default: those at the subscription itself)')
        .option('--role <role>', 'only this role: a name, its GUID or its full id')
        .option('--scope <scope>', 'only those at this scope')
        .option('-g, --resource-group <group>', 'only those at this group')
        .option('--include-inherited', 'also those above --scope (or the group)')
        .option('--all', 'those at, above and below every scope of the subscription'),
    ),
    'tessera role assignment list --all --assignee 6f1c…e2 -o table',
  ).action((options: RoleOptions, command: Command) =>
    reporting(async () => {
      if (options.all === true && (options.scope ?? options.resourceGroup) !== undefined) {
        return usage(command, 'group or scope are not required when --all is used');
      }
      const assignee = assigneeOf(options, command);
      const conn = await connect(options, command);
      const sub = await subscriptionOf(conn.arm, options);
      const scope = options.all === true ? undefined : scopeOf(options, command, sub);
      const found = await searchAssignments(conn.arm, sub, {
        ...(scope === undefined ? {} : { scope }),
        ...(assignee === undefined ? {} : { assignee }),
        ...(options.role === undefined ? {} : { role: options.role }),
        includeInherited: options.includeInherited === true,
      });
      if (found.length > 0) await addNames(conn, sub, scope ?? `/subscriptions/${sub}`, found);
      print(found, withTableView(options, ASSIGNMENT_TABLE));
    }),
  );

  flags(
    assigneeFlags(
      assignment
        .command('delete')
        .description('delete role assignments: by --ids, or those matching the filters')
        .option('--ids <ids...>', 'role assignment ids, space-separated')
        .option('--role <role>', 'those of this role: a name, its GUID or its full id')
        .option('--scope <scope>', 'those at this scope (default: the subscription)')
        .option('-g, --resource-group <group>', 'those at this group'),
    ),
    'tessera role assignment delete --assignee 6f1c…e2 --role Reader --scope /subscriptions/…/resourceGroups/my-rg',
  ).action((options: RoleOptions, command: Command) =>
    reporting(async () => {
      const { ids, role: roleName, scope, resourceGroup } = options;
      const assignee = assigneeOf(options, command);
      const filters = [assignee, roleName, scope, resourceGroup].filter((f) => f !== undefined);
      if (ids !== undefined && filters.length > 0) {
        return usage(command, 'pass either --ids or the filters (--assignee, --role, --scope)');
      }
      if (ids === undefined && filters.length === 0) {
        return usage(command, 'pass --ids, or at least one of --assignee, --role, --scope, -g');
      }
      for (const id of ids ?? []) {
        if (!/\/providers\/Microsoft\.Authorization\/roleAssignments\/[^/]+$/i.test(id)) {
          return usage(command, `--ids: '${id}' is not a role assignment id`);
        }
      }
      const { arm } = await connect(options, command);
      let targets = ids ?? [];
      if (ids === undefined) {
        const sub = await subscriptionOf(arm, options);
        const found = await searchAssignments(arm, sub, {
          scope: scopeOf(options, command, sub),
          ...(assignee === undefined ? {} : { assignee }),
          ...(roleName === undefined ? {} : { role: roleName }),
        });
        targets = found.map((a) => text(a.id));
        if (targets.length === 0) {
          process.stderr.write('tessera: warning: No matched assignments were found to delete\n');
        }
      }
      for (const id of targets) {
        await arm.request('DELETE', withApiVersion(scopePath(id), AZ_API_VERSIONS.roleAssignments));
      }
    }),
  );
}
