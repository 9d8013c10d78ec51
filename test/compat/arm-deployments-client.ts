// Child process of arm-deployments.test.ts: the unmodified @azure/arm-resources client's deployments
// (ResourceManagementClient.deployments, api-version 2025-03-01) with @azure/identity's
// ClientSecretCredential, against Tessera over HTTPS; prints what each call returned as JSON.
//
// Inputs (client-kit.ts): TESSERA_COMPAT_{URL,TENANT_ID,CLIENT_ID,SECRET_FILE,SUBSCRIPTION_ID},
// TESSERA_COMPAT_RESOURCE_GROUP (which must exist), TESSERA_COMPAT_HOST_ID and
// TESSERA_COMPAT_VM_ADDRESS (where the template's VM runs).
import { ResourceManagementClient } from '@azure/arm-resources';
import { GUIDE_TEMPLATE_OBJECT } from '../fixtures/guide-template.js';
import { adminCredential, collect, input, outcomeOf, report, requestLog } from './client-kit.js';

const group = input('RESOURCE_GROUP');
const client = new ResourceManagementClient(await adminCredential(), input('SUBSCRIPTION_ID'), {
  endpoint: input('URL'),
  credentialScopes: ['https://management.azure.com/.default'],
  additionalPolicies: [requestLog],
});
const { deployments, deploymentOperations } = client;
const guide = {
  properties: {
    mode: 'Incremental' as const,
    template: GUIDE_TEMPLATE_OBJECT,
    parameters: {
      hostId: { value: input('HOST_ID') },
      privateIp: { value: input('VM_ADDRESS') },
    },
  },
};
const schema = 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#';
const unserved = {
  properties: {
    mode: 'Incremental' as const,
    template: {
      $schema: schema,
      contentVersion: '1.0.0.0',
      resources: [
        {
          type: 'Microsoft.Storage/storageAccounts',
          apiVersion: '2023-01-01',
          name: 'unserved',
          location: 'westeurope',
          kind: 'StorageV2',
          sku: { name: 'Standard_LRS' },
        },
      ],
    },
  },
};
const polling = { updateIntervalInMs: 100 };

await report(async (step) => {
  await step('validate', () => deployments.beginValidateAndWait(group, 'guide', guide, polling));
  await step('created', () =>
    deployments.beginCreateOrUpdateAndWait(group, 'guide', guide, polling),
  );
  await step('exists', async () => (await deployments.checkExistence(group, 'guide')).body);
  await step('operations', () =>
    collect(deploymentOperations.list(group, 'guide'), (op) => ({
      state: op.properties?.provisioningState,
      type: op.properties?.targetResource?.resourceType,
    })),
  );
  await step('listed', () => collect(deployments.listByResourceGroup(group), (d) => d.name));
  await step('exported', () => deployments.exportTemplate(group, 'guide'));
  await step('whatIf', () =>
    deployments.beginWhatIfAndWait(
      group,
      'guide',
      {
        properties: {
          ...guide.properties,
          parameters: {
            ...guide.properties.parameters,
            identityName: { value: 'another-identity' },
          },
        },
      },
      polling,
    ),
  );
  await step('failed', () =>
    outcomeOf(() => deployments.beginCreateOrUpdateAndWait(group, 'unserved', unserved, polling)),
  );
  await step('failedRecord', () => deployments.get(group, 'unserved'));
  await step('groupExport', () =>
    client.resourceGroups.beginExportTemplateAndWait(group, { resources: ['*'] }, polling),
  );
  await step('deleted', () => deployments.beginDeleteAndWait(group, 'unserved', polling));
  await step('gone', async () => (await deployments.checkExistence(group, 'unserved')).body);
});
