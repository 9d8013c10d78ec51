// `tessera up`: the whole system in one process on an embedded database, for a laptop or CI.
import { unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  ADMIN_LOGIN_FILE,
  ADMIN_SECRET_FILE,
  ensureDataDir,
  loadConfigOrExit,
  MASTER_KEY_FILE,
  type TesseraConfig,
  writeSecretFile,
} from '../config/index.js';
import { type LogLevel, moreVerbose } from '../config/logger.js';
import { type ConfigFlagOptions, loadOptionsFrom } from './flags.js';
import { untilSignal } from './signals.js';
import { DEMO_GROUP, DEMO_HOST, DEMO_VM, ensureDemo } from './demo.js';
import { DEMO_SECRET } from './demo-vault.js';
import type { ServerLauncher } from './server-launcher.js';
import { lockServerStore, openServerStore, type ServerStore } from './server-start.js';
import { UP_FILE } from './up-file.js';
import { createUpLog } from './up-log.js';
import { resetForUp } from './up-reset.js';
import { startAgentRuntime } from '../agent/runtime.js';

export { UP_FILE } from './up-file.js';

/** Options of `tessera up`. */
export interface UpOptions extends ConfigFlagOptions {
  readonly reset?: boolean;
  /** `--log-level`: show the log on the terminal from this level up (warnings always show). */
  readonly logLevel?: LogLevel;
  /** `--storage-compatible-issuer`: {@link STORAGE_COMPATIBLE_ISSUER} unless an issuer is set. */
  readonly storageCompatibleIssuer?: boolean;
}

/**
 * Microsoft's v1 issuer form, the only kind of `iss` Azurite's `--oauth basic` accepts (it checks
 * a prefix: docs/compatibility.md, "Storage through Azurite").
 */
const STORAGE_COMPATIBLE_ISSUER = 'https://sts.windows.net/{tenantId}/';

/**
 * `config` with `server.tokens.issuer` set to {@link STORAGE_COMPATIBLE_ISSUER} for this run when
 * `wanted` and the operator set no issuer; an issuer the operator set wins (said on stderr when it
 * is another).
 */
function withStorageCompatibleIssuer(config: TesseraConfig, wanted: boolean): TesseraConfig {
  if (!wanted) return config;
  const { tokens } = config.server;
  if (tokens.issuer !== undefined) {
    if (tokens.issuer !== STORAGE_COMPATIBLE_ISSUER) {
      process.stderr.write(
        `tessera up: --storage-compatible-issuer not applied: server.tokens.issuer is set to ${tokens.issuer}\n`,
      );
    }
    return config;
  }
  return {
    ...config,
    server: { ...config.server, tokens: { ...tokens, issuer: STORAGE_COMPATIBLE_ISSUER } },
  };
}

/** What the banner tells, gathered once everything answers. */
interface BannerFacts {
  readonly dataDir: string;
  readonly where: string;
  readonly masterKey: ServerStore['masterKeySource'];
  readonly serverUrl: string;
  readonly httpsUrl: string | undefined;
  readonly caFile: string | undefined;
  readonly tenant: string;
  readonly adminAppId: string;
  readonly imdsUrl: string;
  /** The demo user-assigned identity's client id: what a workload federates to. */
  readonly identityClientId: string;
  readonly vaultUri: string;
  readonly dnsSuffix: string;
  /** Whether tokens carry Microsoft's v1 issuer form, which Azurite requires. */
  readonly storageIssuer: boolean;
  readonly logFile: string;
  readonly logLevel: LogLevel | undefined;
}

/**
 * The command line of Azurite that accepts this server's storage tokens: OAuth needs HTTPS, here
 * with the server's own certificate from the local CA (it covers 127.0.0.1, Azurite's default host).
 */
function azuriteCommand(caFile: string | undefined): string {
  const tls = caFile === undefined ? undefined : dirname(caFile);
  const cert = tls === undefined ? '<cert file>' : join(tls, 'server.pem');
  const key = tls === undefined ? '<key file>' : join(tls, 'server.key');
  return `npx azurite --oauth basic --cert ${cert} --key ${key} --skipApiVersionCheck`;
}

/** The master key's row: where it is and, when it was just made, that it must be backed up. */
function masterKeyRow(facts: BannerFacts): string {
  const file = join(facts.dataDir, MASTER_KEY_FILE);
  switch (facts.masterKey) {
    case 'config':
      return 'from the configuration (TESSERA_MASTER_KEY)';
    case 'file':
      return `${file} (keep a backup: without it the stored secrets cannot be recovered)`;
    case 'generated':
      return `${file}, NEW: back it up, without it the stored secrets cannot be recovered`;
  }
}

/**
 * What `tessera up` prints once everything answers, in plain words: what runs where, then the
 * lines to copy (IMDS curl, the SDKs' exports, the administrator's token, the demo secret), then
 * `ready`. Everything else goes to the log file.
 */
function bannerLines(facts: BannerFacts): string[] {
  const server = facts.httpsUrl ?? facts.serverUrl;
  const secretFile = join(facts.dataDir, ADMIN_SECRET_FILE);
  const imdsToken = (resource: string): string =>
    `curl -s '${facts.imdsUrl}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(resource)}' -H Metadata:true`;
  const vaultHost = new URL(facts.vaultUri).hostname;
  const vaultToken = `${imdsToken(`https://${facts.dnsSuffix}`)} | sed -E 's/.*"access_token":"([^"]+)".*/\\1/'`;
  const terminal = moreVerbose(facts.logLevel ?? 'warn', 'warn');
  const shown =
    terminal === 'warn'
      ? 'warnings and errors also show here; add --log-level info to see every request'
      : `and here from level ${terminal} up`;
  return [
    `Tessera is running: server, host agent and portal in this one process (${facts.where}).`,
    `  server:      ${server} (ARM, token endpoint, Key Vault)${server === facts.serverUrl ? '' : `; plain HTTP: ${facts.serverUrl}`}`,
    `  portal:      ${server}/portal/ (sign in with the administrator's client id and secret)`,
    `  IMDS:        ${facts.imdsUrl} (host agent '${DEMO_HOST}'; this machine is the VM ${DEMO_VM} in ${DEMO_GROUP})`,
    `  admin:       client id ${facts.adminAppId} in tenant ${facts.tenant}; secret in ${secretFile}`,
    `  master key:  ${masterKeyRow(facts)}`,
    `  log:         ${facts.logFile} (${shown})`,
    '',
    "A managed-identity token for this machine's VM, as in Azure's documentation:",
    `  ${imdsToken('https://management.azure.com/')}`,
    'For the Azure SDKs (ManagedIdentityCredential, DefaultAzureCredential):',
    `  export AZURE_POD_IDENTITY_AUTHORITY_HOST=${facts.imdsUrl}`,
    ...(facts.caFile === undefined ? [] : [`  export NODE_EXTRA_CA_CERTS=${facts.caFile}`]),
    // Not an `export` line: these would switch ManagedIdentityCredential to the exchange.
    `Workload identity instead (docs/workload-identity.md): AZURE_AUTHORITY_HOST=${server}/ AZURE_TENANT_ID=${facts.tenant} AZURE_CLIENT_ID=${facts.identityClientId} AZURE_FEDERATED_TOKEN_FILE=<a token file the demo identity trusts>`,
    "The administrator's token for ARM:",
    `  curl -s ${facts.serverUrl}/${facts.tenant}/oauth2/v2.0/token -d grant_type=client_credentials -d client_id=${facts.adminAppId} --data-urlencode client_secret@${secretFile} -d scope=https://management.azure.com/.default`,
    `The demo vault's secret '${DEMO_SECRET}', read as the VM (for Node SDKs add '127.0.0.1 ${vaultHost}' to /etc/hosts):`,
    `  curl -s${facts.caFile === undefined ? '' : ` --cacert ${facts.caFile}`} '${facts.vaultUri}secrets/${DEMO_SECRET}?api-version=7.5' -H "Authorization: Bearer $(${vaultToken})"`,
    // Azurite takes only Microsoft's issuer form: without it the line would lead nowhere.
    ...(facts.storageIssuer
      ? [
          'Azurite accepting these tokens (resource https://storage.azure.com/; Blob at https://127.0.0.1:10000/devstoreaccount1):',
          `  ${azuriteCommand(facts.caFile)}`,
        ]
      : []),
    '',
    `tessera up: ready at ${facts.serverUrl} (Ctrl-C to stop)`,
    '',
  ];
}

/**
 * Loads the configuration (with `storageCompatibleIssuer`, {@link withStorageCompatibleIssuer}),
 * prepares the data directory and master key, opens and migrates the store, starts the server
 * (with `launchServer`), the demo and the agent, prints {@link bannerLines} and writes
 * `up.json`, then runs until SIGINT or SIGTERM and closes cleanly. The log goes to
 * `<dataDir>/tessera.log`, warnings and errors also to the terminal ({@link createUpLog}). With
 * `reset`, first empties the data directory and Tessera's PostgreSQL tables ({@link resetForUp}).
 * A bad configuration, or a refused reset, exits with status 2 and one line on stderr.
 */
export async function runUp(options: UpOptions, launchServer: ServerLauncher): Promise<void> {
  const config = withStorageCompatibleIssuer(
    loadConfigOrExit(loadOptionsFrom(options)),
    options.storageCompatibleIssuer === true,
  );
  if (options.reset === true) process.stderr.write(await resetForUp(config, options.config));
  await ensureDataDir(config.dataDir);
  // Before touching up.json: another `up` serving this SQLite database refuses this one here.
  const lock = lockServerStore(config);
  // A file left by a run that did not stop cleanly must not look like a running one.
  const upFile = join(config.dataDir, UP_FILE);
  await unlink(upFile).catch(() => undefined);
  const log = createUpLog({
    dataDir: config.dataDir,
    fileLevel: config.log.level,
    terminalLevel: options.logLevel,
  });
  const { logger } = log;
  const { store, applied, where, masterKeySource } = await openServerStore(config, lock);
  logger.info({ store: where, migrationsApplied: applied.length }, 'store ready');
  const server = await launchServer({ config, store, logger, localTls: true }).catch(
    async (error: unknown) => {
      await store.close();
      throw error;
    },
  );
  const tenant = server.tenant.id;
  const admin = server.administrator;
  const demo = await ensureDemo({
    server,
    store,
    dataDir: config.dataDir,
    administratorAppId: admin.appId,
    administratorObjectId: admin.objectId,
    dnsSuffix: config.server.keyVault.dnsSuffix,
  });
  const agent = await startAgentRuntime({
    config,
    logger,
    serverUrl: server.url,
    joinToken: demo.joinToken,
  });
  await agent.agent.synced();
  const up = {
    server: server.httpsUrl ?? server.url,
    serverHttp: server.url,
    imds: agent.imdsUrl,
    portal: `${server.httpsUrl ?? server.url}/portal/`,
    ca: server.caFile ?? null,
    adminCredentials: join(config.dataDir, ADMIN_LOGIN_FILE),
    tenantId: tenant,
    subscriptionId: server.subscriptionId,
    pid: process.pid,
    log: log.file,
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
  const banner = bannerLines({
    dataDir: config.dataDir,
    where,
    masterKey: masterKeySource,
    serverUrl: server.url,
    httpsUrl: server.httpsUrl,
    caFile: server.caFile,
    tenant,
    adminAppId: admin.appId,
    imdsUrl: agent.imdsUrl,
    identityClientId: demo.identity.clientId,
    vaultUri: demo.vaultUri,
    dnsSuffix: config.server.keyVault.dnsSuffix,
    storageIssuer: config.server.tokens.issuer?.startsWith('https://sts.windows.net/') === true,
    logFile: log.file,
    logLevel: options.logLevel,
  });
  process.stdout.write(banner.join('\n'));

  await untilSignal();
  await unlink(upFile).catch(() => undefined);
  await agent.close();
  await server.close();
  await store.close();
  log.close();
  process.stdout.write('tessera up: stopped\n');
}
