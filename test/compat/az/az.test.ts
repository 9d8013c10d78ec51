// Compatibility: Debian's az CLI (azure-cli 2.45), unmodified, against real `tessera server` and
// `tessera agent` processes over the server's HTTPS listener. The operator's three lines (cloud
// register with the ARM endpoint alone, cloud set, login as a service principal) in one profile,
// then each scenario side by side in a copy of it: groups, identities, VM identities, role
// assignments and definitions and Key Vault secrets through `az rest` (Debian's `az role` and
// `az keyvault secret` are broken, PROTOCOL-TOOLS.md A.6), access tokens, federated identity
// credentials, and logins with a certificate and with a federated token.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withStore } from '../../../src/cli/operator-store.js';
import { BUILT_IN_ROLE_IDS } from '../../../src/core/rbac/index.js';
import { serviceSettingsFrom } from '../../../src/server/runtime.js';
import { createServerServices } from '../../../src/server/services.js';
import { EXCHANGE_AUDIENCE } from '../../fixtures/oidc-issuer.js';
import { skipForMissingTools, type SystemTool } from '../../fixtures/system-tools.js';
import { GUID } from '../harness.js';
import { imdsToken } from '../imds-probe.js';
import {
  assignRole,
  closeStarted,
  startTesseraAgent,
  startTesseraServer,
  type TesseraAgent,
  type TesseraServer,
} from '../processes.js';
import { closeAll, runTessera } from '../tessera-cli.js';
import {
  type AzAccount,
  type AzProfile,
  AZ_TOOL,
  accessTokenClaims,
  armStatus,
  armWrite,
  az,
  azJson,
  azRest,
  CLOUD,
  copyProfile,
  getVm,
  groupPath,
  identityPath,
  makeGroup,
  makeIdentity,
  newProfile,
  placeVm,
  removeProfiles,
  sameId,
  succeeded,
  verifiedClaims,
} from './harness.js';

const OPENSSL: SystemTool = { command: 'openssl', pkg: 'openssl' };
/** The group most scenarios work in, made through ARM before az runs. */
const GROUP = 'az-compat-rg';
/** What az asks tokens for: the cloud's `audiences[0]` (PROTOCOL-TOOLS.md A.1.3). */
const ARM_AUDIENCE = 'https://management.core.windows.net/';
const UAI_V = 'api-version=2023-01-31';
const ROLES_V = 'api-version=2022-04-01';
const VAULT_V = 'api-version=2023-07-01';

/** `az group` output. */
interface AzGroup {
  readonly id: string;
  readonly name: string;
  readonly location: string;
  readonly tags: Record<string, string> | null;
  readonly type: string;
  readonly properties: { readonly provisioningState: string };
}
/** `az identity` output. */
interface AzIdentity {
  readonly id: string;
  readonly name: string;
  readonly principalId: string;
  readonly clientId: string;
  readonly tenantId: string;
  readonly resourceGroup: string;
  readonly type: string;
}
/** `az identity federated-credential` output. */
interface AzFederatedCredential {
  readonly id: string;
  readonly name: string;
  readonly issuer: string;
  readonly subject: string;
  readonly audiences: string[];
  readonly type: string;
}
/** A VM's identity as `az vm identity show/remove` print it (ARM's identity object). */
interface AzVmIdentity {
  readonly type: string;
  readonly principalId: string | null;
  readonly tenantId: string | null;
  readonly userAssignedIdentities: Record<
    string,
    { readonly clientId: string; readonly principalId: string }
  > | null;
}
/** ARM's role assignment. */
interface RoleAssignment {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly properties: {
    readonly principalId: string;
    readonly roleDefinitionId: string;
    readonly scope: string;
  };
}
/** A Key Vault secret bundle. */
interface SecretBundle {
  readonly id: string;
  readonly value: string;
  readonly attributes: { readonly enabled: boolean };
}

describe.skipIf(skipForMissingTools('test/compat/az', [AZ_TOOL, OPENSSL]))(
  'compatibility: az CLI (Debian azure-cli 2.45) against tessera server processes',
  () => {
    let tessera: TesseraServer | undefined;
    let agent: TesseraAgent | undefined;
    /** The profile the first tests build: cloud registered and set, the administrator signed in. */
    let base: AzProfile | undefined;
    let signedInAsAdmin = false;

    const server = (): TesseraServer => {
      if (tessera === undefined) throw new Error('tessera server did not start');
      return tessera;
    };
    const host = (): TesseraAgent => {
      if (agent === undefined) throw new Error('tessera agent did not start');
      return agent;
    };
    const baseProfile = (): AzProfile => {
      if (base === undefined) throw new Error('no az profile: beforeAll failed');
      return base;
    };
    /** A copy of the base profile, the administrator signed in: one scenario's own az files. */
    const asAdmin = async (): Promise<AzProfile> => {
      if (!signedInAsAdmin) throw new Error('az login as the administrator failed (see that test)');
      return copyProfile(baseProfile(), { account: true });
    };
    /** A copy of the base profile with the cloud only, for a login of another principal. */
    const signedOut = (): Promise<AzProfile> => copyProfile(baseProfile(), { account: false });

    beforeAll(async () => {
      const t = await startTesseraServer();
      tessera = t;
      agent = await startTesseraAgent(t, 'az-compat-host');
      await makeGroup(t, GROUP);
      base = await newProfile(t.caFile);
    });

    afterAll(async () => {
      await closeAll(closeStarted, removeProfiles);
    }, 30_000);

    it('az cloud register -n tessera --endpoint-resource-manager {ARM}/ takes the ADFS login endpoint and the audiences from /metadata/endpoints', async () => {
      const { httpsUrl } = server();
      const profile = baseProfile();
      succeeded(
        await az(profile, [
          'cloud',
          'register',
          '-n',
          CLOUD,
          '--endpoint-resource-manager',
          `${httpsUrl}/`,
        ]),
      );
      const cloud = await azJson<{ endpoints: Record<string, string | null>; profile: string }>(
        profile,
        ['cloud', 'show', '-n', CLOUD],
      );
      expect(cloud.profile).toBe('latest');
      expect(cloud.endpoints).toMatchObject({
        resourceManager: `${httpsUrl}/`,
        management: `${httpsUrl}/`,
        activeDirectory: `${httpsUrl}/adfs`,
        activeDirectoryResourceId: ARM_AUDIENCE,
        activeDirectoryGraphResourceId: `${httpsUrl}/`,
      });
    });

    it('az cloud set -n tessera makes it the one active cloud', async () => {
      const profile = baseProfile();
      succeeded(await az(profile, ['cloud', 'set', '-n', CLOUD]));
      const clouds = await azJson<{ name: string; isActive: boolean }[]>(profile, [
        'cloud',
        'list',
      ]);
      expect(clouds.filter((c) => c.isActive).map((c) => c.name)).toEqual([CLOUD]);
    });

    it('az login --service-principal -u {clientId} -p {secret} --tenant {tenantId} signs the administrator in to the subscription', async () => {
      const t = server();
      const accounts = await azJson<AzAccount[]>(baseProfile(), [
        'login',
        '--service-principal',
        '-u',
        t.adminClientId,
        '-p',
        t.adminSecret,
        '--tenant',
        t.tenantId,
      ]);
      expect(accounts).toEqual([
        {
          cloudName: CLOUD,
          homeTenantId: t.tenantId,
          id: t.subscriptionId,
          isDefault: true,
          managedByTenants: [],
          name: expect.any(String) as unknown,
          state: 'Enabled',
          tenantId: t.tenantId,
          user: { name: t.adminClientId, type: 'servicePrincipal' },
        },
      ]);
      signedInAsAdmin = true;
    });

    it('az account show and az account list: the subscription, default, in the tenant, for the administrator', async () => {
      const t = server();
      const profile = baseProfile();
      const shown = await azJson<AzAccount>(profile, ['account', 'show']);
      expect(shown).toMatchObject({
        environmentName: CLOUD,
        id: t.subscriptionId,
        isDefault: true,
        state: 'Enabled',
        tenantId: t.tenantId,
        user: { name: t.adminClientId, type: 'servicePrincipal' },
      });
      const listed = await azJson<AzAccount[]>(profile, ['account', 'list']);
      expect(listed).toEqual([{ ...shown, cloudName: CLOUD, environmentName: undefined }]);
    });

    it.concurrent(
      'az group create, list, exists and delete: the group is made, listed and removed in ARM',
      { timeout: 90_000 },
      async () => {
        const t = server();
        const profile = await asAdmin();
        const name = 'az-made-rg';
        const created = await azJson<AzGroup>(profile, [
          'group',
          'create',
          '-n',
          name,
          '-l',
          'westeurope',
          '--tags',
          'team=compat',
        ]);
        expect(created).toMatchObject({
          name,
          location: 'westeurope',
          tags: { team: 'compat' },
          type: 'Microsoft.Resources/resourceGroups',
          properties: { provisioningState: 'Succeeded' },
        });
        expect(sameId(created.id, groupPath(t, name))).toBe(true);
        expect(await armStatus(t, groupPath(t, name), 'api-version=2021-04-01')).toBe(200);

        const listed = await azJson<AzGroup[]>(profile, ['group', 'list']);
        expect(listed.map((g) => g.name)).toEqual(expect.arrayContaining([GROUP, name]));

        succeeded(await az(profile, ['group', 'delete', '-n', name, '--yes']));
        expect(await azJson<boolean>(profile, ['group', 'exists', '-n', name])).toBe(false);
        expect(await armStatus(t, groupPath(t, name), 'api-version=2021-04-01')).toBe(404);
      },
    );

    it.concurrent(
      'az identity create, list, show and delete: a user-assigned identity with its principal and client ids',
      { timeout: 90_000 },
      async () => {
        const t = server();
        const profile = await asAdmin();
        const name = 'az-made-identity';
        const created = await azJson<AzIdentity>(profile, [
          'identity',
          'create',
          '-g',
          GROUP,
          '-n',
          name,
        ]);
        expect(created).toMatchObject({
          name,
          resourceGroup: GROUP,
          tenantId: t.tenantId,
          type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
        });
        expect(created.principalId).toMatch(GUID);
        expect(created.clientId).toMatch(GUID);
        expect(sameId(created.id, identityPath(t, GROUP, name))).toBe(true);
        const inArm = await t.arm('GET', `${identityPath(t, GROUP, name)}?${UAI_V}`);
        expect(inArm.body).toMatchObject({
          properties: { principalId: created.principalId, clientId: created.clientId },
        });

        const listed = await azJson<AzIdentity[]>(profile, ['identity', 'list', '-g', GROUP]);
        expect(listed.filter((i) => i.name === name)).toEqual([created]);
        expect(
          await azJson<AzIdentity>(profile, ['identity', 'show', '-g', GROUP, '-n', name]),
        ).toEqual(created);

        succeeded(await az(profile, ['identity', 'delete', '-g', GROUP, '-n', name]));
        expect(await armStatus(t, identityPath(t, GROUP, name), UAI_V)).toBe(404);
      },
    );

    it.concurrent(
      'az resource list -g and --name: the resources of the group, by name and type',
      { timeout: 90_000 },
      async () => {
        const t = server();
        const group = 'az-resources-rg';
        await makeGroup(t, group);
        const made = await Promise.all(
          ['az-res-a', 'az-res-b'].map((name) => makeIdentity(t, group, name)),
        );
        const profile = await asAdmin();
        const listed = await azJson<{ id: string; name: string; type: string }[]>(profile, [
          'resource',
          'list',
          '-g',
          group,
        ]);
        expect(listed.map(({ name, type }) => ({ name, type })).sort(byName)).toEqual(
          made.map(({ name }) => ({
            name,
            type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
          })),
        );
        expect(sameId(listed.find((r) => r.name === 'az-res-b')?.id, made[1]!.id)).toBe(true);

        const byItsName = await azJson<{ id: string }[]>(profile, [
          'resource',
          'list',
          '--name',
          'az-res-b',
        ]);
        expect(byItsName.map((r) => r.id.toLowerCase())).toEqual([made[1]!.id.toLowerCase()]);
      },
    );

    it.concurrent(
      'az vm identity assign, show and remove (profile 2020-09-01-hybrid): the VM gains and loses its system-assigned and user-assigned identities, and IMDS serves the system one',
      { timeout: 120_000 },
      async () => {
        const t = server();
        const vm = { group: GROUP, name: 'az-vm', hostId: host().hostId };
        const address = '127.0.0.41';
        const [uai] = await Promise.all([
          makeIdentity(t, GROUP, 'az-vm-uai'),
          placeVm(t, vm, address),
        ]);
        const profile = await asAdmin();
        // Debian's azure-mgmt-compute has no virtual_machines for the `latest` profile's
        // api-version 2022-11-01 ("API version 2022-11-01 does not have operation group
        // 'virtual_machines'"): the hybrid profile's 2020-06-01 is what az can send.
        succeeded(
          await az(profile, ['cloud', 'update', '-n', CLOUD, '--profile', '2020-09-01-hybrid']),
        );

        const system = await azJson<{
          systemAssignedIdentity: string;
          userAssignedIdentities: Record<string, unknown>;
        }>(profile, ['vm', 'identity', 'assign', '-g', GROUP, '-n', vm.name]);
        expect(system.systemAssignedIdentity).toMatch(GUID);
        expect(system.userAssignedIdentities).toEqual({});
        expect((await getVm(t, GROUP, vm.name)).identity).toMatchObject({
          type: 'SystemAssigned',
          principalId: system.systemAssignedIdentity,
        });
        const token = await imdsToken(host().imdsUrl, { from: address, resource: ARM_AUDIENCE });
        expect(decodeJwt(token.access_token).oid).toBe(system.systemAssignedIdentity);

        const both = await azJson<{
          systemAssignedIdentity: string;
          userAssignedIdentities: Record<string, { clientId: string; principalId: string }>;
        }>(profile, [
          'vm',
          'identity',
          'assign',
          '-g',
          GROUP,
          '-n',
          vm.name,
          '--identities',
          uai.name,
        ]);
        expect(both.systemAssignedIdentity).toBe(system.systemAssignedIdentity);
        expect(Object.keys(both.userAssignedIdentities).map((k) => k.toLowerCase())).toEqual([
          uai.id.toLowerCase(),
        ]);
        expect(Object.values(both.userAssignedIdentities)).toEqual([
          { clientId: uai.clientId, principalId: uai.principalId },
        ]);

        const shown = await azJson<AzVmIdentity>(profile, [
          'vm',
          'identity',
          'show',
          '-g',
          GROUP,
          '-n',
          vm.name,
        ]);
        expect(shown).toMatchObject({
          type: 'SystemAssigned, UserAssigned',
          principalId: system.systemAssignedIdentity,
          tenantId: t.tenantId,
        });

        const withoutUai = await azJson<AzVmIdentity>(profile, [
          'vm',
          'identity',
          'remove',
          '-g',
          GROUP,
          '-n',
          vm.name,
          '--identities',
          uai.name,
        ]);
        expect(withoutUai).toMatchObject({
          type: 'SystemAssigned',
          principalId: system.systemAssignedIdentity,
        });
        expect(withoutUai.userAssignedIdentities ?? {}).toEqual({});

        succeeded(await az(profile, ['vm', 'identity', 'remove', '-g', GROUP, '-n', vm.name]));
        expect((await getVm(t, GROUP, vm.name)).identity?.type ?? 'None').toBe('None');
      },
    );

    it.concurrent(
      'az rest PUT, GET (with $filter) and DELETE of a role assignment (az role is broken on Debian): Reader for an identity on the group',
      { timeout: 90_000 },
      async () => {
        const t = server();
        const [target, profile] = await Promise.all([
          makeIdentity(t, GROUP, 'az-role-target'),
          asAdmin(),
        ]);
        const name = randomUUID();
        const assignments = `/subscriptions/{subscriptionId}/resourceGroups/${GROUP}/providers/Microsoft.Authorization/roleAssignments`;
        const reader = `${t.subscriptionPath}/providers/Microsoft.Authorization/roleDefinitions/${BUILT_IN_ROLE_IDS.reader}`;
        const created = await azRest<RoleAssignment>(
          profile,
          'put',
          `${assignments}/${name}?${ROLES_V}`,
          {
            body: JSON.stringify({
              properties: { roleDefinitionId: reader, principalId: target.principalId },
            }),
          },
        );
        expect(created).toMatchObject({
          name,
          type: 'Microsoft.Authorization/roleAssignments',
          properties: { principalId: target.principalId },
        });
        expect(sameId(created.properties.roleDefinitionId, reader)).toBe(true);
        expect(sameId(created.properties.scope, groupPath(t, GROUP))).toBe(true);

        const filter = encodeURIComponent(`principalId eq '${target.principalId}'`);
        const listed = await azRest<{ value: RoleAssignment[] }>(
          profile,
          'get',
          `${assignments}?${ROLES_V}&$filter=${filter}`,
        );
        expect(listed.value.map((a) => a.name)).toEqual([name]);

        const deleted = await azRest<RoleAssignment>(profile, 'delete', `${created.id}?${ROLES_V}`);
        expect(deleted.name).toBe(name);
        expect(await armStatus(t, created.id, ROLES_V)).toBe(404);
      },
    );

    it.concurrent(
      'az rest PUT of a custom role definition: listed by roleName, then assigned to an identity',
      { timeout: 90_000 },
      async () => {
        const t = server();
        const [target, profile] = await Promise.all([
          makeIdentity(t, GROUP, 'az-custom-role-target'),
          asAdmin(),
        ]);
        const roleId = randomUUID();
        const roleName = 'az compat identity reader';
        const definitions =
          '/subscriptions/{subscriptionId}/providers/Microsoft.Authorization/roleDefinitions';
        const created = await azRest<{
          id: string;
          name: string;
          properties: { roleName: string; type: string; permissions: unknown[] };
        }>(profile, 'put', `${definitions}/${roleId}?${ROLES_V}`, {
          body: JSON.stringify({
            properties: {
              roleName,
              description: 'Reads user-assigned identities.',
              type: 'CustomRole',
              permissions: [
                {
                  actions: ['Microsoft.ManagedIdentity/userAssignedIdentities/read'],
                  notActions: [],
                  dataActions: [],
                  notDataActions: [],
                },
              ],
              assignableScopes: [t.subscriptionPath],
            },
          }),
        });
        expect(created).toMatchObject({
          name: roleId,
          properties: { roleName, type: 'CustomRole' },
        });

        const filter = encodeURIComponent(`roleName eq '${roleName}'`);
        const listed = await azRest<{ value: { name: string }[] }>(
          profile,
          'get',
          `${definitions}?${ROLES_V}&$filter=${filter}`,
        );
        expect(listed.value.map((d) => d.name)).toEqual([roleId]);

        const assigned = await azRest<RoleAssignment>(
          profile,
          'put',
          `/subscriptions/{subscriptionId}/resourceGroups/${GROUP}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?${ROLES_V}`,
          {
            body: JSON.stringify({
              properties: { roleDefinitionId: created.id, principalId: target.principalId },
            }),
          },
        );
        expect(sameId(assigned.properties.roleDefinitionId, created.id)).toBe(true);
      },
    );

    it.concurrent(
      'az rest --resource https://vault.localhost[:port] (az keyvault secret is broken on Debian): sets and shows a secret as a Key Vault Secrets Officer',
      { timeout: 90_000 },
      async () => {
        const t = server();
        const vault = (await armWrite(
          t,
          'PUT',
          `${groupPath(t, GROUP)}/providers/Microsoft.KeyVault/vaults/az-compat-kv?${VAULT_V}`,
          { location: 'westeurope' },
        )) as { id: string; properties: { vaultUri: string } };
        const officer = await assignRole(t, {
          scope: vault.id,
          roleId: BUILT_IN_ROLE_IDS.keyVaultSecretsOfficer,
          principalId: t.adminObjectId,
        });
        expect(officer.status).toBe(201);
        const profile = await asAdmin();
        const { vaultUri } = vault.properties;
        const { host: vaultHost, port } = new URL(vaultUri);
        expect(port).toBe(new URL(t.httpsUrl).port);
        // *.vault.localhost does not resolve here: the request goes to the HTTPS listener and
        // names the vault in its Host header, as DNS and a TLS front would.
        const secretUrl = `${t.httpsUrl}/secrets/az-secret?api-version=7.4`;
        const value = `az-value-${randomUUID()}`;
        const set = await azRest<SecretBundle>(profile, 'put', secretUrl, {
          headers: `Host=${vaultHost}`,
          resource: 'https://vault.localhost',
          body: JSON.stringify({ value }),
        });
        expect(set.value).toBe(value);
        expect(set.id).toMatch(new RegExp(`^${vaultUri}secrets/az-secret/[0-9a-f]{32}$`));

        const shown = await azRest<SecretBundle>(profile, 'get', secretUrl, {
          headers: `Host=${vaultHost}`,
          resource: `https://vault.localhost:${port}`,
        });
        expect(shown).toMatchObject({ id: set.id, value, attributes: { enabled: true } });
      },
    );

    it.concurrent(
      "az account get-access-token, and with --resource: the administrator's tokens, signed by Tessera, for ARM's audience and the vaults'",
      { timeout: 90_000 },
      async () => {
        const t = server();
        const profile = await asAdmin();
        const { token } = await accessTokenClaims(profile);
        expect(token).toMatchObject({
          subscription: t.subscriptionId,
          tenant: t.tenantId,
          tokenType: 'Bearer',
        });
        // az prints the local time, without a zone.
        expect(new Date(token.expiresOn).getTime()).toBeGreaterThan(Date.now());
        const claims = await verifiedClaims(t, token.accessToken, ARM_AUDIENCE);
        expect(claims).toMatchObject({
          appid: t.adminClientId,
          appidacr: '1',
          oid: t.adminObjectId,
          tid: t.tenantId,
          idtyp: 'app',
        });

        const vault = await accessTokenClaims(profile, ['--resource', 'https://vault.localhost']);
        const vaultClaims = await verifiedClaims(
          t,
          vault.token.accessToken,
          'https://vault.localhost',
        );
        expect(vaultClaims.oid).toBe(t.adminObjectId);
      },
    );

    it.concurrent(
      'az identity federated-credential create, list, show and delete: the credential ARM keeps on the identity',
      { timeout: 90_000 },
      async () => {
        const t = server();
        const [identity, profile] = await Promise.all([
          makeIdentity(t, GROUP, 'az-fic-identity'),
          asAdmin(),
        ]);
        const on = ['-g', GROUP, '--identity-name', identity.name];
        const name = 'apps-web';
        const created = await azJson<AzFederatedCredential>(profile, [
          'identity',
          'federated-credential',
          'create',
          ...on,
          '-n',
          name,
          '--issuer',
          'https://issuer.example.com/',
          '--subject',
          'system:serviceaccount:apps:web',
          '--audiences',
          EXCHANGE_AUDIENCE,
        ]);
        const ficId = `${identity.id}/federatedIdentityCredentials/${name}`;
        expect(created).toMatchObject({
          name,
          issuer: 'https://issuer.example.com/',
          subject: 'system:serviceaccount:apps:web',
          audiences: [EXCHANGE_AUDIENCE],
          type: 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials',
        });
        expect(sameId(created.id, ficId)).toBe(true);
        expect((await t.arm('GET', `${ficId}?${UAI_V}`)).body).toMatchObject({
          properties: { issuer: 'https://issuer.example.com/', subject: created.subject },
        });

        const listed = await azJson<AzFederatedCredential[]>(profile, [
          'identity',
          'federated-credential',
          'list',
          ...on,
        ]);
        expect(listed).toEqual([created]);
        expect(
          await azJson<AzFederatedCredential>(profile, [
            'identity',
            'federated-credential',
            'show',
            ...on,
            '-n',
            name,
          ]),
        ).toEqual(created);

        succeeded(
          await az(profile, [
            'identity',
            'federated-credential',
            'delete',
            ...on,
            '-n',
            name,
            '--yes',
          ]),
        );
        expect(await armStatus(t, ficId, UAI_V)).toBe(404);
      },
    );

    it.concurrent(
      "az login --service-principal -u {identity's clientId} --federated-token {a VM's IMDS token} --allow-no-subscriptions: the identity trusting that token signs in; get-access-token gives its token",
      { timeout: 90_000 },
      async () => {
        const t = server();
        const a = host();
        const address = '127.0.0.42';
        const [source, target] = await Promise.all([
          makeIdentity(t, GROUP, 'az-fed-source'),
          makeIdentity(t, GROUP, 'az-fed-target'),
        ]);
        await placeVm(t, { group: GROUP, name: 'az-fed-vm', hostId: a.hostId }, address, {
          type: 'UserAssigned',
          userAssignedIdentities: { [source.id]: {} },
        });
        const assertion = (
          await imdsToken(a.imdsUrl, {
            from: address,
            resource: EXCHANGE_AUDIENCE,
            selector: { client_id: source.clientId },
          })
        ).access_token;
        const { iss, sub } = decodeJwt(assertion);
        await armWrite(t, 'PUT', `${target.id}/federatedIdentityCredentials/vm-source?${UAI_V}`, {
          properties: {
            issuer: String(iss),
            subject: String(sub),
            audiences: [EXCHANGE_AUDIENCE],
          },
        });

        const profile = await signedOut();
        const accounts = await azJson<AzAccount[]>(profile, [
          'login',
          '--service-principal',
          '-u',
          target.clientId,
          '--tenant',
          t.tenantId,
          '--federated-token',
          assertion,
          '--allow-no-subscriptions',
        ]);
        // No role anywhere: az's tenant-level account.
        expect(accounts).toMatchObject([
          {
            id: t.tenantId,
            name: 'N/A(tenant level account)',
            tenantId: t.tenantId,
            user: { name: target.clientId, type: 'servicePrincipal' },
          },
        ]);
        const { token } = await accessTokenClaims(profile);
        const claims = await verifiedClaims(t, token.accessToken, ARM_AUDIENCE);
        expect(claims).toMatchObject({
          appid: target.clientId,
          appidacr: '2',
          oid: target.principalId,
          tid: t.tenantId,
        });
        expect(sameId(claims.xms_mirid, target.id)).toBe(true);
      },
    );

    it.concurrent(
      'az login --service-principal -u {appId} -p {key and certificate in one PEM}: an application with Reader signs in with its certificate',
      // MSAL for Python pads the assertion's `x5t` with '=' ("lysWsPo1WLQmAKTwMPjdJsUEwng=").
      { timeout: 90_000 },
      async () => {
        const t = server();
        const dir = await mkdtemp(join(tmpdir(), 'tessera-compat-az-cert-'));
        try {
          const keyFile = join(dir, 'key.pem');
          const certFile = join(dir, 'cert.pem');
          // An application's own certificate, as its owner makes one.
          await promisify(execFile)('openssl', [
            'req',
            '-x509',
            '-newkey',
            'rsa:2048',
            '-nodes',
            '-keyout',
            keyFile,
            '-out',
            certFile,
            '-days',
            '2',
            '-subj',
            '/CN=az-compat-cert',
          ]);
          const certificate = await readFile(certFile, 'utf8');
          const pemFile = join(dir, 'az-compat-cert.pem');
          await writeFile(pemFile, `${await readFile(keyFile, 'utf8')}${certificate}`);

          // The application and its role through the operator command; Tessera has no API that
          // registers an application's certificate (Entra: `az ad app credential reset --cert`),
          // so the operator adds it through the store, as the `tessera` operator commands do.
          const app = JSON.parse(
            await runTessera('tessera ad sp create-for-rbac', [
              'ad',
              'sp',
              'create-for-rbac',
              '-n',
              'az-compat-cert-app',
              '--role',
              'Reader',
              '--scopes',
              t.subscriptionPath,
              '--data-dir',
              t.dataDir,
              '-o',
              'json',
            ]),
          ) as { appId: string };
          await withStore({ dataDir: t.dataDir }, async (store, config) => {
            const principal = await store.principals.getByAppId(app.appId);
            if (principal === undefined) throw new Error(`no principal for ${app.appId}`);
            const services = createServerServices(
              store,
              { now: () => Date.now() },
              serviceSettingsFrom(config, ''),
            );
            await services.directory.addCertificate(principal.objectId, certificate);
          });

          const profile = await signedOut();
          const accounts = await azJson<AzAccount[]>(profile, [
            'login',
            '--service-principal',
            '-u',
            app.appId,
            '-p',
            pemFile,
            '--tenant',
            t.tenantId,
          ]);
          expect(accounts).toMatchObject([
            {
              id: t.subscriptionId,
              tenantId: t.tenantId,
              user: { name: app.appId, type: 'servicePrincipal' },
            },
          ]);
          const { token } = await accessTokenClaims(profile);
          const claims = await verifiedClaims(t, token.accessToken, ARM_AUDIENCE);
          // appidacr 2: the client proved itself with a certificate.
          expect(claims).toMatchObject({ appid: app.appId, appidacr: '2', tid: t.tenantId });
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    );
  },
);

/** Orders items by `name`. */
function byName(a: { name: string }, b: { name: string }): number {
  return a.name.localeCompare(b.name);
}
