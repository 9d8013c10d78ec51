// `tessera ad sp create-for-rbac`: an application with a client secret, and its roles, in the store where the server runs.
//
// Azure makes the application through Microsoft Graph; Tessera's directory has no such API yet,
// so this is an operator command on the server's machine, like `tessera host create` without
// `--server`. What it prints is `az ad sp create-for-rbac`'s object, so scripts written for az
// (`--query password -o tsv`) work unchanged.
import type { Command } from 'commander';
import { systemClock } from '../core/clock.js';
import { createCertificateAuthorityService } from '../core/directory/certificate-authority.js';
import { createDirectory } from '../core/directory/directory.js';
import type { RoleDefinition } from '../core/model.js';
import type { Store } from '../core/ports.js';
import { assignServicePrincipalRole, parseScope } from '../core/rbac/index.js';
import { ClientError } from '../client/errors.js';
import { addOutputFlags, type ClientFlagOptions, print, reporting, usage } from './client-kit.js';
import type { ConfigFlagOptions } from './flags.js';
import { withStore } from './operator-store.js';

/** Options of `tessera ad sp create-for-rbac`. */
export interface CreateForRbacOptions
  extends ConfigFlagOptions, Pick<ClientFlagOptions, 'output' | 'query'> {
  readonly name?: string;
  readonly role?: string;
  readonly scopes?: string[];
  readonly years?: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const YEAR_MS = 365 * 24 * 3_600_000;

/** The role named by `role`: its name (case-insensitive), its GUID, or its full definition id. */
function findRole(roles: readonly RoleDefinition[], role: string): RoleDefinition {
  const guid = role.split('/').pop()?.toLowerCase() ?? '';
  const found = roles.find(
    (r) => r.roleName.toLowerCase() === role.toLowerCase() || (GUID.test(guid) && r.id === guid),
  );
  if (found === undefined) throw new ClientError('RoleNotFound', `Role '${role}' doesn't exist.`);
  return found;
}

/** Fails unless `scope` is `/` or names a subscription, resource group or resource that exists. */
async function checkScope(store: Store, scope: string): Promise<string> {
  let parsed;
  try {
    parsed = parseScope(scope);
  } catch {
    throw new ClientError(
      'InvalidScope',
      `The scope '${scope}' is not valid: give '/' or an ARM resource id.`,
    );
  }
  if (parsed.kind === 'root') return '/';
  const id = scope.replace(/\/+$/, '');
  if ((await store.resources.get(id)) === undefined) {
    throw new ClientError('ScopeNotFound', `The scope '${scope}' does not exist.`);
  }
  return id;
}

/**
 * Creates application `name` with a new client secret (`--years`, default 1) and, with `--role`,
 * assigns it that role at each of `--scopes`. Everything is checked before anything is written,
 * and the writes are one transaction: a bad role or scope leaves nothing behind. Prints
 * `{"appId","displayName","password","tenant"}`: the only time the secret is shown.
 */
export async function runCreateForRbac(
  options: CreateForRbacOptions,
  command: Command,
): Promise<void> {
  const name = options.name?.trim() ?? '';
  if (name === '') usage(command, '--name is required: the display name of the new application.');
  const scopes = options.scopes ?? [];
  if (options.role !== undefined && scopes.length === 0) {
    usage(command, '--scopes is required when --role is given.');
  }
  if (options.role === undefined && scopes.length > 0) {
    usage(command, '--role is required when --scopes is given.');
  }
  const years = Number(options.years ?? '1');
  if (!Number.isInteger(years) || years < 1 || years > 10) {
    usage(command, '--years must be a whole number of years from 1 to 10.');
  }
  await withStore(options, (store) =>
    reporting(async () => {
      const [tenant] = await store.tenants.list();
      if (tenant === undefined) {
        throw new ClientError(
          'TenantNotFound',
          'This store has no tenant yet: start `tessera server` or `tessera up` once.',
        );
      }
      const role =
        options.role === undefined
          ? undefined
          : findRole(await store.roles.listDefinitions(), options.role);
      const checked = await Promise.all(scopes.map((s) => checkScope(store, s)));
      const assignments =
        role === undefined
          ? []
          : [...new Set(checked)].map((scope) => ({ scope, roleDefinitionId: role.id }));
      const clock = systemClock;
      const created = await store.transaction(async (tx) => {
        const directory = createDirectory({
          store: tx,
          clock,
          ca: createCertificateAuthorityService({ store: tx, clock }),
        });
        const principal = await directory.createPrincipal({
          tenantId: tenant.id,
          displayName: name,
          type: 'Application',
        });
        const { secret } = await directory.addClientSecret(principal.objectId, {
          lifetimeMs: years * YEAR_MS,
        });
        for (const { scope, roleDefinitionId } of assignments) {
          await assignServicePrincipalRole(
            { store: tx, clock },
            { scope, roleDefinitionId, principalId: principal.objectId },
          );
        }
        return { appId: principal.appId, displayName: name, password: secret, tenant: tenant.id };
      });
      process.stderr.write(
        'The output includes credentials that you must protect. Be sure that you do not include these credentials in your code or check the credentials into your source control.\n',
      );
      print(created, options);
    }),
  );
}

/** Registers `tessera ad sp create-for-rbac`. */
export function registerAdCommands(
  program: Command,
  addConfigFlags: (command: Command) => Command,
): void {
  const sp = program
    .command('ad')
    .description('the directory, as `az ad`')
    .command('sp')
    .description('service principals');
  addOutputFlags(
    addConfigFlags(
      sp
        .command('create-for-rbac')
        .description(
          'create an application with a client secret and, with --role, its role assignments (in the store where the server runs)',
        )
        .option('-n, --name <name>', "the application's display name")
        .option('--role <role>', 'a role name, GUID or definition id to assign')
        .option('--scopes <scope...>', 'where to assign the role: / or ARM resource ids')
        .option('--years <n>', 'how many years the secret is valid (1-10)', '1'),
    ),
  ).action(async (options: CreateForRbacOptions, command: Command) => {
    await runCreateForRbac(options, command);
  });
}
