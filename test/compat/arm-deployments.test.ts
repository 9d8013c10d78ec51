// Compatibility: the real @azure/arm-resources deployments client (ResourceManagementClient, 2025-03-01)
// run in a child process against real `tessera server` and `tessera agent` processes: it validates
// and deploys the template of Azure's guide to the VM extension, lists its operations, runs a
// what-if and exports; IMDS then serves both identities the template made.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportedError } from './client-kit.js';
import { type ClientOutput, killClients, runClient } from './harness.js';
import { imdsToken } from './imds-probe.js';
import {
  closeStarted,
  startTesseraAgent,
  startTesseraServer,
  type TesseraAgent,
  type TesseraServer,
} from './processes.js';

const CLIENT_SCRIPT = new URL('./arm-deployments-client.ts', import.meta.url);
const GROUP = 'sdk-deploy-rg';
const VM_ADDRESS = '127.0.0.62';
const ARM_AUDIENCE = 'https://management.azure.com/';

interface Deployment {
  name: string;
  properties: {
    provisioningState: string;
    outputs: Record<string, { type: string; value: string }>;
    outputResources: { id: string }[];
    validatedResources?: { id: string }[];
    error?: { code: string; details: { code: string }[] };
  };
}

interface Results {
  validate: Deployment;
  created: Deployment;
  exists: boolean;
  operations: { state: string; type: string }[];
  listed: string[];
  exported: { template: { resources: unknown[] } };
  whatIf: { status: string; changes: { changeType: string; resourceId: string }[] };
  failed: { error?: ReportedError };
  failedRecord: Deployment;
  groupExport: { template: { resources: { type: string }[] } };
  gone: boolean;
}

describe('compatibility: @azure/arm-resources deploys templates (ResourceManagementClient.deployments)', () => {
  let tessera: TesseraServer | undefined;
  let agent: TesseraAgent | undefined;
  let output: ClientOutput<Results>;
  /** The client's results, every step having run (the first test checks it did). */
  const results = (): Results => output.results as Results;

  beforeAll(async () => {
    tessera = await startTesseraServer();
    agent = await startTesseraAgent(tessera, 'sdk-deploy-host');
    const made = await tessera.arm(
      'PUT',
      `${tessera.subscriptionPath}/resourceGroups/${GROUP}?api-version=2021-04-01`,
      { location: 'westeurope' },
    );
    expect(made.status).toBe(201);
    output = await runClient<Results>(CLIENT_SCRIPT, {
      ...tessera.clientEnv,
      TESSERA_COMPAT_RESOURCE_GROUP: GROUP,
      TESSERA_COMPAT_HOST_ID: agent.hostId,
      TESSERA_COMPAT_VM_ADDRESS: VM_ADDRESS,
    });
  }, 120_000);

  afterAll(async () => {
    killClients();
    await closeStarted();
  }, 30_000);

  it('runs every call to the end, polling at the api-version it sends', () => {
    expect(output.error).toBeUndefined();
    expect(output.ok).toBe(true);
    expect(output.requests).toContainEqual(
      expect.stringMatching(
        /^PUT \/subscriptions\/.*\/deployments\/guide\?api-version=2025-03-01 -> 201$/,
      ),
    );
    expect(output.requests).toContainEqual(
      expect.stringMatching(
        /\/deployments\/guide\/operationStatuses\/\d{20}\?api-version=2025-03-01 -> 200$/,
      ),
    );
  });

  it('validates, deploys the guide’s template with its outputs, and reads it back', () => {
    const { validate, created, exists, operations, listed, exported } = results();
    expect(validate.properties.provisioningState).toBe('Succeeded');
    expect(validate.properties.validatedResources).toHaveLength(4);
    expect(created.properties.provisioningState).toBe('Succeeded');
    expect(created.properties.outputResources).toHaveLength(4);
    expect(exists).toBe(true);
    expect(operations.map((op) => op.state)).toEqual(Array(4).fill('Succeeded'));
    expect(listed).toContain('guide');
    expect(exported.template.resources).toHaveLength(4);
  });

  it('serves both identities at IMDS once deployed', async () => {
    const { outputs } = results().created.properties;
    const host = agent!;
    const system = await imdsToken(host.imdsUrl, { from: VM_ADDRESS, resource: ARM_AUDIENCE });
    expect(decodeJwt(system.access_token).oid).toBe(outputs.systemPrincipalId?.value);
    const user = await imdsToken(host.imdsUrl, {
      from: VM_ADDRESS,
      resource: ARM_AUDIENCE,
      selector: { client_id: outputs.userClientId?.value ?? '' },
    });
    expect(user.client_id).toBe(outputs.userClientId?.value);
  });

  it('what-if of the same template with another identity: one to create, the VM modified', () => {
    const { whatIf } = results();
    expect(whatIf.status.toLowerCase()).toBe('succeeded');
    const kinds = whatIf.changes
      .map((c) => `${c.resourceId.split('/').at(-1)}:${c.changeType}`)
      .sort();
    expect(kinds).toContain('another-identity:Create');
    expect(kinds).toContain('guide-app-identity:Ignore');
    expect(kinds).toContain('guide-vm:Modify');
  });

  it('a resource type Tessera does not serve fails the deployment with DeploymentFailed, as a RestError', () => {
    // core-lro words a failed operation status as an Error naming ARM's code.
    expect(results().failed.error?.message).toContain(
      'The long-running operation has failed. DeploymentFailed. At least one resource deployment operation failed.',
    );
    expect(results().failedRecord.properties).toMatchObject({
      provisioningState: 'Failed',
      error: { code: 'DeploymentFailed', details: [{ code: 'InvalidResourceNamespace' }] },
    });
    expect(results().gone).toBe(false);
  });

  it('exports the group', () => {
    const types = results()
      .groupExport.template.resources.map((r) => r.type)
      .sort();
    expect(types).toEqual([
      'Microsoft.Authorization/roleAssignments',
      'Microsoft.Compute/virtualMachines',
      'Microsoft.Compute/virtualMachines/extensions',
      'Microsoft.ManagedIdentity/userAssignedIdentities',
    ]);
  });
});
