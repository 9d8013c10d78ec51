// Child process of arm-resources.test.ts: the unmodified @azure/arm-resources and
// @azure/arm-resources-subscriptions clients, with @azure/identity's ClientSecretCredential,
// against Tessera over HTTPS; prints what each call returned as JSON.
//
// Inputs (client-kit.ts): TESSERA_COMPAT_{URL,TENANT_ID,CLIENT_ID,SECRET_FILE,SUBSCRIPTION_ID}
// and TESSERA_COMPAT_RESOURCE_GROUP, which must exist and hold the identities the test made.
import { ResourceManagementClient } from '@azure/arm-resources';
import { SubscriptionClient } from '@azure/arm-resources-subscriptions';
import { adminCredential, collect, input, outcomeOf, report, requestLog } from './client-kit.js';

const group = input('RESOURCE_GROUP');
const credential = await adminCredential();
const options = {
  endpoint: input('URL'),
  // Without it the clients ask for a token for `${endpoint}/.default` (CLIENTS.md section 4).
  credentialScopes: ['https://management.azure.com/.default'],
  additionalPolicies: [requestLog],
};
const resources = new ResourceManagementClient(credential, input('SUBSCRIPTION_ID'), options);
const subscriptions = new SubscriptionClient(credential, options);

await report(async (step) => {
  await step('all', () =>
    collect(resources.resources.list(), (r) => `${r.type ?? ''}:${r.name ?? ''}`),
  );
  await step('inGroupByType', () =>
    collect(
      resources.resources.listByResourceGroup(group, {
        filter: "resourceType eq 'Microsoft.ManagedIdentity/userAssignedIdentities'",
      }),
      (r) => r.name,
    ),
  );
  await step('byTag', () =>
    collect(
      resources.resources.list({ filter: "tagName eq 'env' and tagValue eq 'prod'" }),
      (r) => ({ name: r.name, tags: r.tags }),
    ),
  );
  await step('byName', () =>
    collect(
      resources.resources.list({ filter: "substringof('two', name)", expand: 'createdTime' }),
      (r) => ({ name: r.name, createdTime: r.createdTime }),
    ),
  );
  await step('paged', () =>
    collect(resources.resources.listByResourceGroup(group, { top: 1 }), (r) => r.name),
  );
  await step('badFilter', () =>
    outcomeOf(() => collect(resources.resources.list({ filter: "kind eq 'x'" }), (r) => r.name)),
  );
  await step('providers', () => collect(resources.providers.list(), (p) => p.namespace));
  await step('provider', () => resources.providers.get('microsoft.managedidentity'));
  await step('noProvider', () => outcomeOf(() => resources.providers.get('Microsoft.Nope')));
  await step('subscriptions', () =>
    collect(subscriptions.subscriptions.list(), (s) => ({
      id: s.id,
      subscriptionId: s.subscriptionId,
      tenantId: s.tenantId,
      state: s.state,
    })),
  );
  await step('subscription', () => subscriptions.subscriptions.get(input('SUBSCRIPTION_ID')));
  await step('tenants', () => collect(subscriptions.tenants.list(), (t) => t.tenantId));
});
