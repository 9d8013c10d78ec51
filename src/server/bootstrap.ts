// First start: the administrator application operators use, with its secret written once to disk.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ADMIN_LOGIN_FILE, ADMIN_SECRET_FILE, writeSecretFile } from '../config/index.js';
import type { Principal, Tenant } from '../core/model.js';
import type { Clock, Store } from '../core/ports.js';
import { assignServicePrincipalRole, BUILT_IN_ROLE_IDS } from '../core/rbac/index.js';
import { RESOURCE_TYPES } from '../core/resource-types.js';
import type { ServerServices } from './services.js';

/** The alternative name that marks the installation's administrator application. */
export const ADMIN_MARKER = 'tessera:administrator';
/** The administrator's secret lives two years; rotate it with a new secret before then. */
const ADMIN_SECRET_LIFETIME_MS = 2 * 365 * 24 * 3_600_000;

export interface Administrator {
  readonly principal: Principal;
  /** Where the secret was written, when this start created it; undefined afterwards. */
  readonly secretFile: string | undefined;
}

/**
 * Finds the administrator application, or on first start creates it, assigns it Owner at `/`
 * (the built-in roles must be seeded first), and writes its client secret once to
 * `<dataDir>/admin.secret` (0600); the secret is stored nowhere else in clear. On every start it
 * (re)writes `<dataDir>/admin.json` (0600) with the tenant, client id and secret file's path.
 */
export async function ensureAdministrator(options: {
  store: Store;
  services: ServerServices;
  tenant: Tenant;
  dataDir: string;
  clock: Clock;
}): Promise<Administrator> {
  const { store, services, tenant, dataDir, clock } = options;
  // Each step checks before it writes, so a start that died half-way is completed by the next.
  const principal =
    (await store.principals.getByAlternativeName(ADMIN_MARKER)) ??
    (await services.directory.createPrincipal({
      tenantId: tenant.id,
      displayName: 'Tessera Administrator',
      type: 'Application',
      alternativeNames: [ADMIN_MARKER],
    }));
  const owners = await store.roles.listAssignmentsForPrincipalAtScopes([principal.objectId], ['/']);
  if (!owners.some((a) => a.roleDefinitionId.toLowerCase() === BUILT_IN_ROLE_IDS.owner)) {
    await assignServicePrincipalRole(
      { store, clock },
      { scope: '/', roleDefinitionId: BUILT_IN_ROLE_IDS.owner, principalId: principal.objectId },
    );
  }
  // A secret is made only while the administrator has none: once the file exists (or has been
  // moved somewhere safer by the operator) a restart never mints another.
  const secretFile = join(dataDir, ADMIN_SECRET_FILE);
  const login = { tenantId: tenant.id, clientId: principal.appId, secretFile };
  await writeSecretFile(join(dataDir, ADMIN_LOGIN_FILE), `${JSON.stringify(login, null, 2)}\n`);
  const credentials = await store.credentials.listForPrincipal(principal.objectId);
  if (credentials.some((c) => c.kind === 'secret' && !c.revoked)) {
    return { principal, secretFile: undefined };
  }
  const { secret } = await services.directory.addClientSecret(principal.objectId, {
    lifetimeMs: ADMIN_SECRET_LIFETIME_MS,
  });
  await writeSecretFile(secretFile, secret);
  return { principal, secretFile };
}

/**
 * The installation's first subscription, created on first start ("Tessera Subscription", a new
 * GUID) when there is none; returns the first subscription's id.
 */
export async function ensureDefaultSubscription(options: {
  store: Store;
  tenant: Tenant;
  clock: Clock;
}): Promise<string> {
  const { store, tenant, clock } = options;
  const type = RESOURCE_TYPES.subscriptions;
  const [existing] = (await store.resources.list({ type }, { limit: 1 })).items;
  if (existing !== undefined) return existing.subscriptionId;
  const subscriptionId = randomUUID();
  const now = clock.now();
  await store.resources.put({
    id: `/subscriptions/${subscriptionId}`,
    type,
    name: subscriptionId,
    subscriptionId,
    resourceGroup: null,
    location: null,
    tags: {},
    properties: { displayName: 'Tessera Subscription', tenantId: tenant.id },
    createdAt: now,
    updatedAt: now,
  });
  return subscriptionId;
}
