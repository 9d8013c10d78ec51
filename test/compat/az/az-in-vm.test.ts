// Compatibility: Debian's az CLI (azure-cli 2.45) inside a VM, a network namespace on a bridge,
// signing in with `az login --identity` through the IMDS of a real `tessera agent` process and
// calling ARM on a real `tessera server` process over HTTPS. The VM asks IMDS at
// 169.254.169.254:80 as az always does; a NAT rule inside the namespace takes that to the agent's
// port on the bridge's address, so no other suite's IMDS address or port (test/netns) is touched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_ROLE_IDS } from '../../../src/core/rbac/index.js';
import { IP, NFT, skipForMissingTools } from '../../fixtures/system-tools.js';
import { inNamespace, run } from '../../netns/harness.js';
import { GUID } from '../harness.js';
import { until } from '../imds-probe.js';
import {
  assignRole,
  closeStarted,
  startTesseraAgent,
  startTesseraServer,
  type TesseraServer,
} from '../processes.js';
import { closeAll } from '../tessera-cli.js';
import {
  type AzAccount,
  type AzProfile,
  AZ_TOOL,
  accessTokenClaims,
  armStatus,
  az,
  azJson,
  CLOUD,
  copyProfile,
  groupPath,
  type Identity,
  identityPath,
  makeGroup,
  makeIdentity,
  newProfile,
  placeVm,
  refused,
  removeProfiles,
  sameId,
  succeeded,
  verifiedClaims,
} from './harness.js';

/** Every link and namespace of this file starts with this (test/netns uses `tsr-`). */
const PREFIX = 'tsa-';
const BRIDGE = `${PREFIX}br0`;
const NAMESPACE = `${PREFIX}vm`;
/** The host end of the VM's veth, on the bridge. */
const PORT = `${PREFIX}vmh`;
/** The bridge's address: where the server and the agent's IMDS listen. */
const GATEWAY = '10.78.0.1';
const VM_ADDRESS = '10.78.0.10';
const GROUP = 'az-vm-rg';
const ARM_AUDIENCE = 'https://management.core.windows.net/';
const UAI_V = 'api-version=2023-01-31';
const IMDS_TOKEN_URL = `http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(ARM_AUDIENCE)}`;

/** Runs `file args`, failing with its stderr. */
async function must(file: string, args: readonly string[]): Promise<string> {
  const result = await run(file, args);
  if (result.code !== 0) throw new Error(`${file} ${args.join(' ')}: ${result.stderr.trim()}`);
  return result.stdout;
}

/** Removes this file's namespace and links, whether or not they exist (a crashed run's too). */
async function removeNetwork(): Promise<void> {
  await run('ip', ['netns', 'del', NAMESPACE]);
  await run('ip', ['link', 'del', PORT]);
  await run('ip', ['link', 'del', BRIDGE]);
}

/** The bridge at {@link GATEWAY} and the VM's namespace on it at {@link VM_ADDRESS}. */
async function addNetwork(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new Error('test/compat/az (az in a VM) needs root: network namespaces, veth, bridges');
  }
  await must('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  await must('ip', ['address', 'add', `${GATEWAY}/24`, 'dev', BRIDGE]);
  await must('ip', ['link', 'set', BRIDGE, 'up']);
  await must('ip', ['netns', 'add', NAMESPACE]);
  await must('ip', [
    'link',
    'add',
    PORT,
    'type',
    'veth',
    'peer',
    'name',
    'eth0',
    'netns',
    NAMESPACE,
  ]);
  await must('ip', ['link', 'set', PORT, 'master', BRIDGE, 'up']);
  for (const args of [
    ['link', 'set', 'lo', 'up'],
    ['link', 'set', 'eth0', 'up'],
    ['address', 'add', `${VM_ADDRESS}/24`, 'dev', 'eth0'],
    ['route', 'replace', '169.254.169.254/32', 'dev', 'eth0'],
  ]) {
    await must('ip', ['-n', NAMESPACE, ...args]);
  }
}

/** Inside the VM, sends 169.254.169.254:80 to the agent's IMDS at `imdsUrl` (on the bridge). */
async function routeImdsTo(imdsUrl: string): Promise<void> {
  const { hostname, port } = new URL(imdsUrl);
  await must('ip', [
    'netns',
    'exec',
    NAMESPACE,
    'nft',
    [
      'add table ip tsa_imds',
      'add chain ip tsa_imds output { type nat hook output priority -100; }',
      `add rule ip tsa_imds output ip daddr 169.254.169.254 tcp dport 80 dnat to ${hostname}:${port}`,
    ].join('; '),
  ]);
}

describe.skipIf(skipForMissingTools('test/compat/az (az in a VM)', [AZ_TOOL, IP, NFT]))(
  'compatibility: az CLI (Debian azure-cli 2.45) in a VM (network namespace) with tessera agent and server processes',
  () => {
    let tessera: TesseraServer | undefined;
    /** The VM's profile after cloud register and set, run inside the namespace. */
    let base: AzProfile | undefined;
    let registered = false;
    let reader: Identity;
    let vmId: string;
    let systemPrincipal: string;

    const server = (): TesseraServer => {
      if (tessera === undefined) throw new Error('tessera server did not start');
      return tessera;
    };
    const inVm = (): Promise<AzProfile> => {
      if (base === undefined || !registered) throw new Error('az cloud register in the VM failed');
      return copyProfile(base, { account: false });
    };

    beforeAll(async () => {
      await removeNetwork();
      await addNetwork();
      const t = await startTesseraServer({ settings: [`server.host=${GATEWAY}`] });
      tessera = t;
      const agent = await startTesseraAgent(t, 'az-vm-host', {
        settings: [`agent.imds.host=${GATEWAY}`],
      });
      await routeImdsTo(agent.imdsUrl);
      await makeGroup(t, GROUP);
      reader = await makeIdentity(t, GROUP, 'az-vm-reader');
      const vm = (await placeVm(
        t,
        { group: GROUP, name: 'az-vm', hostId: agent.hostId },
        VM_ADDRESS,
        {
          type: 'SystemAssigned, UserAssigned',
          userAssignedIdentities: { [reader.id]: {} },
        },
      )) as { id: string; identity: { principalId: string } };
      vmId = vm.id;
      systemPrincipal = vm.identity.principalId;
      const grants = await Promise.all([
        assignRole(t, {
          scope: groupPath(t, GROUP),
          roleId: BUILT_IN_ROLE_IDS.contributor,
          principalId: systemPrincipal,
        }),
        assignRole(t, {
          scope: groupPath(t, GROUP),
          roleId: BUILT_IN_ROLE_IDS.reader,
          principalId: reader.principalId,
        }),
      ]);
      for (const grant of grants) expect(grant.status).toBe(201);
      // The agent serves the VM once it has seen it: asked from inside, through the NAT rule.
      await until('IMDS to serve the VM at 169.254.169.254', async () => {
        const asked = await inNamespace(NAMESPACE, 'curl', [
          '-sS',
          '-m',
          '2',
          '-o',
          '/dev/null',
          '-w',
          '%{http_code}',
          '-H',
          'Metadata: true',
          IMDS_TOKEN_URL,
        ]);
        return asked.stdout === '200' ? true : undefined;
      });
      base = await newProfile(t.caFile, NAMESPACE);
    });

    afterAll(async () => {
      await closeAll(closeStarted, removeProfiles, removeNetwork);
    }, 30_000);

    it('az cloud register --endpoint-resource-manager {ARM on the bridge}/ and az cloud set, run in the VM', async () => {
      const { httpsUrl } = server();
      expect(new URL(httpsUrl).hostname).toBe(GATEWAY);
      const profile = base!;
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
      succeeded(await az(profile, ['cloud', 'set', '-n', CLOUD]));
      const cloud = await azJson<{ endpoints: Record<string, string | null>; isActive: boolean }>(
        profile,
        ['cloud', 'show'],
      );
      expect(cloud.isActive).toBe(true);
      expect(cloud.endpoints).toMatchObject({
        resourceManager: `${httpsUrl}/`,
        activeDirectory: `${httpsUrl}/adfs`,
        activeDirectoryResourceId: ARM_AUDIENCE,
      });
      registered = true;
    });

    it.concurrent(
      "az login --identity (system-assigned, Contributor on the group): the subscription, the VM's token, and az identity create as the VM",
      { timeout: 90_000 },
      async () => {
        const t = server();
        const profile = await inVm();
        const accounts = await azJson<AzAccount[]>(profile, ['login', '--identity']);
        expect(accounts).toMatchObject([
          {
            id: t.subscriptionId,
            tenantId: t.tenantId,
            state: 'Enabled',
            user: {
              name: 'systemAssignedIdentity',
              type: 'servicePrincipal',
              assignedIdentityInfo: 'MSI',
            },
          },
        ]);
        const { token } = await accessTokenClaims(profile);
        const claims = await verifiedClaims(t, token.accessToken, ARM_AUDIENCE);
        expect(claims.oid).toBe(systemPrincipal);
        expect(sameId(claims.xms_mirid, vmId)).toBe(true);

        const made = await azJson<{ name: string; principalId: string }>(profile, [
          'identity',
          'create',
          '-g',
          GROUP,
          '-n',
          'made-by-the-vm',
        ]);
        expect(made.principalId).toMatch(GUID);
        expect(await armStatus(t, identityPath(t, GROUP, 'made-by-the-vm'), UAI_V)).toBe(200);
      },
    );

    it.concurrent(
      'az login --identity --username {clientId} (user-assigned, Reader on its group only): /subscriptions lists the subscription; reads work, a write is refused with AuthorizationFailed',
      { timeout: 90_000 },
      async () => {
        const t = server();
        const profile = await inVm();
        const accounts = await azJson<AzAccount[]>(profile, [
          'login',
          '--identity',
          '--username',
          reader.clientId,
        ]);
        expect(accounts).toMatchObject([
          {
            id: t.subscriptionId,
            tenantId: t.tenantId,
            user: {
              name: 'userAssignedIdentity',
              type: 'servicePrincipal',
              assignedIdentityInfo: `MSIClient-${reader.clientId}`,
            },
          },
        ]);
        const { claims } = await accessTokenClaims(profile);
        expect(claims.oid).toBe(reader.principalId);

        const shown = await azJson<{ clientId: string; principalId: string }>(profile, [
          'identity',
          'show',
          '-g',
          GROUP,
          '-n',
          reader.name,
        ]);
        expect(shown).toMatchObject({
          clientId: reader.clientId,
          principalId: reader.principalId,
        });
        refused(
          await az(profile, ['identity', 'create', '-g', GROUP, '-n', 'refused-to-the-reader']),
          /AuthorizationFailed/,
        );
        expect(await armStatus(t, identityPath(t, GROUP, 'refused-to-the-reader'), UAI_V)).toBe(
          404,
        );
      },
    );
  },
);
