// Child process of arm-msi.test.ts: the unmodified @azure/arm-msi client, with @azure/identity's
// ClientSecretCredential, against Tessera over HTTPS; prints what each call returned as JSON.
//
// Inputs (client-kit.ts): TESSERA_COMPAT_{URL,TENANT_ID,CLIENT_ID,SECRET_FILE,SUBSCRIPTION_ID}
// and TESSERA_COMPAT_RESOURCE_GROUP, which must exist.
import { ManagedServiceIdentityClient } from '@azure/arm-msi';
import { adminCredential, collect, input, outcomeOf, report, requestLog } from './client-kit.js';

const group = input('RESOURCE_GROUP');
const client = new ManagedServiceIdentityClient(await adminCredential(), input('SUBSCRIPTION_ID'), {
  endpoint: input('URL'),
  // Without it arm-msi asks for a token for `${endpoint}/.default` (CLIENTS.md section 4).
  credentialScopes: ['https://management.azure.com/.default'],
  additionalPolicies: [requestLog],
});
const identities = client.userAssignedIdentities;

await report(async (step) => {
  await step('created', () =>
    identities.createOrUpdate(group, 'id1', { location: 'westeurope', tags: { a: 'b' } }),
  );
  // A second identity outlives the run, so the parent can look at its principal afterwards.
  await step('kept', () => identities.createOrUpdate(group, 'id2', { location: 'westeurope' }));
  await step('got', () => identities.get(group, 'id1'));
  await step('inGroup', () =>
    collect(identities.listByResourceGroup(group), (identity) => identity.name),
  );
  await step('inSubscription', () =>
    collect(identities.listBySubscription(), (identity) => identity.id),
  );
  await step('updated', () => identities.update(group, 'id1', { tags: { a: 'c', d: 'e' } }));
  await step('deleted', async () => {
    await identities.delete(group, 'id1');
    return true;
  });
  await step('afterDelete', () => outcomeOf(() => identities.get(group, 'id1')));
});
