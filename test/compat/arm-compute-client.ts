// Child process of arm-compute.test.ts: the unmodified @azure/arm-compute client, with
// @azure/identity's ClientSecretCredential, against Tessera over HTTPS; prints what each call
// returned as JSON.
//
// Inputs (client-kit.ts): TESSERA_COMPAT_{URL,TENANT_ID,CLIENT_ID,SECRET_FILE,SUBSCRIPTION_ID},
// TESSERA_COMPAT_RESOURCE_GROUP (existing) and TESSERA_COMPAT_UAI_1, TESSERA_COMPAT_UAI_2 (ids of
// existing user-assigned identities). vm1 is created, updated and kept; vm2 is created and deleted.
import {
  ComputeManagementClient,
  type UserAssignedIdentitiesValue,
  type VirtualMachine,
} from '@azure/arm-compute';
import { adminCredential, collect, input, outcomeOf, report, requestLog } from './client-kit.js';

const group = input('RESOURCE_GROUP');
const uai1 = input('UAI_1');
const uai2 = input('UAI_2');
const client = new ComputeManagementClient(await adminCredential(), input('SUBSCRIPTION_ID'), {
  endpoint: input('URL'),
  // arm-compute keeps this audience whatever the endpoint (CLIENTS.md section 4); said anyway.
  credentials: { scopes: ['https://management.azure.com/.default'] },
  additionalPolicies: [requestLog],
});
const vms = client.virtualMachines;

const vm = (computerName: string): VirtualMachine => ({
  location: 'westeurope',
  tags: { app: 'compat' },
  hardwareProfile: { vmSize: 'Standard_B1s' },
  osProfile: { computerName, adminUsername: 'azureuser' },
  identity: {
    type: 'SystemAssigned, UserAssigned',
    userAssignedIdentities: { [uai1]: {}, [uai2]: {} },
  },
});

/**
 * A user-assigned identity's entry set to `null`: how a PATCH removes it (ARM's merge rule). The
 * model types the entries as objects only, but its serializer passes a falsy entry through as is.
 */
const REMOVE = null as unknown as UserAssignedIdentitiesValue;

await report(async (step) => {
  await step('created', () => vms.createOrUpdate(group, 'vm1', vm('vm1')));
  await step('got', () => vms.get(group, 'vm1'));
  await step('updated', () =>
    vms.update(group, 'vm1', {
      tags: { app: 'compat', stage: 'patched' },
      identity: {
        type: 'SystemAssigned, UserAssigned',
        userAssignedIdentities: { [uai1]: REMOVE },
      },
    }),
  );
  await step('gotAfterUpdate', () => vms.get(group, 'vm1'));
  await step('created2', () => vms.createOrUpdate(group, 'vm2', vm('vm2')));
  await step('inGroup', () => collect(vms.list(group), (found) => found.name));
  await step('inSubscription', () => collect(vms.listAll(), (found) => found.id));
  await step('deleted', async () => {
    await vms.delete(group, 'vm2');
    return true;
  });
  await step('afterDelete', () => outcomeOf(() => vms.get(group, 'vm2')));
});
