// Child process of managed-identity.test.ts: the unmodified @azure/identity managed-identity
// credentials, sent to Tessera's IMDS by AZURE_POD_IDENTITY_AUTHORITY_HOST; prints every token.
//
// Inputs (client-kit.ts): TESSERA_COMPAT_CREDENTIALS, `managed-identity` (ManagedIdentityCredential
// system-assigned, by clientId, resourceId and objectId) or `default` (DefaultAzureCredential,
// plain and with managedIdentityClientId); TESSERA_COMPAT_UAI1_CLIENT_ID,
// TESSERA_COMPAT_UAI1_OBJECT_ID, TESSERA_COMPAT_UAI2_CLIENT_ID, TESSERA_COMPAT_UAI2_RESOURCE_ID.
//
// MSAL keeps its token cache in a static field (CLIENTS.md section 1.2): a credential for an
// identity another credential of this process already asked for would be answered from that
// cache without a request, which is why the two kinds run in separate processes.
import {
  type AccessToken,
  DefaultAzureCredential,
  ManagedIdentityCredential,
  type TokenCredential,
} from '@azure/identity';
import { input, report } from './client-kit.js';

const MANAGEMENT_SCOPE = 'https://management.azure.com/.default';
const VAULT_SCOPE = 'https://vault.azure.net/.default';

/** A management and a Key Vault token of one credential. */
async function tokens(
  credential: TokenCredential,
): Promise<{ management: AccessToken; vault: AccessToken }> {
  const management = await credential.getToken(MANAGEMENT_SCOPE);
  const vault = await credential.getToken(VAULT_SCOPE);
  if (management === null || vault === null) throw new Error('getToken returned null');
  return { management, vault };
}

const kind = input('CREDENTIALS');

await report(async (step) => {
  switch (kind) {
    case 'managed-identity': {
      const system = new ManagedIdentityCredential();
      await step('system', () => tokens(system));
      // The same scope again: MSAL's cache answers, IMDS sees no second request.
      await step('systemAgain', () => system.getToken(MANAGEMENT_SCOPE));
      await step('clientId', () =>
        tokens(new ManagedIdentityCredential({ clientId: input('UAI1_CLIENT_ID') })),
      );
      await step('resourceId', () =>
        tokens(new ManagedIdentityCredential({ resourceId: input('UAI2_RESOURCE_ID') })),
      );
      await step('objectId', () =>
        tokens(new ManagedIdentityCredential({ objectId: input('UAI1_OBJECT_ID') })),
      );
      return;
    }
    case 'default':
      await step('default', () => tokens(new DefaultAzureCredential()));
      await step('defaultClientId', () =>
        tokens(new DefaultAzureCredential({ managedIdentityClientId: input('UAI2_CLIENT_ID') })),
      );
      return;
    default:
      throw new Error(`unknown TESSERA_COMPAT_CREDENTIALS: ${kind}`);
  }
});
