// `tessera migrate scan` as a user runs it: a copy of the fixture tree, the report, the exit status, --fix.
import {
  chmod,
  cp,
  mkdir,
  mkdtemp,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startArm } from '../server/arm-harness.js';
import { deploy } from '../server/deployment-harness.js';
import { ROOT, run } from './cli-harness.js';

const FIXTURES = join(ROOT, 'test/fixtures/migrate');
const IMDS = 'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01';
const MANUAL = 'remove this step: IMDS needs no extension (not fixed: scripts are changed by hand)';
const ARM = 'remove it and the references to it: IMDS needs no extension';

const REMAINING = {
  base: `app/TokenClient.cs:21: legacy-host: http://localhost:50342/ -> ${IMDS} (not fixed: not the token URL; change the caller to the IMDS path and api-version)`,
  ps1: `deploy/enable-identity.ps1:7: powershell-extension: Set-AzVMExtension (Microsoft.ManagedIdentity/ManagedIdentityExtensionForWindows) -> ${MANUAL}`,
  psRm: `deploy/enable-identity.ps1:11: powershell-extension: Set-AzureRmVMExtension (Microsoft.ManagedIdentity/ManagedIdentityExtensionForLinux) -> ${MANUAL}`,
  az: `deploy/enable-identity.sh:6: az-cli-extension: az vm extension set (Microsoft.ManagedIdentity/ManagedIdentityExtensionForLinux) -> ${MANUAL}`,
  post: `scripts/get-token.sh:13: legacy-url: http://localhost:50342/oauth2/token -> ${IMDS} (not fixed: curl POSTs a form; IMDS takes GET with the query string, as curl -G sends it)`,
  noHeader: `scripts/get-token.sh:16: legacy-url: http://localhost:50342/oauth2/token?resource=https://storage.azure.com/ -> ${IMDS}&resource=https://storage.azure.com/ (not fixed: curl sends no Metadata: true header, which IMDS requires; add -H Metadata:true)`,
  commented: `templates/commented.json:13: arm-extension: Microsoft.ManagedIdentity/ManagedIdentityExtensionForLinux extension -> ${ARM} (not fixed: the file is not plain JSON, e.g. it has comments; edit it by hand)`,
};

const REPORT = [
  `app/TokenClient.cs:13: legacy-url: http://localhost:50342/oauth2/token?resource= -> ${IMDS}&resource=`,
  REMAINING.base,
  `app/token.js:6: legacy-url: http://localhost:50342/oauth2/token?resource= -> ${IMDS}&resource=`,
  `app/token.py:4: legacy-url: http://127.0.0.1:50342/oauth2/token?resource=https://vault.azure.net&object_id= -> ${IMDS}&resource=https://vault.azure.net&object_id=`,
  `app/token.py:9: legacy-url: http://localhost:50342/oauth2/token -> ${IMDS}`,
  REMAINING.ps1,
  REMAINING.psRm,
  REMAINING.az,
  `scripts/get-token.sh:6: legacy-url: http://localhost:50342/oauth2/token?resource=https://management.azure.com/ -> ${IMDS}&resource=https://management.azure.com/`,
  `scripts/get-token.sh:9: legacy-url: http://127.0.0.1:50342/oauth2/token?resource=https%3A%2F%2Fvault.azure.net&client_id= -> ${IMDS}&resource=https%3A%2F%2Fvault.azure.net&client_id=`,
  REMAINING.post,
  REMAINING.noHeader,
  REMAINING.commented,
  `templates/scale-set.json:16: arm-extension: Microsoft.ManagedIdentity/ManagedIdentityExtensionForLinux extension 'ManagedIdentityExtensionForLinux' -> ${ARM}`,
  `templates/vm-windows.json:8: arm-extension: Microsoft.ManagedIdentity/ManagedIdentityExtensionForWindows extension '[concat(variables('vmName'),'/ManagedIdentityExtensionForWindows')]' -> ${ARM}`,
  `templates/vm.json:18: arm-extension: Microsoft.ManagedIdentity/ManagedIdentityExtensionForLinux extension 'ManagedIdentityExtensionForLinux' -> ${ARM}`,
  `templates/vm.json:48: legacy-url: http://localhost:50342/oauth2/token?resource=https://vault.azure.net -> ${IMDS}&resource=https://vault.azure.net`,
  '17 use(s) of the deprecated extension in 10 file(s); 10 fixable with --fix',
];

const LEGACY = 'curl -H Metadata:true http://localhost:50342/oauth2/token?resource=r\n';

let dir: string;
let tree: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-migrate-'));
  tree = join(dir, 'tree');
  await cp(FIXTURES, tree, { recursive: true });
  // What the walk must skip, each holding a use it would otherwise report.
  for (const skipped of ['node_modules/legacy', '.git'])
    await mkdir(join(tree, skipped), { recursive: true });
  await writeFile(join(tree, 'node_modules/legacy/index.sh'), LEGACY);
  await writeFile(join(tree, '.git/config'), LEGACY);
  await writeFile(
    join(tree, 'app/blob.bin'),
    Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(LEGACY)]),
  );
  await writeFile(join(tree, 'app/huge.log'), LEGACY + 'x'.repeat(2 * 1024 * 1024));
  await writeFile(join(dir, 'outside.sh'), LEGACY);
  await symlink(join(dir, 'outside.sh'), join(tree, 'app/outside.sh'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const read = (path: string): Promise<string> => readFile(join(tree, path), 'utf8');
const fixture = (path: string): Promise<string> => readFile(join(FIXTURES, path), 'utf8');

describe('tessera migrate scan', () => {
  it('lists every use with its IMDS replacement, sorted, and exits 1', async () => {
    const result = await run(['migrate', 'scan', tree]);
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')).toEqual([...REPORT, '']);
    expect(result.code).toBe(1);
  });

  it('--fix rewrites what it can, keeps modes, leaves the rest and lists it', async () => {
    await chmod(join(tree, 'scripts/get-token.sh'), 0o750);
    const result = await run(['migrate', 'scan', tree, '--fix']);
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')).toEqual([
      'app/TokenClient.cs: fixed 1 use(s)',
      'app/token.js: fixed 1 use(s)',
      'app/token.py: fixed 2 use(s)',
      'scripts/get-token.sh: fixed 2 use(s)',
      'templates/scale-set.json: fixed 1 use(s)',
      'templates/vm-windows.json: fixed 1 use(s)',
      'templates/vm.json: fixed 2 use(s)',
      ...Object.values(REMAINING),
      '7 use(s) of the deprecated extension in 5 file(s); 0 fixable with --fix',
      '',
    ]);
    expect(result.code).toBe(1);

    expect((await stat(join(tree, 'scripts/get-token.sh'))).mode & 0o777).toBe(0o750);
    const script = await read('scripts/get-token.sh');
    expect(script).toContain(
      `curl -s -H Metadata:true '${IMDS}&resource=https://management.azure.com/'\n`,
    );
    expect(script).toContain(
      `curl -s "${IMDS}&resource=https%3A%2F%2Fvault.azure.net&client_id=$CLIENT_ID" \\\n`,
    );
    expect(script).toContain('curl -s http://localhost:50342/oauth2/token --data');
    expect(await read('app/token.py')).toBe(
      (await fixture('app/token.py'))
        .replace('http://127.0.0.1:50342/oauth2/token?', `${IMDS}&`)
        .replace('"http://localhost:50342/oauth2/token"', `"${IMDS}"`),
    );

    const vm = JSON.parse(await read('templates/vm.json')) as {
      resources: {
        resources?: unknown[];
        dependsOn?: string[];
        properties: { settings: unknown };
      }[];
    };
    expect(vm.resources[0]?.resources).toEqual([]);
    expect(vm.resources[1]?.dependsOn).toEqual([
      "[resourceId('Microsoft.Compute/virtualMachines', parameters('vmName'))]",
    ]);
    expect(vm.resources[1]?.properties.settings).toEqual({
      commandToExecute: `curl -s -H Metadata:true '${IMDS}&resource=https://vault.azure.net'`,
    });
    const windows = await read('templates/vm-windows.json');
    expect(windows).not.toMatch(/ManagedIdentityExtension|Microsoft\.ManagedIdentity"/);
    expect(windows).toContain('\n      "dependsOn": [],\n');
    expect(windows.endsWith('}\n')).toBe(true);
    expect(await read('templates/scale-set.json')).toContain('"provisionAfterExtensions": [],');

    // What --fix wrote deploys: each fixed template through ARM's deployments, as az would send it.
    const arm = await startArm();
    try {
      const group = `/subscriptions/${arm.sub}/resourceGroups/migrated`;
      await arm.arm('PUT', `${group}?api-version=2021-04-01`, {
        token: arm.admin,
        body: { location: 'westeurope' },
      });
      for (const name of ['vm', 'vm-windows', 'scale-set']) {
        const { status } = await deploy(arm, group, name, {
          template: JSON.parse(await read(`templates/${name}.json`)) as unknown,
        });
        expect([name, status]).toEqual([name, { status: 'Succeeded' }]);
      }
    } finally {
      await arm.close();
    }

    for (const untouched of [
      'templates/commented.json',
      'deploy/enable-identity.ps1',
      'deploy/enable-identity.sh',
      'app/clean.py',
    ]) {
      expect(await read(untouched)).toBe(await fixture(untouched));
    }
    expect(await readFile(join(dir, 'outside.sh'), 'utf8')).toBe(LEGACY);

    const again = await run(['migrate', 'scan', tree, '--fix']);
    expect(again.stdout.split('\n')).toEqual([
      ...Object.values(REMAINING),
      '7 use(s) of the deprecated extension in 5 file(s); 0 fixable with --fix',
      '',
    ]);
  });

  it('exits 0 on a clean tree and scans a single file by its name', async () => {
    const clean = await run(['migrate', 'scan', join(tree, 'app/clean.py')]);
    expect(clean).toMatchObject({ code: 0, stderr: '' });
    expect(clean.stdout).toBe(
      '0 use(s) of the deprecated extension in 0 file(s); 0 fixable with --fix\n',
    );

    const one = await run(['migrate', 'scan', join(tree, 'app/token.js')]);
    expect(one.code).toBe(1);
    expect(one.stdout.split('\n')[0]).toBe(
      `token.js:6: legacy-url: http://localhost:50342/oauth2/token?resource= -> ${IMDS}&resource=`,
    );
  });

  it('exits 2 on usage errors', async () => {
    const missing = await run(['migrate', 'scan', join(dir, 'nowhere')]);
    expect(missing).toMatchObject({
      code: 2,
      stdout: '',
      stderr: `tessera: cannot read ${join(dir, 'nowhere')}: ENOENT\n`,
    });
    const noPath = await run(['migrate', 'scan']);
    expect(noPath.code).toBe(2);
    expect(noPath.stderr).toContain("missing required argument 'path'");
  });

  it('shows an example in --help', async () => {
    const help = await run(['migrate', 'scan', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('tessera migrate scan . ');
    expect(help.stdout).toContain('--fix');
  });
});
