// Child process of end-to-end.test.ts: the unmodified @azure/arm-msi client authenticated by a
// VM's ManagedIdentityCredential (a real `tessera agent` behind AZURE_POD_IDENTITY_AUTHORITY_HOST),
// against a real `tessera server` over HTTPS trusted through NODE_EXTRA_CA_CERTS.
//
// Inputs (client-kit.ts): TESSERA_COMPAT_{URL,SUBSCRIPTION_ID,RESOURCE_GROUP}, and
// TESSERA_COMPAT_READER_CLIENT_ID, the VM's user-assigned identity that holds Reader on the group
// (the system-assigned identity holds Contributor).
import { ManagedServiceIdentityClient } from '@azure/arm-msi';
import { ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { input, outcomeOf, report, requestLog } from './client-kit.js';

const group = input('RESOURCE_GROUP');
const client = (credential: TokenCredential): ManagedServiceIdentityClient =>
  new ManagedServiceIdentityClient(credential, input('SUBSCRIPTION_ID'), {
    endpoint: input('URL'),
    // Without it arm-msi asks for a token for `${endpoint}/.default` (CLIENTS.md section 4).
    credentialScopes: ['https://management.azure.com/.default'],
    additionalPolicies: [requestLog],
  });
const contributor = client(new ManagedIdentityCredential()).userAssignedIdentities;
const reader = client(
  new ManagedIdentityCredential({ clientId: input('READER_CLIENT_ID') }),
).userAssignedIdentities;

await report(async (step) => {
  await step('created', () =>
    contributor.createOrUpdate(group, 'made-by-vm', { location: 'westeurope' }),
  );
  await step('readerGot', () => reader.get(group, 'made-by-vm'));
  await step('readerCreate', () =>
    outcomeOf(() => reader.createOrUpdate(group, 'made-by-reader', { location: 'westeurope' })),
  );
});
