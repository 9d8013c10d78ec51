// Compatibility: Debian's az CLI (azure-cli 2.45) deploying ARM templates against real `tessera server` and
// `tessera agent` processes: the template of Azure's guide to the VM extension (a VM with a
// system-assigned identity, a user-assigned identity attached, a role for the VM's principal read
// with reference(…, 'Full'), and the extension resource as the guide writes it), then what-if,
// validate's errors, and an exported group deployed again elsewhere.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GUIDE_TEMPLATE } from '../../fixtures/guide-template.js';
import { skipForMissingTools } from '../../fixtures/system-tools.js';
import { imdsToken } from '../imds-probe.js';
import {
  closeStarted,
  startTesseraAgent,
  startTesseraServer,
  type TesseraAgent,
  type TesseraServer,
} from '../processes.js';
import { closeAll } from '../tessera-cli.js';
import {
  type AzProfile,
  AZ_TOOL,
  az,
  azJson,
  CLOUD,
  groupPath,
  makeGroup,
  newProfile,
  removeProfiles,
  sameId,
  succeeded,
} from './harness.js';

const GROUP = 'az-deploy-rg';
const ARM_AUDIENCE = 'https://management.core.windows.net/';
const VM_ADDRESS = '127.0.0.61';
/** What `az deployment group create` prints, as far as the test reads it. */
interface AzDeployment {
  readonly name: string;
  readonly resourceGroup: string;
  readonly properties: {
    readonly provisioningState: string;
    readonly outputs: Record<string, { type: string; value: string }>;
    readonly outputResources: { id: string }[];
    readonly correlationId: string;
  };
}

describe.skipIf(skipForMissingTools('test/compat/az (deployments)', [AZ_TOOL]))(
  'compatibility: az deployment group (Debian azure-cli 2.45) with tessera server and agent processes',
  () => {
    let tessera: TesseraServer | undefined;
    let agent: TesseraAgent | undefined;
    let profile: AzProfile | undefined;
    let workDir = '';

    const server = (): TesseraServer => {
      if (tessera === undefined) throw new Error('tessera server did not start');
      return tessera;
    };
    const admin = (): AzProfile => {
      if (profile === undefined) throw new Error('az did not sign in');
      return profile;
    };

    beforeAll(async () => {
      const t = await startTesseraServer();
      tessera = t;
      agent = await startTesseraAgent(t, 'az-deploy-host');
      await makeGroup(t, GROUP);
      const p = await newProfile(t.caFile);
      workDir = p.dir;
      succeeded(
        await az(p, [
          'cloud',
          'register',
          '-n',
          CLOUD,
          '--endpoint-resource-manager',
          `${t.httpsUrl}/`,
        ]),
      );
      succeeded(await az(p, ['cloud', 'set', '-n', CLOUD]));
      succeeded(
        await az(p, [
          'login',
          '--service-principal',
          '-u',
          t.adminClientId,
          '-p',
          t.adminSecret,
          '--tenant',
          t.tenantId,
        ]),
      );
      profile = p;
    }, 120_000);

    afterAll(async () => {
      await closeAll(closeStarted, removeProfiles);
    }, 30_000);

    it(
      "az deployment group create deploys the guide's template; IMDS serves both identities and the shim answers on the extension's port",
      { timeout: 120_000 },
      async () => {
        const t = server();
        const host = agent!;
        const file = join(workDir, 'guide.json');
        await writeFile(file, GUIDE_TEMPLATE);
        const deployment = await azJson<AzDeployment>(admin(), [
          'deployment',
          'group',
          'create',
          '-g',
          GROUP,
          '--template-file',
          file,
          '--parameters',
          `hostId=${host.hostId}`,
          `privateIp=${VM_ADDRESS}`,
        ]);
        expect(deployment).toMatchObject({
          name: 'guide',
          resourceGroup: GROUP,
          properties: { provisioningState: 'Succeeded' },
        });
        expect(deployment.properties.outputResources).toHaveLength(4);
        const { systemPrincipalId, userClientId } = deployment.properties.outputs;

        // The VM's system-assigned identity, then the user-assigned one by client id.
        const system = await imdsToken(host.imdsUrl, { from: VM_ADDRESS, resource: ARM_AUDIENCE });
        expect(decodeJwt(system.access_token).oid).toBe(systemPrincipalId?.value);
        const user = await imdsToken(host.imdsUrl, {
          from: VM_ADDRESS,
          resource: ARM_AUDIENCE,
          selector: { client_id: userClientId?.value ?? '' },
        });
        expect(user.client_id).toBe(userClientId?.value);
        expect(
          sameId(
            decodeJwt(user.access_token).xms_mirid,
            `${groupPath(t, GROUP)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/guide-app-identity`,
          ),
        ).toBe(true);

        // The extension's port: the shim in the VM answers there, through IMDS.
        const shim = await host.startExtension(VM_ADDRESS, 50342);
        expect(new URL(shim).port).toBe('50342');
        const legacy = await fetch(
          `${shim}/oauth2/token?resource=${encodeURIComponent(ARM_AUDIENCE)}`,
          {
            headers: { Metadata: 'true' },
          },
        );
        expect(legacy.status).toBe(200);
        const legacyToken = (await legacy.json()) as { access_token: string };
        expect(decodeJwt(legacyToken.access_token).oid).toBe(systemPrincipalId?.value);

        // The role assignment names the VM's principal, read with reference(…, 'Full').
        const grants = await t.arm(
          'GET',
          `${groupPath(t, GROUP)}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01`,
        );
        const principals = (
          grants.body as { value: { properties: { principalId: string } }[] }
        ).value.map((g) => g.properties.principalId);
        expect(principals).toContain(systemPrincipalId?.value);

        // az's own reads of it.
        const shown = await azJson<AzDeployment>(admin(), [
          'deployment',
          'group',
          'show',
          '-g',
          GROUP,
          '-n',
          'guide',
        ]);
        expect(shown.properties.correlationId).toBe(deployment.properties.correlationId);
        const operations = await azJson<{ properties: { provisioningState: string } }[]>(admin(), [
          'deployment',
          'operation',
          'group',
          'list',
          '-g',
          GROUP,
          '-n',
          'guide',
        ]);
        expect(operations.map((op) => op.properties.provisioningState)).toEqual(
          Array(4).fill('Succeeded'),
        );
      },
    );

    it(
      'az deployment group what-if shows the changes a second template would make to the group',
      { timeout: 60_000 },
      async () => {
        const file = join(workDir, 'second.json');
        await writeFile(
          file,
          JSON.stringify({
            $schema:
              'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
            contentVersion: '1.0.0.0',
            resources: [
              {
                type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
                apiVersion: '2023-01-31',
                name: 'guide-app-identity',
                location: '[resourceGroup().location]',
                tags: { team: 'payments' },
              },
              {
                type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
                apiVersion: '2023-01-31',
                name: 'second-identity',
                location: '[resourceGroup().location]',
              },
            ],
          }),
        );
        const run = succeeded(
          await az(admin(), [
            'deployment',
            'group',
            'what-if',
            '-g',
            GROUP,
            '--template-file',
            file,
          ]),
        );
        expect(run.stdout).toContain(
          'Resource and property changes are indicated with these symbols:',
        );
        expect(run.stdout).toMatch(
          /\+ Microsoft\.ManagedIdentity\/userAssignedIdentities\/second-identity \[2023-01-31\]/,
        );
        expect(run.stdout).toMatch(
          /~ Microsoft\.ManagedIdentity\/userAssignedIdentities\/guide-app-identity \[2023-01-31\]/,
        );
        expect(run.stdout).toMatch(/\+ tags\.team:\s+"payments"/);
        expect(run.stdout).toMatch(/\* Microsoft\.Compute\/virtualMachines\/guide-vm/);
        expect(run.stdout).toContain('Resource changes: 1 to create, 1 to modify, 1 to ignore.');
        // Nothing was deployed.
        const t = server();
        const second = await t.arm(
          'GET',
          `${groupPath(t, GROUP)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/second-identity?api-version=2023-01-31`,
        );
        expect(second.status).toBe(404);
      },
    );

    it(
      "az deployment group validate and create print ARM's InvalidTemplate for a template fault, with its line",
      { timeout: 60_000 },
      async () => {
        const file = join(workDir, 'broken.json');
        await writeFile(
          file,
          [
            '{',
            '  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",',
            '  "contentVersion": "1.0.0.0",',
            '  "resources": [',
            '    { "type": "Microsoft.ManagedIdentity/userAssignedIdentities", "apiVersion": "2023-01-31",',
            '      "name": "[nosuch(\'x\')]", "location": "westeurope" }',
            '  ]',
            '}',
          ].join('\n'),
        );
        for (const verb of ['validate', 'create']) {
          const run = await az(admin(), [
            'deployment',
            'group',
            verb,
            '-g',
            GROUP,
            '--template-file',
            file,
          ]);
          expect(run.code).toBe(1);
          expect(run.stderr).toContain('InvalidTemplate');
          expect(run.stderr).toContain("The template function 'nosuch' is not valid.");
          expect(run.stderr).toContain("at line '5' and column '5'");
        }
      },
    );

    it(
      'az group export, then az deployment group create of the export into a new group: the same shape, served by IMDS',
      { timeout: 120_000 },
      async () => {
        const t = server();
        const host = agent!;
        const exported = await azJson<{ resources: { type: string }[] }>(admin(), [
          'group',
          'export',
          '-n',
          GROUP,
          '--include-parameter-default-value',
        ]);
        expect(exported.resources.map((r) => r.type).sort()).toEqual([
          'Microsoft.Authorization/roleAssignments',
          'Microsoft.Compute/virtualMachines',
          'Microsoft.Compute/virtualMachines/extensions',
          'Microsoft.ManagedIdentity/userAssignedIdentities',
        ]);
        const file = join(workDir, 'exported.json');
        await writeFile(file, JSON.stringify(exported, null, 2));
        // A VM's address is unique on its host: the original goes first.
        succeeded(await az(admin(), ['group', 'delete', '-n', GROUP, '--yes']));
        succeeded(
          await az(admin(), ['group', 'create', '-n', 'az-deploy-copy', '-l', 'westeurope']),
        );
        const copy = await azJson<AzDeployment>(admin(), [
          'deployment',
          'group',
          'create',
          '-g',
          'az-deploy-copy',
          '--template-file',
          file,
        ]);
        expect(copy.properties.provisioningState).toBe('Succeeded');
        const vm = await t.arm(
          'GET',
          `${groupPath(t, 'az-deploy-copy')}/providers/Microsoft.Compute/virtualMachines/guide-vm?api-version=2023-03-01`,
        );
        const identity = (vm.body as { identity: { type: string; principalId: string } }).identity;
        expect(identity.type).toBe('SystemAssigned, UserAssigned');
        const token = await imdsToken(host.imdsUrl, { from: VM_ADDRESS, resource: ARM_AUDIENCE });
        expect(decodeJwt(token.access_token).oid).toBe(identity.principalId);
        const grants = await t.arm(
          'GET',
          `${groupPath(t, 'az-deploy-copy')}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01`,
        );
        const principals = (
          grants.body as { value: { properties: { principalId: string } }[] }
        ).value.map((g) => g.properties.principalId);
        expect(principals).toContain(identity.principalId);
      },
    );
  },
);
