// `tessera up`: the whole system in one process on an embedded database, for a laptop or CI.
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDataDir, loadConfigOrExit, writeSecretFile } from '../config/index.js';
import { createLogger } from '../config/logger.js';
import { ADMIN_LOGIN_FILE, ADMIN_SECRET_FILE, ensureAdministrator } from '../server/bootstrap.js';
import { startServer } from '../server/runtime.js';
import { type ConfigFlagOptions, loadOptionsFrom } from './flags.js';
import { untilSignal } from './signals.js';
import { DEMO_GROUP, DEMO_HOST, DEMO_VM, ensureDemo } from './demo.js';
import { DEMO_SECRET } from './demo-vault.js';
import { openServerStore } from './server-start.js';
import { resetForUp } from './up-reset.js';
import { startAgentRuntime } from '../agent/runtime.js';

/** `<dataDir>/up.json`: where everything is, for scripts (docs/reference/up-json.md). */
export const UP_FILE = 'up.json';

/**
 * How to read the demo secret as the demo VM: a token from IMDS for the vaults' audience, then the
 * secret over HTTPS. curl resolves `*.localhost` to loopback itself; Node's resolver does not.
 */
function vaultLines(
  vaultUri: string,
  imdsUrl: string,
  dnsSuffix: string,
  caFile: string | undefined,
): string[] {
  const host = new URL(vaultUri).hostname;
  const resource = encodeURIComponent(`https://${dnsSuffix}`);
  const imdsToken = `curl -s '${imdsUrl}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${resource}' -H Metadata:true | sed -E 's/.*"access_token":"([^"]+)".*/\\1/'`;
  return [
    `Key Vault: ${vaultUri} (secret '${DEMO_SECRET}', readable by the VM's identity)`,
    'Read it as the VM would:',
    `  curl -s --cacert ${caFile ?? ''} '${vaultUri}secrets/${DEMO_SECRET}?api-version=7.5' -H "Authorization: Bearer $(${imdsToken})"`,
    `  (Node SDKs need ${host} to resolve: add '127.0.0.1 ${host}' to /etc/hosts)`,
    '',
  ];
}

/**
 * Loads the configuration, prepares the data directory and master key, opens and migrates the
 * store, then runs until SIGINT or SIGTERM and closes cleanly. With `reset`, first empties the data
 * directory and Tessera's PostgreSQL tables ({@link resetForUp}). A bad configuration, or a
 * refused reset, exits with status 2 and one line on stderr.
 */
export async function runUp(
  options: ConfigFlagOptions & { readonly reset?: boolean },
): Promise<void> {
  const config = loadConfigOrExit(loadOptionsFrom(options));
  if (options.reset === true) process.stderr.write(await resetForUp(config, options.config));
  await ensureDataDir(config.dataDir);
  // A file left by a run that did not stop cleanly must not look like a running one.
  const upFile = join(config.dataDir, UP_FILE);
  await unlink(upFile).catch(() => undefined);
  const { store, applied, where, masterKeySource } = await openServerStore(config);
  const logger = createLogger({ level: config.log.level, name: 'tessera' });
  const server = await startServer({ config, store, logger, localTls: true });
  const tenant = server.tenant.id;
  const admin = await ensureAdministrator({
    store,
    services: server.services,
    tenant: server.tenant,
    dataDir: config.dataDir,
    clock: { now: () => Date.now() },
  });
  const demo = await ensureDemo({
    server,
    store,
    dataDir: config.dataDir,
    administratorAppId: admin.principal.appId,
    administratorObjectId: admin.principal.objectId,
    dnsSuffix: config.server.keyVault.dnsSuffix,
  });
  const agent = await startAgentRuntime({
    config,
    logger,
    serverUrl: server.url,
    joinToken: demo.joinToken,
  });
  await agent.agent.synced();
  const tokenEndpoint = `${server.url}/${tenant}/oauth2/v2.0/token`;
  const secretFile = join(config.dataDir, ADMIN_SECRET_FILE);
  const lines = [
    `tessera up: store ready (${where}; ${applied.length} migration(s) applied)`,
    `  data directory:  ${config.dataDir}`,
    `  master key:      ${masterKeySource === 'config' ? 'from configuration' : `${config.dataDir}/master.key`}`,
    `  tenant:          ${tenant}`,
    `  administrator:   client id ${admin.principal.appId}, secret in ${secretFile}${admin.secretFile === undefined ? '' : ' (new)'}`,
    `  OIDC discovery:  ${server.url}/${tenant}/v2.0/.well-known/openid-configuration`,
    `  portal:          ${server.httpsUrl ?? server.url}/portal/ (sign in with the administrator's client id and secret)`,
    ...(server.httpsUrl === undefined
      ? []
      : [
          `  HTTPS (ARM):     ${server.httpsUrl} (for Azure SDKs: export NODE_EXTRA_CA_CERTS=${server.caFile ?? ''})`,
        ]),
    '',
    'Get a token as the administrator:',
    `  curl -s ${tokenEndpoint} -d grant_type=client_credentials -d client_id=${admin.principal.appId} --data-urlencode client_secret@${secretFile} -d scope=https://management.azure.com/.default`,
    '',
    `IMDS (agent for host '${DEMO_HOST}'): ${agent.imdsUrl}; this machine is the VM ${demo.vmId}`,
    'Get a token for it as a VM would:',
    `  curl -s '${agent.imdsUrl}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F' -H Metadata:true`,
    `  (Azure SDKs: export AZURE_POD_IDENTITY_AUTHORITY_HOST=${agent.imdsUrl})`,
    '',
    ...vaultLines(demo.vaultUri, agent.imdsUrl, config.server.keyVault.dnsSuffix, server.caFile),
    `tessera up: ready at ${server.url} (Ctrl-C to stop)`,
    '',
  ];
  const up = {
    server: server.httpsUrl ?? server.url,
    serverHttp: server.url,
    imds: agent.imdsUrl,
    portal: `${server.httpsUrl ?? server.url}/portal/`,
    ca: server.caFile ?? null,
    adminCredentials: join(config.dataDir, ADMIN_LOGIN_FILE),
    tenantId: tenant,
    subscriptionId: server.subscriptionId,
    demo: {
      resourceGroup: DEMO_GROUP,
      vm: DEMO_VM,
      vmResourceId: demo.vmId,
      identityResourceId: demo.identity.id,
      identityClientId: demo.identity.clientId,
      vaultUri: demo.vaultUri,
    },
  };
  // Written once every surface answers: its presence is the signal scripts wait for.
  await writeSecretFile(upFile, `${JSON.stringify(up, null, 2)}\n`);
  process.stdout.write(lines.join('\n'));

  await untilSignal();
  await unlink(upFile).catch(() => undefined);
  await agent.close();
  await server.close();
  await store.close();
  process.stdout.write('tessera up: stopped\n');
}
