// Runs the cloud side: builds the services over an open store, listens, and keeps keys rotating.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { TesseraConfig } from '../config/index.js';
import type { Logger } from '../config/logger.js';
import type { Tenant } from '../core/model.js';
import type { Clock, Store } from '../core/ports.js';
import { createRbacEvaluator, seedBuiltInRoles } from '../core/rbac/index.js';
import { createAccessTokenVerifier, localJwksResolver } from '../core/tokens/index.js';
import { ensureDefaultSubscription } from './bootstrap.js';
import { buildServer } from './app.js';
import { createServerServices, type ServerServices, type ServiceSettings } from './services.js';

/** How often the server checks for a due key rotation and forgets expired assertion ids. */
const MAINTENANCE_INTERVAL_MS = 60_000;

export interface RunningServer {
  /** The URL the server answers at, no trailing slash. */
  readonly url: string;
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

async function freePort(host: string): Promise<number> {
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
 * first signing key exist before it answers; key rotation and replay-cache cleanup run every minute. Port 0 picks a free port.
 */
export async function startServer(options: {
  config: TesseraConfig;
  store: Store;
  logger: Logger;
  clock?: Clock;
}): Promise<RunningServer> {
  const { config, store, logger } = options;
  const clock = options.clock ?? { now: () => Date.now() };
  const { host, tls } = config.server;
  const port = config.server.port === 0 ? await freePort(host) : config.server.port;
  const secure = tls.certFile !== undefined && tls.keyFile !== undefined;
  const url = (config.publicUrl ?? `${secure ? 'https' : 'http'}://${host}:${port}`).replace(
    /\/+$/,
    '',
  );
  const services = createServerServices(store, clock, serviceSettingsFrom(config, url));
  const tenant = await services.directory.ensureDefaultTenant();
  await seedBuiltInRoles(store, clock.now());
  await services.signingKeys.ensure();
  const https =
    tls.certFile !== undefined && tls.keyFile !== undefined
      ? { cert: await readFile(tls.certFile), key: await readFile(tls.keyFile) }
      : undefined;
  const subscriptionId = await ensureDefaultSubscription({ store, tenant, clock });
  const tenants = await store.tenants.list();
  const verifier = createAccessTokenVerifier({
    issuers: tenants.map((t) => services.issuerFor(t.id)),
    audiences: managementAudiences(url),
    clock,
    keys: localJwksResolver(services.login.jwks),
  });
  const arm = {
    services: {
      store,
      clock,
      rbac: createRbacEvaluator({ store, clock }),
      newId: () => randomUUID(),
    },
    verifier,
    authorizationUri: `${url}/${tenant.id}`,
    publicUrl: url,
  };
  const app = await buildServer({
    store,
    clock,
    logger,
    publicUrl: url,
    login: services.login,
    arm,
    https,
  });
  await app.listen({ host, port });

  const maintenance = setInterval(() => {
    void (async () => {
      try {
        await services.signingKeys.ensure();
        await store.assertionReplay.purgeExpired(clock.now());
      } catch (error) {
        logger.error({ err: error }, 'server maintenance failed');
      }
    })();
  }, MAINTENANCE_INTERVAL_MS);
  maintenance.unref();

  return {
    url,
    tenant,
    subscriptionId,
    services,
    close: async () => {
      clearInterval(maintenance);
      await app.close();
    },
  };
}
