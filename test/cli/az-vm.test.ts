// `tessera vm`, `vm identity` and `vm extension` as an operator runs them, against one real `tessera server`.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  json,
  oneLine,
  type Result,
  run,
  type ServerUnderTest,
  startServer,
  stop,
} from './cli-harness.js';
import { adminArm } from '../fixtures/admin.js';

const GROUP = 'vm-cli';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let dir: string;
let server: ServerUnderTest;
let sub: string;
/** The id of the agent host `host-1`, which `vm create --host host-1` places VMs on. */
let hostId: string;

/** Runs `tessera ...args` against the server as its administrator. */
const tessera = (...args: string[]): Promise<Result> => run([...args, ...server.flags]);
/** `tessera vm identity <verb>` on the VM the identity tests use. */
const onIdent = (verb: string, ...rest: string[]): Promise<Result> =>
  tessera('vm', 'identity', verb, '-g', GROUP, '-n', 'ident', ...rest);

const uaiId = (name: string): string =>
  `/subscriptions/${sub}/resourceGroups/${GROUP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;

/** The group and identities the commands use, made through ARM (not through other commands). */
async function arrange(): Promise<void> {
  const admin = await adminArm(server.url, join(server.dataDir, 'admin.json'));
  const arm = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const answer = await admin.call(method, path, body);
    if (answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status}`);
    return answer.body;
  };
  sub = admin.subscriptionId;
  hostId = ((await arm('PUT', '/agent/v1/hosts/host-1', {})) as { id: string }).id;
  await arm('PUT', `/subscriptions/${sub}/resourceGroups/${GROUP}?api-version=2021-04-01`, {
    location: 'northeurope',
  });
  await Promise.all(
    ['app-id', 'other-id'].map((name) =>
      arm('PUT', `${uaiId(name)}?api-version=2023-01-31`, { location: 'northeurope' }),
    ),
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-az-vm-'));
  server = await startServer(join(dir, 'server'));
  await arrange();
}, 120_000);

afterAll(async () => {
  await stop(server.child);
  await rm(dir, { recursive: true, force: true });
});

describe('tessera vm', { timeout: 300_000 }, () => {
  it('creates VMs with identities and placement, then shows and lists them', async () => {
    const [web, api, plain, again] = await Promise.all([
      tessera(
        'vm',
        'create',
        '-g',
        GROUP,
        '-n',
        'web',
        '--assign-identity',
        '--host',
        'host-1',
        '--private-ip',
        '10.1.0.4',
        'fd00::4',
      ),
      tessera(
        'vm',
        'create',
        '-g',
        GROUP,
        '-n',
        'api',
        '-l',
        'westeurope',
        '--assign-identity',
        '[system]',
        'app-id',
      ),
      tessera('vm', 'create', '-g', GROUP, '-n', 'plain', '-o', 'none'),
      // A user-assigned identity by its resource id, without a system-assigned one.
      tessera('vm', 'create', '-g', GROUP, '-n', 'batch', '--assign-identity', uaiId('other-id')),
    ]);

    // az's summary of a new VM: the group's location by default, az's identity shape.
    const created = json(web);
    expect(created).toMatchObject({
      id: `/subscriptions/${sub}/resourceGroups/${GROUP}/providers/Microsoft.Compute/virtualMachines/web`,
      location: 'northeurope',
      resourceGroup: GROUP,
      privateIpAddress: '10.1.0.4,fd00::4',
      identity: { userAssignedIdentities: {} },
    });
    expect((created.identity as { systemAssignedIdentity: string }).systemAssignedIdentity).toMatch(
      GUID,
    );
    const withBoth = json(api) as { location: string; identity: Record<string, unknown> };
    expect(withBoth.location).toBe('westeurope');
    expect(withBoth.identity.systemAssignedIdentity).toMatch(GUID);
    expect(Object.keys(withBoth.identity.userAssignedIdentities as object)).toEqual([
      uaiId('app-id'),
    ]);
    expect([plain.code, plain.stdout, plain.stderr]).toEqual([0, '', '']);
    const userOnly = json(again) as { identity: Record<string, unknown> };
    expect(userOnly.identity.systemAssignedIdentity).toBe('');
    expect(userOnly.identity.userAssignedIdentities).toEqual({
      [uaiId('other-id')]: {
        principalId: expect.stringMatching(GUID) as unknown,
        clientId: expect.stringMatching(GUID) as unknown,
      },
    });

    const webId = created.id as string;
    const [show, byIds, table, list, all, listTable] = await Promise.all([
      tessera('vm', 'show', '-g', GROUP, '-n', 'web'),
      tessera('vm', 'show', '--ids', webId, '--query', 'identity.type', '-o', 'tsv'),
      tessera('vm', 'show', '-g', GROUP, '-n', 'web', '-o', 'table'),
      tessera('vm', 'list', '-g', GROUP, '--query', '[].name', '-o', 'tsv'),
      tessera('vm', 'list', '--query', 'length(@)'),
      tessera('vm', 'list', '-g', GROUP, '-o', 'table'),
    ]);
    expect(json(show)).toMatchObject({
      name: 'web',
      resourceGroup: GROUP,
      type: 'Microsoft.Compute/virtualMachines',
      identity: { type: 'SystemAssigned' },
      properties: {
        provisioningState: 'Succeeded',
        tessera: { hostId, privateIpAddresses: ['10.1.0.4', 'fd00::4'] },
      },
      hostName: 'host-1',
    });
    expect(byIds.stdout).toBe('SystemAssigned\n');
    expect(table.stdout).toBe(
      'Name  ResourceGroup  Location     Host\n----  -------------  -----------  ------\nweb   vm-cli         northeurope  host-1\n',
    );
    expect(list.stdout.trimEnd().split('\n').sort()).toEqual(['api', 'batch', 'plain', 'web']);
    expect(all.stdout).toBe('4\n');
    expect(listTable.stdout.split('\n')[0]).toBe('Name   ResourceGroup  Location     Host');
    expect(listTable.stdout.trimEnd().split('\n')).toHaveLength(6);
  });

  it('assigns, shows and removes identities as az vm identity does', async () => {
    await tessera('vm', 'create', '-g', GROUP, '-n', 'ident', '-o', 'none');
    const system = await onIdent('assign');
    const assigned = json(system) as {
      systemAssignedIdentity: string;
      userAssignedIdentities: object;
    };
    expect(assigned.systemAssignedIdentity).toMatch(GUID);
    expect(assigned.userAssignedIdentities).toEqual({});

    // User-assigned ones join; the system-assigned one stays.
    const both = json(await onIdent('assign', '--identities', 'app-id', uaiId('other-id'))) as {
      systemAssignedIdentity: string;
      userAssignedIdentities: object;
    };
    expect(both.systemAssignedIdentity).toBe(assigned.systemAssignedIdentity);
    expect(Object.keys(both.userAssignedIdentities).sort()).toEqual([
      uaiId('app-id'),
      uaiId('other-id'),
    ]);

    const [shown, principal] = await Promise.all([
      onIdent('show'),
      onIdent('show', '--query', 'principalId'),
    ]);
    expect(json(shown)).toMatchObject({ type: 'SystemAssigned, UserAssigned' });
    expect(JSON.parse(principal.stdout)).toBe(assigned.systemAssignedIdentity);

    // remove prints ARM's identity object, as az does.
    const removed = json(await onIdent('remove', '--identities', 'app-id')) as {
      type: string;
      userAssignedIdentities: object;
    };
    expect(removed.type).toBe('SystemAssigned, UserAssigned');
    expect(Object.keys(removed.userAssignedIdentities)).toEqual([uaiId('other-id')]);

    const notThere = await onIdent('remove', '--identities', 'app-id');
    expect(notThere.code).toBe(1);
    expect(oneLine(notThere)).toBe(
      `tessera: InvalidArgument: '${uaiId('app-id').toLowerCase()}' are not associated with 'ident'`,
    );

    const withoutSystem = json(await onIdent('remove', '--identities', '[system]')) as {
      type: string;
    };
    expect(withoutSystem.type).toBe('UserAssigned');
    const last = await onIdent('remove', '--identities', 'other-id');
    // No identity left: ARM leaves `identity` out, so az prints nothing.
    expect([last.code, last.stdout, last.stderr]).toEqual([0, '', '']);
    const none = await onIdent('show');
    expect([none.code, none.stdout]).toEqual([0, '']);
  });

  it('sets, lists and deletes extensions, printing the server warning for the deprecated one', async () => {
    await tessera('vm', 'create', '-g', GROUP, '-n', 'ext', '-l', 'westeurope', '-o', 'none');
    const file = join(dir, 'settings.json');
    await writeFile(file, '{"commandToExecute":"echo hi"}');
    const [legacy, custom] = await Promise.all([
      tessera(
        'vm',
        'extension',
        'set',
        '-g',
        GROUP,
        '--vm-name',
        'ext',
        '-n',
        'ManagedIdentityExtensionForLinux',
        '--publisher',
        'Microsoft.ManagedIdentity',
        '--settings',
        '{"port":50342}',
      ),
      tessera(
        'vm',
        'extension',
        'set',
        '-g',
        GROUP,
        '--vm-name',
        'ext',
        '-n',
        'CustomScript',
        '--publisher',
        'Microsoft.Azure.Extensions',
        '--version',
        '2.1',
        '--settings',
        `@${file}`,
        '--protected-settings',
        '{"fileUris":["https://example.invalid/s"]}',
      ),
    ]);
    expect(legacy.code).toBe(0);
    expect(oneLine(legacy)).toMatch(
      /^WARNING: The Microsoft\.ManagedIdentity VM extension is deprecated; .*169\.254\.169\.254/,
    );
    expect(JSON.parse(legacy.stdout)).toMatchObject({
      name: 'ManagedIdentityExtensionForLinux',
      location: 'westeurope',
      resourceGroup: GROUP,
      properties: {
        publisher: 'Microsoft.ManagedIdentity',
        type: 'ManagedIdentityExtensionForLinux',
        typeHandlerVersion: '1.0',
        autoUpgradeMinorVersion: true,
        settings: { port: 50342 },
      },
    });
    const script = json(custom) as { properties: Record<string, unknown> };
    expect(script.properties).toMatchObject({ settings: { commandToExecute: 'echo hi' } });
    expect(script.properties.protectedSettings).toBeUndefined();

    const list = ['vm', 'extension', 'list', '-g', GROUP, '--vm-name', 'ext'];
    const [names, table] = await Promise.all([
      tessera(...list, '--query', '[].name', '-o', 'tsv'),
      tessera(...list, '-o', 'table'),
    ]);
    expect(names.stdout.trimEnd().split('\n').sort()).toEqual([
      'CustomScript',
      'ManagedIdentityExtensionForLinux',
    ]);
    expect(table.stdout.split('\n')[0]).toMatch(
      /^Name +ProvisioningState +Publisher +Version +AutoUpgradeMinorVersion$/,
    );
    expect(table.stdout).toMatch(
      /CustomScript +Succeeded +Microsoft\.Azure\.Extensions +2\.1 +True/,
    );

    const deleted = await tessera(
      'vm',
      'extension',
      'delete',
      '-g',
      GROUP,
      '--vm-name',
      'ext',
      '-n',
      'CustomScript',
    );
    expect([deleted.code, deleted.stdout, deleted.stderr]).toEqual([0, '', '']);
    expect((await tessera(...list, '--query', '[].name', '-o', 'tsv')).stdout).toBe(
      'ManagedIdentityExtensionForLinux\n',
    );
  });

  it('deletes a VM only when confirmed', async () => {
    await tessera('vm', 'create', '-g', GROUP, '-n', 'doomed', '--assign-identity', '-o', 'none');
    const unconfirmed = await tessera('vm', 'delete', '-g', GROUP, '-n', 'doomed');
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(
      /^error: unable to prompt for confirmation as no tty available: pass --yes$/m,
    );
    const deleted = await tessera('vm', 'delete', '-g', GROUP, '-n', 'doomed', '--yes');
    expect([deleted.code, deleted.stdout, deleted.stderr]).toEqual([0, '', '']);
    const gone = await tessera('vm', 'show', '-g', GROUP, '-n', 'doomed');
    expect(gone.code).toBe(1);
  });

  it('reports ARM errors in one line with status 1 and usage mistakes with status 2', async () => {
    const [missing, unknownUai, noGroup, extensionNoVm, noFlag, mixed, badSettings] =
      await Promise.all([
        tessera('vm', 'show', '-g', GROUP, '-n', 'nope'),
        tessera('vm', 'create', '-g', GROUP, '-n', 'lost', '--assign-identity', 'no-such-identity'),
        tessera('vm', 'create', '-g', 'no-such-group', '-n', 'x', '-l', 'northeurope'),
        tessera(
          'vm',
          'extension',
          'set',
          '-g',
          GROUP,
          '--vm-name',
          'nope',
          '-n',
          'X',
          '--publisher',
          'P',
        ),
        tessera('vm', 'create', '-n', 'x'),
        tessera('vm', 'show', '-g', GROUP, '--ids', '/subscriptions/x'),
        tessera(
          'vm',
          'extension',
          'set',
          '-g',
          GROUP,
          '--vm-name',
          'web',
          '-n',
          'X',
          '--publisher',
          'P',
          '--settings',
          '{not json',
        ),
      ]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(oneLine(missing)).toMatch(
      /^tessera: ResourceNotFound: The Resource 'Microsoft\.Compute\/virtualMachines\/nope' under resource group 'vm-cli' was not found\./,
    );
    expect(unknownUai.code).toBe(1);
    expect(oneLine(unknownUai)).toContain(
      `tessera: FailedIdentityOperation: Identity operation for resource '/subscriptions/${sub}/resourceGroups/${GROUP}/providers/Microsoft.Compute/virtualMachines/lost' failed`,
    );
    expect(unknownUai.stderr).toContain(`Resource '${uaiId('no-such-identity')}' was not found.`);
    expect(noGroup.code).toBe(1);
    expect(oneLine(noGroup)).toBe(
      "tessera: ResourceGroupNotFound: Resource group 'no-such-group' could not be found.",
    );
    expect(extensionNoVm.code).toBe(1);
    expect(oneLine(extensionNoVm)).toMatch(/^tessera: ResourceNotFound: .*virtualMachines\/nope'/);
    expect(noFlag.code).toBe(2);
    expect(noFlag.stderr).toMatch(/required option '-g, --resource-group <group>' not specified/);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/pass either --ids or --resource-group and --name, not both/);
    expect(badSettings.code).toBe(2);
    expect(badSettings.stderr).toMatch(/--settings: not valid JSON/);
  });
});
