// Starts a whole host agent from the configuration: the core, the IMDS listener and the metrics listener.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { TesseraConfig } from '../config/index.js';
import { configInvalid } from '../core/errors.js';
import { type Agent, createAgent } from './agent.js';
import { createImdsServer, type ImdsServer } from './imds/server.js';
import { networkUp } from './network.js';
import { createAgentMetrics, createMetricsServer, type MetricsServer } from './metrics.js';

/** What {@link startAgentRuntime} needs beyond the configuration. */
export interface AgentRuntimeOptions {
  readonly config: TesseraConfig;
  readonly logger: Logger;
  /** Overrides `agent.serverUrl` (`tessera up` passes its own server: one URL). */
  readonly serverUrl?: string | undefined;
  /** Overrides `agent.joinToken`. Never logged. */
  readonly joinToken?: string | undefined;
  /** Overrides the IMDS port (`tessera up` binds a free one when the default is taken). */
  readonly imdsPort?: number | undefined;
  /** Start the metrics listener (default true). */
  readonly metrics?: boolean | undefined;
}

/** A running agent with its listeners. */
export interface AgentRuntime {
  readonly agent: Agent;
  /** `http://host:port` of IMDS: what `AZURE_POD_IDENTITY_AUTHORITY_HOST` takes. */
  readonly imdsUrl: string;
  readonly metricsUrl: string | undefined;
  close(): Promise<void>;
}

/** The agent's state directory under the data directory: `host.json`, sealed keys. */
export const agentStateDir = (dataDir: string): string => join(dataDir, 'agent');

/**
 * Starts the agent (registering with the join token on the first start), then IMDS on
 * `agent.imds.host:port` and `/metrics` on `agent.metrics.host:port`. Fails with
 * `ConfigInvalid` when there is no server URL; the listeners are closed again if a later step
 * fails.
 */
export async function startAgentRuntime(options: AgentRuntimeOptions): Promise<AgentRuntime> {
  const { config, logger } = options;
  const serverUrl = options.serverUrl ?? config.agent.serverUrl;
  if (serverUrl === undefined) {
    throw configInvalid('agent.serverUrl is required to run an agent (TESSERA_AGENT_SERVER_URL).');
  }
  const caPem =
    config.agent.caFile === undefined ? undefined : await readFile(config.agent.caFile, 'utf8');
  const { bridge, antiSpoofing } = config.agent.network;
  if (bridge !== undefined) {
    // Before anything listens: IMDS may be asked to listen on the bridge's 169.254.169.254.
    const made = await networkUp({ bridge, antiSpoofing });
    logger.info({ ...made }, 'VM network is up');
  }
  const metrics = createAgentMetrics();
  const agent = createAgent({
    serverUrl,
    caPem,
    joinToken: options.joinToken ?? config.agent.joinToken,
    stateDir: agentStateDir(config.dataDir),
    logger,
    sealKeys: config.agent.sealKeys,
    observer: {
      onCacheHit: () => {
        metrics.cacheLookup(true);
      },
      onCacheMiss: () => {
        metrics.cacheLookup(false);
      },
      onUpstream: (durationMs, route, ok) => {
        // A sync's duration includes its long-poll wait: not a latency.
        if (route !== 'sync') metrics.observeUpstream(durationMs / 1000, ok ? 'ok' : 'error');
      },
      onCertificate: (kind, id, notAfter) => {
        if (notAfter === undefined) metrics.clearCertificateExpiry(kind, id);
        else metrics.setCertificateExpiry(kind, id, Math.floor(notAfter / 1000));
      },
    },
  });
  metrics.watchReplicas(() =>
    agent.replicas().map(({ replica, live, current }) => ({ url: replica.label, live, current })),
  );
  await agent.start();
  let imds: ImdsServer | undefined;
  let admin: MetricsServer | undefined;
  try {
    imds = await createImdsServer({
      backend: agent.backend,
      host: config.agent.imds.host,
      port: options.imdsPort ?? config.agent.imds.port,
      rateLimit: config.agent.imds.rateLimit,
      connections: config.agent.imds.connections,
      metrics,
      logger,
    });
    const { perAddress, max } = imds.connections;
    logger.info({ perAddress, max }, 'IMDS connection caps');
    if (options.metrics ?? true) {
      admin = await createMetricsServer({
        host: config.agent.metrics.host,
        port: config.agent.metrics.port,
        metrics,
      });
    }
  } catch (error) {
    await imds?.close();
    await agent.stop();
    throw error;
  }
  const listening = imds;
  return {
    agent,
    imdsUrl: listening.url,
    metricsUrl: admin?.url,
    close: async () => {
      await listening.close();
      await admin?.close();
      await agent.stop();
    },
  };
}
