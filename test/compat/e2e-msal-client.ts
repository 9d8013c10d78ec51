// Child process of end-to-end.test.ts: the unmodified @azure/msal-node ManagedIdentityApplication,
// on its own (no @azure/identity), getting tokens from a real `tessera agent` through
// AZURE_POD_IDENTITY_AUTHORITY_HOST; prints each AuthenticationResult.
//
// Inputs (client-kit.ts): TESSERA_COMPAT_UAI_CLIENT_ID, a user-assigned identity of the VM at
// 127.0.0.1, which also has a system-assigned identity.
import { ManagedIdentityApplication } from '@azure/msal-node';
import { input, report } from './client-kit.js';

/** The resource the scenarios ask for, as a user of MSAL passes it (no `/.default`). */
const RESOURCE = 'https://management.azure.com';

await report(async (step) => {
  const system = new ManagedIdentityApplication();
  await step('source', () => Promise.resolve(system.getManagedIdentitySource()));
  await step('system', () => system.acquireToken({ resource: RESOURCE }));
  // MSAL's cache, process-wide (CLIENTS.md 1.2), answers the same request a second time.
  await step('systemAgain', () => system.acquireToken({ resource: RESOURCE }));
  const byClientId = new ManagedIdentityApplication({
    managedIdentityIdParams: { userAssignedClientId: input('UAI_CLIENT_ID') },
  });
  await step('clientId', () => byClientId.acquireToken({ resource: RESOURCE }));
});
