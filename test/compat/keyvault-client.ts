// Child process of keyvault.test.ts: the unmodified @azure/keyvault-secrets SecretClient, with
// default options, on a vault's `vaultUri` over HTTPS, authenticated by @azure/identity's
// ManagedIdentityCredential through the agent's IMDS; prints what each call returned as JSON.
//
// Inputs (client-kit.ts): TESSERA_COMPAT_VAULT_URL (the vault's `properties.vaultUri`),
// TESSERA_COMPAT_DNS_SUFFIX (resolved to TESSERA_COMPAT_VAULT_ADDRESS here, test only),
// TESSERA_COMPAT_ROLE (which calls to make: `officer`, `user`, `reader` or `none`) and, unless
// the VM's system-assigned identity is meant, TESSERA_COMPAT_MI_CLIENT_ID. AZURE_POD_IDENTITY_AUTHORITY_HOST points
// @azure/identity at the agent's IMDS; NODE_EXTRA_CA_CERTS trusts Tessera's local CA.
//
// `officer` leaves one secret, `app-config` = `shared-value`, for the other roles to read.
import { ManagedIdentityCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { collect, input, outcomeOf, report, requestLog, resolveToLoopback } from './client-kit.js';

/** The secret the officer creates and keeps, for the other roles. */
const SHARED = 'app-config';
/** The secret the officer takes through its whole life. */
const NAME = 'db-password';

// Test only: `{vault}.vault.localhost` must reach Tessera, as private DNS would make it.
resolveToLoopback(input('DNS_SUFFIX'), input('VAULT_ADDRESS'));

const clientId = process.env.TESSERA_COMPAT_MI_CLIENT_ID;
const credential = new ManagedIdentityCredential(clientId === undefined ? {} : { clientId });
const client = new SecretClient(input('VAULT_URL'), credential, {
  additionalPolicies: [requestLog],
});
const role = input('ROLE');

await report(async (step) => {
  switch (role) {
    case 'officer': {
      await step('shared', () => client.setSecret(SHARED, 'shared-value'));
      const first = await step('set', () =>
        client.setSecret(NAME, 's3cret', { contentType: 'text/plain', tags: { env: 'dev' } }),
      );
      const version = first.properties.version ?? '';
      await step('rotated', () => client.setSecret(NAME, 'rotated'));
      await step('latest', () => client.getSecret(NAME));
      await step('byVersion', () => client.getSecret(NAME, { version }));
      await step('updated', () =>
        client.updateSecretProperties(NAME, version, { enabled: false, tags: { env: 'old' } }),
      );
      await step('disabled', () => outcomeOf(() => client.getSecret(NAME, { version })));
      await step('listed', () => collect(client.listPropertiesOfSecrets(), (found) => found));
      await step('versions', () =>
        collect(client.listPropertiesOfSecretVersions(NAME), (found) => found),
      );
      await step('deleted', async () => (await client.beginDeleteSecret(NAME)).pollUntilDone());
      await step('gotDeleted', () => client.getDeletedSecret(NAME));
      await step('listedDeleted', () => collect(client.listDeletedSecrets(), (found) => found));
      await step('whileDeleted', () => outcomeOf(() => client.getSecret(NAME)));
      await step('setWhileDeleted', () => outcomeOf(() => client.setSecret(NAME, 'again')));
      await step('recovered', async () =>
        (await client.beginRecoverDeletedSecret(NAME)).pollUntilDone(),
      );
      await step('afterRecover', () => client.getSecret(NAME));
      await step('deletedAgain', async () =>
        (await client.beginDeleteSecret(NAME)).pollUntilDone(),
      );
      await step('purged', async () => {
        await client.purgeDeletedSecret(NAME);
        return true;
      });
      await step('afterPurge', () => outcomeOf(() => client.getDeletedSecret(NAME)));
      return;
    }
    case 'user':
      await step('got', () => client.getSecret(SHARED));
      await step('setDenied', () => outcomeOf(() => client.setSecret(SHARED, 'overwritten')));
      return;
    case 'reader':
      await step('listed', () => collect(client.listPropertiesOfSecrets(), (found) => found));
      await step('getDenied', () => outcomeOf(() => client.getSecret(SHARED)));
      return;
    case 'none':
      await step('getDenied', () => outcomeOf(() => client.getSecret(SHARED)));
      return;
    default:
      throw new Error(`unknown TESSERA_COMPAT_ROLE: ${role}`);
  }
});
