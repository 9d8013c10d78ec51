// `tessera vmss` and `tessera token get` against one real `tessera up`: its ARM for scale sets, its IMDS for tokens.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Child,
  json,
  oneLine,
  type Result,
  run,
  start,
  stop,
  until,
  upArgs,
} from './cli-harness.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let dir: string;
let dataDir: string;
let up: Child;
let serverUrl: string;
let imds: string;
let demo: {
  resourceGroup: string;
  vmResourceId: string;
  identityResourceId: string;
  identityClientId: string;
};

/** Runs `tessera ...args` against the running server as its administrator. */
const tessera = (...args: string[]): Promise<Result> =>
  run([...args, '--data-dir', dataDir, '--server', serverUrl]);

/** Runs `tessera token get ...args` against the agent's IMDS, with no server or credentials. */
const token = (...args: string[]): Promise<Result> =>
  run(['token', 'get', '--imds', imds, ...args]);

/** The claims of a JWT (unchecked: the issuer's own suites check signatures). */
function claims(jwt: string): Record<string, unknown> {
  const payload = jwt.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-az-vmss-'));
  dataDir = join(dir, 'data');
  up = start(upArgs(dataDir));
  await until(up, /ready at (\S+)/);
  serverUrl = /ready at (\S+)/.exec(up.output.stdout)?.[1] ?? '';
  const file = JSON.parse(await readFile(join(dataDir, 'up.json'), 'utf8')) as {
    imds: string;
    demo: typeof demo;
  };
  imds = file.imds;
  demo = file.demo;
}, 120_000);

afterAll(async () => {
  if (up.exitCode === null) await stop(up);
  await rm(dir, { recursive: true, force: true });
});

describe('tessera vmss', { timeout: 300_000 }, () => {
  it('creates scale sets, shows, lists, changes identities and deletes them', async () => {
    const group = demo.resourceGroup;
    const [workers, empty, badCount] = await Promise.all([
      tessera('vmss', 'create', '-g', group, '-n', 'workers', '--assign-identity'),
      tessera('vmss', 'create', '-g', group, '-n', 'empty', '--instance-count', '0', '-o', 'none'),
      tessera('vmss', 'create', '-g', group, '-n', 'x', '--instance-count', 'many'),
    ]);
    // az's shape: the scale set's properties under `vmss`, with az's identity summary.
    const created = json(workers).vmss as Record<string, unknown>;
    expect(created).toMatchObject({
      provisioningState: 'Succeeded',
      upgradePolicy: { mode: 'Manual' },
      identity: { userAssignedIdentities: {} },
    });
    expect((created.identity as Record<string, string>).systemAssignedIdentity).toMatch(GUID);
    expect([empty.code, empty.stdout]).toEqual([0, '']);
    expect(badCount.code).toBe(2);
    expect(badCount.stderr).toMatch(/--instance-count.*expected an integer from 0/);

    const [shown, capacity, listed, table] = await Promise.all([
      tessera('vmss', 'show', '-g', group, '-n', 'workers'),
      tessera('vmss', 'show', '-g', group, '-n', 'empty', '--query', 'sku.capacity', '-o', 'tsv'),
      tessera('vmss', 'list', '-g', group, '--query', '[].name', '-o', 'tsv'),
      tessera('vmss', 'list', '-o', 'table'),
    ]);
    // As az: two instances unless told otherwise, and the group's location.
    expect(json(shown)).toMatchObject({
      name: 'workers',
      resourceGroup: group,
      sku: { name: 'Standard_DS1_v2', capacity: 2 },
      identity: { type: 'SystemAssigned' },
    });
    expect(capacity.stdout).toBe('0\n');
    expect(listed.stdout.trimEnd().split('\n').sort()).toEqual(['empty', 'workers']);
    expect(table.stdout.split('\n')[0]).toMatch(
      /^Name +ResourceGroup +Location +Capacity +UpgradePolicy$/,
    );
    expect(table.stdout).toMatch(/workers +demo-rg +\S+ +2 +Manual/);

    const assigned = json(
      await tessera(
        'vmss',
        'identity',
        'assign',
        '-g',
        group,
        '-n',
        'workers',
        '--identities',
        'demo-identity',
      ),
    );
    expect(assigned.systemAssignedIdentity).toMatch(GUID);
    expect(assigned.userAssignedIdentities).toEqual({
      [demo.identityResourceId]: {
        clientId: demo.identityClientId,
        principalId: expect.stringMatching(GUID) as unknown,
      },
    });
    const removed = json(await tessera('vmss', 'identity', 'remove', '-g', group, '-n', 'workers'));
    expect(removed.type).toBe('UserAssigned');
    const shownIdentity = await tessera(
      'vmss',
      'identity',
      'show',
      '-g',
      group,
      '-n',
      'workers',
      '--query',
      'type',
      '-o',
      'tsv',
    );
    expect(shownIdentity.stdout).toBe('UserAssigned\n');

    const [unknown, deleted] = await Promise.all([
      tessera('vmss', 'identity', 'assign', '-g', group, '-n', 'empty', '--identities', 'ghost'),
      tessera('vmss', 'delete', '-g', group, '-n', 'workers'),
    ]);
    expect(unknown.code).toBe(1);
    expect(oneLine(unknown)).toMatch(
      /^tessera: FailedIdentityOperation: .*userAssignedIdentities\/ghost' was not found\./,
    );
    expect([deleted.code, deleted.stdout, deleted.stderr]).toEqual([0, '', '']);
    const gone = await tessera('vmss', 'show', '-g', group, '-n', 'workers');
    expect(gone.code).toBe(1);
    expect(oneLine(gone)).toMatch(
      /^tessera: ResourceNotFound: The Resource 'Microsoft\.Compute\/virtualMachineScaleSets\/workers' under resource group 'demo-rg' was not found\./,
    );
  });
});

describe('tessera token get', { timeout: 300_000 }, () => {
  it("gets the VM's tokens from IMDS as the documented curl does", async () => {
    const [system, bare, byClientId, vault] = await Promise.all([
      token(),
      token('--query', 'access_token', '-o', 'tsv'),
      token('--client-id', demo.identityClientId),
      token(
        '--resource',
        'https://vault.azure.net',
        '--query',
        '[resource, token_type]',
        '-o',
        'tsv',
      ),
    ]);
    const answer = json(system);
    expect(answer).toMatchObject({
      resource: 'https://management.azure.com/',
      token_type: 'Bearer',
    });
    expect(answer.expires_on).toMatch(/^\d+$/);
    // The system-assigned identity of the VM this machine is: its token names the VM.
    expect(claims(answer.access_token as string)).toMatchObject({
      aud: 'https://management.azure.com/',
      xms_mirid: demo.vmResourceId,
    });
    expect(bare.code).toBe(0);
    expect(bare.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(json(byClientId).client_id).toBe(demo.identityClientId);
    expect(vault.stdout).toBe('https://vault.azure.net\nBearer\n');
  });

  it("prints IMDS's error in one line with status 1, and refuses two selectors", async () => {
    const [unknown, both, unreachable] = await Promise.all([
      token('--client-id', '00000000-0000-0000-0000-000000000000'),
      token('--client-id', 'a', '--object-id', 'b'),
      run(['token', 'get', '--imds', 'http://127.0.0.1:9']),
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe('');
    expect(oneLine(unknown)).toBe('tessera: invalid_request: Identity not found');
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(
      /option '--client-id <id>' cannot be used with option '--object-id <id>'/,
    );
    expect(unreachable.code).toBe(1);
    expect(oneLine(unreachable)).toMatch(
      /^tessera: ServiceUnreachable: cannot reach http:\/\/127\.0\.0\.1:9/,
    );
  });
});
