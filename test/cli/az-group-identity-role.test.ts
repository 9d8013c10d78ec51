// `tessera group|identity|role` as an operator runs them: one real `tessera server`, the CLI against it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Result, run, type ServerUnderTest, startServer, stop } from './cli-harness.js';

let dir: string;
let server: ServerUnderTest;

/** Runs `tessera ...args` against the server as its administrator. */
const tessera = (...args: string[]): Promise<Result> => run([...args, ...server.flags]);

/** The JSON a successful command printed. */
function json(result: Result): unknown {
  expect([result.code, result.stderr]).toEqual([0, '']);
  return JSON.parse(result.stdout);
}

/** The one line a failed command wrote on stderr (nothing on stdout), with its exit status. */
function failure(result: Result, code: 1 | 2): string {
  expect(result.code).toBe(code);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0] ?? '';
}

interface Identity {
  id: string;
  name: string;
  location: string;
  principalId: string;
  clientId: string;
  tenantId: string;
  resourceGroup: string;
  properties?: unknown;
}

interface Assignment {
  id: string;
  scope: string;
  principalId: string;
  roleDefinitionId: string;
  roleDefinitionName?: string | null;
  principalName?: string;
  resourceGroup?: string;
}

const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const SECRETS_USER = '4633458b-17de-408a-b874-0445c86b69e6';
const OPERATOR = 'f1a07417-d97a-45cb-824c-7a7467783830';

let sub: string;
let groupScope: string;
let app: Identity;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-cli-az-'));
  server = await startServer(join(dir, 'data'));
});

afterAll(async () => {
  await stop(server.child);
  await rm(dir, { recursive: true, force: true });
});

describe('tessera group|identity|role', { timeout: 300_000 }, () => {
  it('group: creates, lists, shows, tests and deletes resource groups', async () => {
    const createdGroup = await tessera(
      ...['group', 'create', '-n', 'az-app', '-l', 'West Europe', '--tags', 'team=pay', 'env'],
    );
    const created = json(createdGroup) as Record<string, unknown>;
    expect(created).toMatchObject({
      name: 'az-app',
      location: 'westeurope',
      managedBy: null,
      tags: { team: 'pay', env: '' },
      properties: { provisioningState: 'Succeeded' },
      type: 'Microsoft.Resources/resourceGroups',
    });
    const id = String(created.id);
    sub = id.split('/')[2] ?? '';
    groupScope = id;

    const other = await tessera('group', 'create', '-g', 'az-other', '-l', 'northeurope');
    expect(other.code).toBe(0);

    const [table, tsv, tag, yes, no, missing, noTty] = await Promise.all([
      tessera('group', 'list', '-o', 'table'),
      tessera('group', 'list', '--query', "[?location=='westeurope'].name", '-o', 'tsv'),
      tessera('group', 'show', '-g', 'az-app', '--query', 'tags.team', '-o', 'tsv'),
      tessera('group', 'exists', '-n', 'az-app'),
      tessera('group', 'exists', '-n', 'no-such-group'),
      tessera('group', 'show', '-n', 'no-such-group'),
      tessera('group', 'delete', '-n', 'az-other'),
    ]);
    // az's table view of groups: Name, Location, Status in that order.
    expect(table.stdout.split('\n').slice(0, 2)).toEqual([
      'Name      Location     Status',
      '--------  -----------  ---------',
    ]);
    expect(table.stdout).toContain('\naz-other  northeurope  Succeeded\n');
    expect(tsv.stdout).toBe('az-app\n');
    expect(tag.stdout).toBe('pay\n');
    expect([yes.code, yes.stdout]).toEqual([0, 'true\n']);
    expect([no.code, no.stdout]).toEqual([0, 'false\n']);
    expect(failure(missing, 1)).toBe(
      "tessera: ResourceGroupNotFound: Resource group 'no-such-group' could not be found.",
    );
    // stdin is no terminal here: nobody could confirm, so --yes is required.
    expect(failure(noTty, 2)).toBe(
      'error: unable to prompt for confirmation as no tty available: pass --yes',
    );

    const deleted = await tessera('group', 'delete', '-n', 'az-other', '--yes');
    expect([deleted.code, deleted.stdout, deleted.stderr]).toEqual([0, '', '']);
    const gone = await tessera('group', 'exists', '-n', 'az-other', '-o', 'tsv');
    expect(gone.stdout).toBe('false\n');
  });

  it("identity: creates in the group's location, shows by name or id, lists and deletes", async () => {
    app = json(await tessera('identity', 'create', '-g', 'az-app', '-n', 'app-id')) as Identity;
    // Flattened like az's: no properties object, resourceGroup added.
    expect(app).toMatchObject({
      name: 'app-id',
      location: 'westeurope',
      resourceGroup: 'az-app',
      type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
    });
    expect(app.properties).toBeUndefined();
    expect(app.principalId).toMatch(/^[0-9a-f-]{36}$/);

    const second = await tessera(
      ...['identity', 'create', '-g', 'az-app', '-n', 'second', '-l', 'northeurope'],
    );
    const secondId = (json(second) as Identity).id;

    const [byName, byId, both, table, all, missing, badId] = await Promise.all([
      tessera('identity', 'show', '-g', 'az-app', '-n', 'app-id'),
      tessera('identity', 'show', '--ids', app.id, '--query', 'principalId', '-o', 'tsv'),
      tessera('identity', 'show', '--ids', app.id, secondId, '--query', '[].location'),
      tessera('identity', 'list', '-g', 'az-app', '-o', 'table'),
      tessera('identity', 'list', '--query', 'sort([].name)', '-o', 'tsv'),
      tessera('identity', 'show', '-g', 'az-app', '-n', 'missing'),
      tessera('identity', 'delete', '--ids', groupScope),
    ]);
    expect(json(byName) as Identity).toEqual(app);
    expect(byId.stdout).toBe(`${app.principalId}\n`);
    expect(json(both) as string[]).toEqual(['westeurope', 'northeurope']);
    expect(table.stdout.split('\n')[0]).toMatch(
      /^ClientId +IsolationScope +Location +Name +PrincipalId +ResourceGroup +TenantId$/,
    );
    expect(table.stdout).toContain(app.clientId);
    expect(all.stdout).toBe('app-id\nsecond\n');
    expect(failure(missing, 1)).toBe(
      "tessera: ResourceNotFound: The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/missing' under resource group 'az-app' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    );
    expect(failure(badId, 2)).toBe(
      `error: --ids: '${groupScope}' is not a user-assigned identity's resource id`,
    );

    const deleted = await tessera('identity', 'delete', '--ids', secondId);
    expect([deleted.code, deleted.stdout, deleted.stderr]).toEqual([0, '', '']);
    const left = await tessera(
      'identity',
      'list',
      '-g',
      'az-app',
      '--query',
      '[].name',
      '-o',
      'tsv',
    );
    expect(left.stdout).toBe('app-id\n');
  });

  it('role definition list: every built-in role, by name or by id', async () => {
    const [table, byName, byGuid] = await Promise.all([
      tessera('role', 'definition', 'list', '-o', 'table'),
      tessera('role', 'definition', 'list', '--name', 'Key Vault Secrets User'),
      tessera('role', 'definition', 'list', '-n', READER, '--query', '[].roleName', '-o', 'tsv'),
    ]);
    expect(table.stdout.split('\n')[0]).toMatch(/^Name +Type +Description$/);
    expect(table.stdout).toMatch(/^Reader +BuiltInRole +View all resources/m);
    const [definition] = json(byName) as Record<string, unknown>[];
    expect(definition).toMatchObject({
      id: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${SECRETS_USER}`,
      name: SECRETS_USER,
      roleName: 'Key Vault Secrets User',
      roleType: 'BuiltInRole',
      type: 'Microsoft.Authorization/roleDefinitions',
      assignableScopes: ['/'],
    });
    expect(byGuid.stdout).toBe('Reader\n');
  });

  it('role assignment: creates by name, GUID or id; lists with names; deletes', async () => {
    const subScope = `/subscriptions/${sub}`;
    const operatorId = `${subScope}/providers/Microsoft.Authorization/roleDefinitions/${OPERATOR}`;
    const assign = (role: string, scope: string, ...more: string[]): Promise<Result> =>
      tessera('role', 'assignment', 'create', '--role', role, '--scope', scope, ...more);
    const [byName, byGuid, byId] = await Promise.all([
      assign('Key Vault Secrets User', groupScope, '--assignee', app.principalId),
      assign(READER, subScope, '--assignee-object-id', app.principalId),
      assign(operatorId, app.id, '--assignee', app.principalId.toUpperCase()),
    ]);
    const created = json(byName) as Assignment;
    expect(created).toMatchObject({
      principalId: app.principalId,
      scope: groupScope,
      resourceGroup: 'az-app',
      roleDefinitionId: `${subScope}/providers/Microsoft.Authorization/roleDefinitions/${SECRETS_USER}`,
    });
    expect((json(byGuid) as Assignment).scope).toBe(subScope);
    expect((json(byId) as Assignment).scope).toBe(app.id);

    const [bad, again, noScope, byUpn] = await Promise.all([
      assign('Nope', groupScope, '--assignee', app.principalId),
      assign('Reader', subScope, '--assignee', app.principalId),
      tessera('role', 'assignment', 'create', '--role', 'Reader', '--assignee', app.principalId),
      assign('Reader', subScope, '--assignee', 'someone@example.com'),
    ]);
    expect(failure(bad, 1)).toBe("tessera: RoleDefinitionDoesNotExist: Role 'Nope' doesn't exist.");
    expect(failure(again, 1)).toBe(
      'tessera: RoleAssignmentExists: The role assignment already exists.',
    );
    expect(failure(noScope, 2)).toBe("error: required option '--scope <scope>' not specified");
    expect(failure(byUpn, 2)).toMatch(
      /^error: --assignee 'someone@example\.com' is not an object id/,
    );

    const [atSub, table, inherited, reader, badQuery] = await Promise.all([
      tessera('role', 'assignment', 'list', '--assignee', app.principalId),
      tessera('role', 'assignment', 'list', '--all', '--assignee', app.principalId, '-o', 'table'),
      tessera(
        'role',
        'assignment',
        'list',
        ...['--scope', groupScope, '--include-inherited', '--assignee', app.principalId],
        ...['--query', 'sort([].roleDefinitionName)', '-o', 'tsv'],
      ),
      tessera('role', 'assignment', 'list', '--all', '--role', 'Reader', '--query', '[].scope'),
      tessera('role', 'assignment', 'list', '--query', '[?'),
    ]);
    // Without --scope or --all, as az: only those at the subscription itself.
    const [onlyReader, ...rest] = json(atSub) as Assignment[];
    expect(rest).toEqual([]);
    expect(onlyReader).toMatchObject({
      scope: subScope,
      roleDefinitionName: 'Reader',
      // What az shows for a service principal: its application (client) id.
      principalName: app.clientId,
    });
    expect(onlyReader?.resourceGroup).toBeUndefined();
    expect(table.stdout.split('\n')[0]).toMatch(/^Principal +Role +Scope$/);
    for (const line of [
      `${app.clientId}  Key Vault Secrets User     ${groupScope}`,
      `${app.clientId}  Reader                     ${subScope}`,
      `${app.clientId}  Managed Identity Operator  ${app.id}`,
    ]) {
      expect(table.stdout).toContain(line);
    }
    expect(inherited.stdout).toBe('Key Vault Secrets User\nReader\n');
    expect(json(reader) as string[]).toEqual([subScope]);
    expect(failure(badQuery, 2)).toBe(
      "tessera: argument --query: invalid jmespath_type value: '[?'",
    );

    const readerId = onlyReader?.id ?? '';
    const [byFilter, byIds, nothing] = await Promise.all([
      tessera(
        'role',
        'assignment',
        'delete',
        ...['--assignee', app.principalId, '--role', 'Key Vault Secrets User', '-g', 'az-app'],
      ),
      tessera('role', 'assignment', 'delete', '--ids', readerId),
      tessera('role', 'assignment', 'delete'),
    ]);
    expect([byFilter.code, byFilter.stdout, byFilter.stderr]).toEqual([0, '', '']);
    expect([byIds.code, byIds.stdout, byIds.stderr]).toEqual([0, '', '']);
    expect(failure(nothing, 2)).toBe(
      'error: pass --ids, or at least one of --assignee, --role, --scope, -g',
    );
    const left = await tessera(
      'role',
      'assignment',
      'list',
      ...['--all', '--assignee', app.principalId, '--query', '[].roleDefinitionName', '-o', 'tsv'],
    );
    expect(left.stdout).toBe('Managed Identity Operator\n');
  });

  it("group delete --yes removes the group's identities with it", async () => {
    const deleted = await tessera('group', 'delete', '-n', 'az-app', '-y');
    expect(deleted.code).toBe(0);
    const [identities, show] = await Promise.all([
      tessera('identity', 'list'),
      tessera('identity', 'show', '--ids', app.id),
    ]);
    expect(json(identities) as unknown[]).toEqual([]);
    expect(failure(show, 1)).toBe(
      "tessera: ResourceGroupNotFound: Resource group 'az-app' could not be found.",
    );
  });
});
