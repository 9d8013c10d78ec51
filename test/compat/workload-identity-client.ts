// Child process of workload-identity.test.ts: the unmodified @azure/identity workload identity
// credentials (a foreign token in AZURE_FEDERATED_TOKEN_FILE exchanged at Tessera's token
// endpoint) and @azure/keyvault-secrets' SecretClient reading a secret with each; prints the
// tokens, the values, and the requests logged.
//
// Inputs: the variables the azure-workload-identity webhook sets in a pod (AZURE_TENANT_ID,
// AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST = Tessera's HTTPS URL);
// NODE_EXTRA_CA_CERTS for Tessera's local CA; and (client-kit.ts) TESSERA_COMPAT_VAULT_URL (the
// vault's `properties.vaultUri`), TESSERA_COMPAT_SECRET (a secret's name),
// TESSERA_COMPAT_DNS_SUFFIX (resolved to 127.0.0.1 here, test only) and
// TESSERA_COMPAT_CREDENTIALS, which credentials to run:
// - `workload`: WorkloadIdentityCredential({disableInstanceDiscovery}), then
//   ManagedIdentityCredential() with no options;
// - `default`: DefaultAzureCredential();
// - `no-discovery`: WorkloadIdentityCredential() without disableInstanceDiscovery (meant to fail
//   offline), then DefaultAzureCredential({disableInstanceDiscovery}).
// Each kind runs in its own process so that its request log is its own. `additionalPolicies:
// [requestLog]` only records what the credential sends; ManagedIdentityCredential's exchange
// does not pass it on, so its own requests are not in the log.
import {
  DefaultAzureCredential,
  ManagedIdentityCredential,
  type TokenCredential,
  WorkloadIdentityCredential,
} from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { input, outcomeOf, report, requestLog, resolveToLoopback } from './client-kit.js';

/** The audience of Tessera's vault tokens: `https://{server.keyVault.dnsSuffix}`. */
const VAULT_SCOPE = `https://${input('DNS_SUFFIX')}/.default`;
/** How long a credential may take before the step gives up on it (DAC may try the Internet). */
const STEP_TIMEOUT_MS = 15_000;

// Test only: `{vault}.vault.localhost` must reach Tessera, as private DNS would make it.
resolveToLoopback(input('DNS_SUFFIX'));
// Test only: an installation without Internet access, wherever the test runs. Microsoft's login
// host resolves to loopback, where nothing listens on 443: refused at once, as a firewall would.
resolveToLoopback('login.microsoftonline.com');

/** `run`'s result, or a rejection naming `what` after {@link STEP_TIMEOUT_MS}. */
async function bounded<T>(what: string, run: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what} did not settle within ${String(STEP_TIMEOUT_MS)} ms`));
    }, STEP_TIMEOUT_MS);
  });
  try {
    return await Promise.race([run(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A vault token of `credential`, and the secret read with it. */
async function tokenAndSecret(
  what: string,
  credential: TokenCredential,
): Promise<{ token: string; value: string | undefined }> {
  const token = await bounded(what, () => credential.getToken(VAULT_SCOPE));
  if (token === null) throw new Error(`${what}: getToken returned null`);
  const client = new SecretClient(input('VAULT_URL'), credential, {
    additionalPolicies: [requestLog],
  });
  const secret = await bounded(what, () => client.getSecret(input('SECRET')));
  return { token: token.token, value: secret.value };
}

const kind = input('CREDENTIALS');

await report(async (step) => {
  switch (kind) {
    case 'workload': {
      // Pointed at a non-Microsoft authority, it must not ask login.microsoftonline.com.
      const workload = new WorkloadIdentityCredential({
        disableInstanceDiscovery: true,
        additionalPolicies: [requestLog],
      });
      await step('workload', () => tokenAndSecret('WorkloadIdentityCredential', workload));
      // No options: the variables send it down its token-exchange branch, not to IMDS.
      await step('managed', () =>
        tokenAndSecret('ManagedIdentityCredential', new ManagedIdentityCredential()),
      );
      return;
    }
    case 'default':
      await step('default', () =>
        tokenAndSecret(
          'DefaultAzureCredential',
          new DefaultAzureCredential({ additionalPolicies: [requestLog] }),
        ),
      );
      return;
    case 'no-discovery':
      // What DefaultAzureCredential's first workload credential meets offline, made visible.
      await step('discovering', () =>
        outcomeOf(() =>
          bounded('WorkloadIdentityCredential', () =>
            new WorkloadIdentityCredential({ additionalPolicies: [requestLog] }).getToken(
              VAULT_SCOPE,
            ),
          ),
        ),
      );
      await step('defaultNoDiscovery', () =>
        tokenAndSecret(
          'DefaultAzureCredential',
          new DefaultAzureCredential({
            disableInstanceDiscovery: true,
            additionalPolicies: [requestLog],
          }),
        ),
      );
      return;
    default:
      throw new Error(`unknown TESSERA_COMPAT_CREDENTIALS: ${kind}`);
  }
});
