// First start: built-in roles, an administrator who is Owner at `/`, its secret written once.
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTempStore, type TempStore } from '../fixtures/temp-store.js';
import { verifyClientSecret } from '../../src/core/directory/client-secret.js';
import type { Store } from '../../src/core/ports.js';
import { createRbacEvaluator, seedBuiltInRoles } from '../../src/core/rbac/index.js';
import { ADMIN_LOGIN_FILE, ADMIN_SECRET_FILE } from '../../src/config/index.js';
import { ensureAdministrator } from '../../src/server/bootstrap.js';
import { createServerServices, defaultServiceSettings } from '../../src/server/services.js';

describe('ensureAdministrator', () => {
  let tmp: TempStore;
  let store: Store;
  beforeAll(async () => {
    tmp = await openTempStore('tessera-bootstrap-');
    store = tmp.store;
  });
  afterAll(async () => {
    await tmp.close();
  });

  it('makes an Owner at / once, with a secret that authenticates, written 0600 once', async () => {
    const clock = { now: () => Date.now() };
    const services = createServerServices(store, clock, defaultServiceSettings('http://x'));
    const tenant = await services.directory.ensureDefaultTenant();
    await seedBuiltInRoles(store, clock.now());
    const first = await ensureAdministrator({ store, services, tenant, dataDir: tmp.dir, clock });
    expect(first.secretFile).toBe(join(tmp.dir, ADMIN_SECRET_FILE));
    expect((await stat(first.secretFile ?? '')).mode & 0o777).toBe(0o600);
    const secret = await readFile(first.secretFile ?? '', 'utf8');
    const [credential] = await store.credentials.listForPrincipal(first.principal.objectId);
    expect(await verifyClientSecret(secret, credential?.secretHash ?? '')).toBe(true);

    const rbac = createRbacEvaluator({ store, clock });
    const scope = '/subscriptions/6f7c1a52-93b1-4b8f-9d0a-6a1c2f6e0b11/resourceGroups/rg';
    for (const action of [
      'Microsoft.Resources/subscriptions/resourceGroups/write',
      'Microsoft.Authorization/roleAssignments/write',
    ]) {
      const decision = await rbac.check({ principalId: first.principal.objectId, action, scope });
      expect(decision).toMatchObject({ allowed: true, roleName: 'Owner' });
    }

    // How clients log in: where the secret is, never the secret; rewritten on every start.
    const loginFile = join(tmp.dir, ADMIN_LOGIN_FILE);
    const login = {
      tenantId: tenant.id,
      clientId: first.principal.appId,
      secretFile: first.secretFile,
    };
    expect(JSON.parse(await readFile(loginFile, 'utf8'))).toEqual(login);
    expect((await stat(loginFile)).mode & 0o777).toBe(0o600);
    expect(await readFile(loginFile, 'utf8')).not.toContain(secret);
    await rm(loginFile);

    const second = await ensureAdministrator({ store, services, tenant, dataDir: tmp.dir, clock });
    expect(second).toEqual({ principal: first.principal, secretFile: undefined });
    expect(JSON.parse(await readFile(loginFile, 'utf8'))).toEqual(login);
    expect(await store.credentials.listForPrincipal(first.principal.objectId)).toHaveLength(1);
    const owners = await store.roles.listAssignmentsForPrincipalAtScopes(
      [first.principal.objectId],
      ['/'],
    );
    expect(owners).toHaveLength(1);
  });
});
