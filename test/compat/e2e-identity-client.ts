// Child process of end-to-end.test.ts: the unmodified @azure/identity ManagedIdentityCredential
// asking a real `tessera agent` for a token it must refuse; prints the error the user sees.
//
// Inputs (client-kit.ts): TESSERA_COMPAT_SCENARIO, `multiple` (the process runs on the VM at
// TESSERA_COMPAT_MULTI_VM_ADDRESS, which has two user-assigned identities and no system-assigned
// one, and names none) or `not-found` (it runs on the VM at 127.0.0.1 and names
// TESSERA_COMPAT_FOREIGN_CLIENT_ID, which is not on that VM); AZURE_POD_IDENTITY_AUTHORITY_HOST
// names the IMDS.
//
// One scenario per process: MSAL caches its managed-identity source, and with it the first
// credential's HTTP pipeline (and so its source address), in a static field (CLIENTS.md 1.2).
import { Agent } from 'node:http';
import { ManagedIdentityCredential } from '@azure/identity';
import { input, outcomeOf, report } from './client-kit.js';

const SCOPE = 'https://management.azure.com/.default';
// A 400 is not retried anyway (CLIENTS.md 1.4); no retries keeps a regression from waiting.
const retryOptions = { maxRetries: 0 };
const scenario = input('SCENARIO');

await report(async (step) => {
  switch (scenario) {
    case 'multiple':
      await step('error', () =>
        outcomeOf(() =>
          new ManagedIdentityCredential({
            retryOptions,
            // The pipeline's `agent` option: the process runs on the VM at this address.
            agent: new Agent({ localAddress: input('MULTI_VM_ADDRESS') }),
          }).getToken(SCOPE),
        ),
      );
      return;
    case 'not-found':
      await step('error', () =>
        outcomeOf(() =>
          new ManagedIdentityCredential({
            clientId: input('FOREIGN_CLIENT_ID'),
            retryOptions,
          }).getToken(SCOPE),
        ),
      );
      return;
    default:
      throw new Error(`unknown TESSERA_COMPAT_SCENARIO: ${scenario}`);
  }
});
