// Microsoft.Resources/subscriptions and tenants: what a caller may use, as `az login` lists them.
import { subscriptionsReached } from '../../../core/rbac/index.js';
import { listPage, renderSubscription, renderTenant, versionsOf } from '../../../wire/arm/index.js';
import { OWN_TYPES } from '../../../wire/arm/target.js';
import { actionOf, type OperationContext, type ResourceTypeDeclaration } from '../provider.js';
import { requireSubscription } from '../scope.js';

const SUBSCRIPTIONS = OWN_TYPES.subscriptions;
/** How many of the caller's role assignments are read to find its subscriptions. */
const ASSIGNMENTS_READ = 5000;

/** `GET /subscriptions`: those the caller's role assignments reach (`subscriptionsReached`). */
async function listSubscriptions(
  context: OperationContext,
): Promise<{ status: number; body: unknown }> {
  const { store } = context.services;
  const { items } = await store.roles.listAssignments(
    { principalId: context.request.caller.objectId },
    { limit: ASSIGNMENTS_READ },
  );
  const reach = subscriptionsReached(items);
  const page = await store.resources.list({ type: SUBSCRIPTIONS }, { limit: 1000 });
  const visible = page.items.filter(
    (subscription) => reach.all || reach.ids.has(subscription.subscriptionId.toLowerCase()),
  );
  const value = visible.map(renderSubscription);
  return { status: 200, body: listPage(value, { requestUrl: context.request.url }) };
}

/** `GET /subscriptions` and `GET /subscriptions/{id}`. */
export const subscriptions: ResourceTypeDeclaration = {
  type: SUBSCRIPTIONS,
  apiVersions: versionsOf(SUBSCRIPTIONS),
  placement: ['tenant'],
  validateName: () => undefined,
  operations: {
    read: {
      run: async (context) => ({
        status: 200,
        body: renderSubscription(
          await requireSubscription(context.services, context.where.subscriptionId),
        ),
      }),
    },
    list: { run: listSubscriptions },
  },
};

/** `GET /tenants`: the caller's own tenant (Tessera has no guests in other tenants). */
export const tenants: ResourceTypeDeclaration = {
  type: OWN_TYPES.tenants,
  apiVersions: versionsOf(OWN_TYPES.tenants),
  placement: ['tenant'],
  operations: {
    list: {
      run: async (context) => {
        const own = await context.services.store.tenants.get(context.request.caller.tenantId);
        const value = own === undefined ? [] : [renderTenant(own)];
        return { status: 200, body: listPage(value, { requestUrl: context.request.url }) };
      },
    },
  },
};

/** The RBAC action of reading a subscription (for the tests beside). */
export const SUBSCRIPTION_READ = actionOf(subscriptions, 'read');
