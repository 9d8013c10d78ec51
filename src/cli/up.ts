// `tessera up`: the whole system in one process on an embedded database, for a laptop or CI.
import { join } from 'node:path';
import { ensureDataDir, loadConfigOrExit, loadOrCreateMasterKey } from '../config/index.js';
import { createLogger } from '../config/logger.js';
import { ADMIN_SECRET_FILE, ensureAdministrator } from '../server/bootstrap.js';
import { startServer } from '../server/runtime.js';
import { databaseOptionsFrom, openStore } from '../store/index.js';
import { type ConfigFlagOptions, loadOptionsFrom } from './flags.js';
import { untilSignal } from './signals.js';
import { DEMO_HOST, ensureDemo } from './demo.js';
import { startAgentRuntime } from '../agent/runtime.js';

function generatedKeyNotice(file: string): string {
  const rule = '='.repeat(78);
  return [
    rule,
    'tessera: NEW MASTER KEY GENERATED',
    `  ${file}`,
    '  It encrypts every secret Tessera stores (signing keys, Key Vault secrets).',
    '  Back it up: without it those secrets cannot be recovered. In production set',
    '  TESSERA_MASTER_KEY (32 random bytes, base64: `openssl rand -base64 32`) instead.',
    rule,
    '',
  ].join('\n');
}

/**
 * Loads the configuration, prepares the data directory and master key, opens and migrates the
 * store, then runs until SIGINT or SIGTERM and closes cleanly. A bad configuration exits with
 * status 2 and one line on stderr.
 */
export async function runUp(options: ConfigFlagOptions): Promise<void> {
  const config = loadConfigOrExit(loadOptionsFrom(options));
  await ensureDataDir(config.dataDir);
  const embedded = config.store.driver === 'sqlite';
  const masterKey = await loadOrCreateMasterKey({
    dataDir: config.dataDir,
    configured: config.masterKey,
    // Replicas sharing PostgreSQL must share one key, so only an embedded install makes its own.
    allowGenerate: embedded,
  });
  if (masterKey.source === 'generated') {
    process.stderr.write(generatedKeyNotice(`${config.dataDir}/master.key`));
  }
  const { store, applied } = await openStore({
    database: databaseOptionsFrom(config),
    masterKey: masterKey.key,
  });
  const where = embedded
    ? `SQLite ${config.store.sqlite.file}`
    : `PostgreSQL schema ${config.store.postgres.schema}`;
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
    `  master key:      ${masterKey.source === 'config' ? 'from configuration' : `${config.dataDir}/master.key`}`,
    `  tenant:          ${tenant}`,
    `  administrator:   client id ${admin.principal.appId}, secret in ${secretFile}${admin.secretFile === undefined ? '' : ' (new)'}`,
    `  OIDC discovery:  ${server.url}/${tenant}/v2.0/.well-known/openid-configuration`,
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
    `tessera up: ready at ${server.url} (Ctrl-C to stop)`,
    '',
  ];
  process.stdout.write(lines.join('\n'));

  await untilSignal();
  await agent.close();
  await server.close();
  await store.close();
  process.stdout.write('tessera up: stopped\n');
}
