// Runs the cloud side: builds the services over an open store, listens, and keeps keys rotating.
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { TesseraConfig } from '../config/index.js';
import type { Logger } from '../config/logger.js';
import type { Tenant } from '../core/model.js';
import { systemClock } from '../core/clock.js';
import type { Clock, Store } from '../core/ports.js';
import type { ChangeSubscription } from '../core/replicas.js';
import { agreeOnInstallation } from '../core/installation.js';
import { createRbacEvaluator, seedBuiltInRoles } from '../core/rbac/index.js';
import { createAccessTokenVerifier, localJwksResolver } from '../core/tokens/index.js';
import { ensureDefaultSubscription } from './bootstrap.js';
import type { FastifyInstance } from 'fastify';
import { hostAssertionAudience } from '../wire/agent-api.js';
import { createAgentApiServices } from './agent-api/plugin.js';
import { buildServer } from './app.js';
import { ensureLocalTls } from './local-tls.js';
import { createSecretService } from '../core/keyvault/secrets.js';
import { keyVaultAudiences, type KeyVaultServices } from './keyvault/plugin.js';
import { challengeResource } from '../wire/keyvault/challenge.js';
import { createVaultDirectory } from './keyvault/vaults.js';
import { createOidcIssuerKeys } from '../client/oidc-issuer-keys.js';
import { createServerServices, type ServerServices, type ServiceSettings } from './services.js';
import { runMaintenance } from './maintenance.js';
import { listenToReplicas } from './replica-notifications.js';

/**
 * How often the server checks for a due key rotation, forgets expired assertion ids, purges
 * deleted secrets and prunes the audit log (each job on one replica at a time: maintenance.ts).
 */
const MAINTENANCE_INTERVAL_MS = 60_000;

export interface RunningServer {
  /** The URL the server answers at, no trailing slash. */
  readonly url: string;
  /** The HTTPS listener's URL, when there is one besides (or as) `url`. */
  readonly httpsUrl: string | undefined;
  /** The local CA clients must trust for `httpsUrl` (from `localTls`). */
  readonly caFile: string | undefined;
  readonly tenant: Tenant;
  /** The first subscription (created on first start). */
  readonly subscriptionId: string;
  readonly services: ServerServices;
  close(): Promise<void>;
}

/** The service settings `config` asks for, for a server answering at `publicUrl`. */
export function serviceSettingsFrom(config: TesseraConfig, publicUrl: string): ServiceSettings {
  return {
    publicUrl,
    tokenLifetimeSeconds: config.server.tokens.lifetimeSeconds,
    issuer: config.server.tokens.issuer,
    signingKeyRotationDays: config.server.tokens.signingKeyRotationDays,
    signingKeyPublishLeadHours: config.server.tokens.signingKeyPublishLeadHours,
    certificateLifetimeDays: config.server.directory.certificateLifetimeDays,
    secretFailures: config.server.tokens.secretFailures,
    refusalWindowSeconds: config.audit.refusalWindowSeconds,
  };
}

/**
 * The audiences the ARM surface accepts: Azure's two management resource URIs and the server's
 * own URL, each with and without a trailing slash.
 */
export function managementAudiences(publicUrl: string): string[] {
  return ['https://management.azure.com', 'https://management.core.windows.net', publicUrl].flatMap(
    (a) => [a, `${a}/`],
  );
}

/**
 * The Key Vault DNS suffix as clients of the listener at `url` reach vaults: with its port unless
 * that is the scheme's default, by the same rule as the vaults' challenge (`vault.localhost:8444`).
 */
export function vaultDnsFor(url: string, dnsSuffix: string): string {
  const { protocol, host } = new URL(url);
  return new URL(challengeResource(dnsSuffix, protocol === 'https:' ? 'https' : 'http', host)).host;
}

/** The listener vaults are reached through: the HTTPS one if any (the SDK wants HTTPS). */
function vaultListenerUrl(listeners: readonly { url: string; https?: unknown }[]): string {
  return (listeners.find((l) => l.https !== undefined) ?? listeners[0])?.url ?? 'https://localhost';
}

/**
 * `properties.vaultUri` of vault `name`: `{scheme}://{name}.{dnsSuffix}[:{port}]/`, with the
 * scheme and port of `baseUrl` (the port left out when it is the scheme's default).
 */
export function vaultUriTemplate(baseUrl: string, dnsSuffix: string): (name: string) => string {
  const base = new URL(baseUrl);
  const port = base.port === '' ? '' : `:${base.port}`;
  return (name) => `${base.protocol}//${name.toLowerCase()}.${dnsSuffix}${port}/`;
}

/**
 * A port the OS reports free on `host` now. Another process may take it before the caller
 * listens; the server needs its URL (token issuer, audiences) before it can listen.
 */
export async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      probe.close(() => {
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
  });
}

/**
 * Starts the server on `config.server`: the default tenant, the built-in role definitions and the
 * first signing key exist before it answers; key rotation, replay-cache cleanup and audit
 * retention (`config.audit.retention`) run every minute, and counted refusals are written every
 * `config.audit.refusalWindowSeconds` (and at close). Port 0 picks a free port. With `server.tls` configured it serves HTTPS on
 * `server.port`; otherwise HTTP there and, with `localTls` (`tessera up`), also HTTPS on
 * `server.httpsPort` with a certificate from a local CA made in the data directory. Before it
 * writes anything it records the installation (public URL, issuer template, master key check) or
 * fails with one `ConfigInvalid` line if this server disagrees with the record (on SQLite, which
 * has one server, the URL and issuer follow the configuration): {@link agreeOnInstallation}.
 */
export async function startServer(options: {
  config: TesseraConfig;
  store: Store;
  logger: Logger;
  clock?: Clock;
  localTls?: boolean;
}): Promise<RunningServer> {
  const { config, store, logger } = options;
  const clock = options.clock ?? systemClock;
  const { host, tls } = config.server;
  const port = config.server.port === 0 ? await freePort(host) : config.server.port;
  const listeners: { url: string; port: number; https?: { cert: Buffer; key: Buffer } }[] = [];
  let caFile: string | undefined;
  if (tls.certFile !== undefined && tls.keyFile !== undefined) {
    const https = { cert: await readFile(tls.certFile), key: await readFile(tls.keyFile) };
    listeners.push({ url: `https://${host}:${port}`, port, https });
  } else {
    listeners.push({ url: `http://${host}:${port}`, port });
    if (options.localTls === true) {
      const httpsPort =
        config.server.httpsPort === 0 ? await freePort(host) : config.server.httpsPort;
      const local = await ensureLocalTls({
        dataDir: config.dataDir,
        dnsNames: [
          'localhost',
          `*.${config.server.keyVault.dnsSuffix}`,
          ...(isIP(host) === 0 ? [host] : []),
        ],
        ipAddresses: ['127.0.0.1', '::1', ...(isIP(host) === 0 ? [] : [host])],
        now: clock.now(),
      });
      caFile = local.caFile;
      listeners.push({
        url: `https://${host}:${httpsPort}`,
        port: httpsPort,
        https: { cert: local.cert, key: local.key },
      });
    }
  }
  const url = (config.publicUrl ?? listeners[0]?.url ?? '').replace(/\/+$/, '');
  const urls = [url, ...listeners.map((l) => l.url).filter((u) => u !== url)];
  // Before anything is written: a replica configured unlike the installation must not start.
  await agreeOnInstallation(
    store.installation,
    {
      publicUrl: url,
      publicUrlConfigured: config.publicUrl !== undefined,
      issuer: config.server.tokens.issuer ?? null,
    },
    { followUrls: store.dialect === 'sqlite', now: clock.now() },
  );
  const { federation } = config.server;
  const federatedKeys = createOidcIssuerKeys({
    allowLoopback: federation.allowLoopbackIssuers ?? options.localTls === true,
    allowPrivate: federation.allowPrivateIssuers,
    caPem: federation.caFile === undefined ? undefined : await readFile(federation.caFile, 'utf8'),
  });
  const services = createServerServices(store, clock, {
    ...serviceSettingsFrom(config, url),
    alternateUrls: urls.slice(1),
    federatedKeys,
  });
  const tenant = await services.directory.ensureDefaultTenant();
  await seedBuiltInRoles(store, clock.now());
  await services.signingKeys.ensure();
  const subscriptionId = await ensureDefaultSubscription({ store, tenant, clock });
  const tenants = await store.tenants.list();
  const verifier = createAccessTokenVerifier({
    issuers: tenants.map((t) => services.issuerFor(t.id)),
    audiences: urls.flatMap(managementAudiences),
    clock,
    keys: localJwksResolver(services.login.jwks),
  });
  const { dnsSuffix, softDeleteRetentionDays } = config.server.keyVault;
  const armServices = {
    store,
    clock,
    rbac: createRbacEvaluator({ store, clock }),
    newId: () => randomUUID(),
    vaultUriFor: vaultUriTemplate(config.publicUrl ?? vaultListenerUrl(listeners), dnsSuffix),
  };
  const keyVault: KeyVaultServices = {
    clock,
    secrets: createSecretService({ store, clock, retentionDays: softDeleteRetentionDays }),
    vaults: createVaultDirectory({ store, clock }),
    verifier: createAccessTokenVerifier({
      issuers: tenants.map((t) => services.issuerFor(t.id)),
      audiences: keyVaultAudiences(
        dnsSuffix,
        listeners.map((l) => l.port),
        url,
      ),
      clock,
      keys: localJwksResolver(services.login.jwks),
    }),
    rbac: armServices.rbac,
    dnsSuffix,
    recoverableDays: softDeleteRetentionDays,
    authorityFor: (tenantId) => `${url}/${tenantId}`,
  };
  // Other replicas' writes, heard through the store (PostgreSQL; none on SQLite): set below.
  const replicas: { changes?: ChangeSubscription | undefined } = {};
  const agentServices = createAgentApiServices({
    store,
    clock,
    directory: services.directory,
    // The same CA as the directory's (both load it from the store).
    ca: services.ca,
    tokens: services.tokens,
    verifier,
    rbac: armServices.rbac,
    audiences: urls.map(hostAssertionAudience),
    onPollError: (error) => {
      logger.error({ err: error }, 'agent API change poll failed');
    },
    notified: () => replicas.changes?.listening === true,
  });
  replicas.changes = await listenToReplicas({
    store,
    changeSignal: agentServices.changeSignal,
    signingKeys: services.signingKeys,
    logger,
  });
  const apps: FastifyInstance[] = [];
  try {
    for (const listener of listeners) {
      const publicUrl = listener === listeners[0] ? url : listener.url;
      const app = await buildServer({
        store,
        clock,
        logger,
        publicUrl,
        login: services.login,
        arm: {
          services: armServices,
          verifier,
          authorizationUri: `${publicUrl}/${tenant.id}`,
          publicUrl,
          keyVaultDns: vaultDnsFor(publicUrl, dnsSuffix),
        },
        agent: { services: agentServices, authorizationUri: `${publicUrl}/${tenant.id}` },
        keyVault,
        portal: { tenantId: tenant.id },
        https: listener.https,
      });
      apps.push(app);
      await app.listen({ host, port: listener.port });
    }
  } catch (error) {
    await Promise.all(apps.map((a) => a.close()));
    await replicas.changes?.close();
    throw error;
  }
  const httpsUrl = listeners.find((l) => l.https !== undefined)?.url;

  const maintenance = setInterval(() => {
    const { retention } = config.audit;
    void runMaintenance({ store, clock, signingKeys: services.signingKeys, retention, logger });
  }, MAINTENANCE_INTERVAL_MS);
  maintenance.unref();
  const flushRefusals = async (all: boolean): Promise<void> => {
    try {
      await services.tokens.flushRefusals(all);
    } catch (error) {
      logger.error({ err: error }, 'writing counted refusals to the audit log failed');
    }
  };
  const refusalCounts = setInterval(() => {
    void flushRefusals(false);
  }, config.audit.refusalWindowSeconds * 1000);
  refusalCounts.unref();

  return {
    url,
    httpsUrl,
    caFile,
    tenant,
    subscriptionId,
    services,
    close: async () => {
      clearInterval(maintenance);
      clearInterval(refusalCounts);
      // Answer agents' long-polls first: a listener closes only once its requests are done.
      agentServices.changeSignal.close();
      await Promise.all(apps.map((a) => a.close()));
      await replicas.changes?.close();
      // Listeners are closed, so no refusal comes after this: every count is written.
      await flushRefusals(true);
      federatedKeys.close();
    },
  };
}
