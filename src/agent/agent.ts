// The agent's core, wired: host identity, VM sync, identity keys, token cache and the IMDS backend.
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../config/logger.js';
import { identityNotFound, isAppError } from '../core/errors.js';
import type { AgentIdentity, AgentTokenResponse, AgentVm } from '../wire/agent-api.js';
import { type AgentBackend, createAgentBackend } from './backend.js';
import { type AgentClock, systemAgentClock } from './clock.js';
import { type HostIdentity, loadOrRegisterHost } from './host-identity.js';
import { createIdentityKeys, type IdentityKeys } from './identity-keys.js';
import { createRefusalReporter } from './refusal-reporter.js';
import type { ReplicaEvent, ReplicaState } from './replica-set.js';
import { readSealed, writeSealed } from './sealed-file.js';
import { createServerClient, type UpstreamRoute } from './server-client.js';
import { isVmSync } from './server-replies.js';
import { type CachedTokenRecord, createTokenCache, type TokenCache } from './token-cache.js';
import { createVmMap, type VmMap, type VmMapChange } from './vm-map.js';

/** The sealed identity keys inside the state directory. */
export const SEALED_KEYS_FILE = 'keys.json';
/** The sealed VM map and tokens a clean stop leaves for the next start (when sealing). */
export const SEALED_CACHE_FILE = 'cache.json';
const CACHE_PURPOSE = 'cache';

/** Callbacks for metrics. Each is called synchronously and must not throw. */
export interface AgentObserver {
  /** A token was served from the cache (hot path: keep it cheap). */
  readonly onCacheHit?: (() => void) | undefined;
  /** A token was not cached (or `bypassCache`): the server is asked. */
  readonly onCacheMiss?: (() => void) | undefined;
  /**
   * A call to the server finished; `ok` is false for network failures and 5xx answers. For the
   * `sync` route the duration includes the long-poll's wait: leave it out of latency histograms.
   */
  readonly onUpstream?:
    ((durationMs: number, route: UpstreamRoute, ok: boolean) => void) | undefined;
  /**
   * A certificate the agent holds was issued or renewed (`notAfter`, epoch ms), or, for an
   * identity whose key was dropped, forgotten (undefined). For expiry gauges; the pull-style
   * {@link Agent.certificateExpiries} gives the same.
   */
  readonly onCertificate?:
    ((kind: 'host' | 'identity', id: string, notAfter: number | undefined) => void) | undefined;
  /** IMDS refused a caller (unknown address and the like). */
  readonly onRefused?: ((address: string, reason: string) => void) | undefined;
}

/** Options of {@link createAgent}. */
export interface AgentOptions {
  /** The server's public URL (or a load balancer's), or its replicas' in order of preference. */
  readonly serverUrl: string | readonly string[];
  /** PEM CA certificates to trust for an `https` server URL (contents of `agent.caFile`). */
  readonly caPem?: string | undefined;
  /** Needed on the first start only (or after the host certificate expired). Never logged. */
  readonly joinToken?: string | undefined;
  /** Where `host.json` (and, when sealing, `keys.json`) live; created 0700. */
  readonly stateDir: string;
  /** Default: the system clock. */
  readonly clock?: AgentClock | undefined;
  readonly logger: Logger;
  /**
   * Seal identity keys to `<stateDir>/keys.json` (so a restart needs no new certificates) and, on
   * a clean stop, the VM map and cached tokens to `<stateDir>/cache.json` (read once at the next
   * start), so an agent restarted while the server is down still serves cached tokens.
   */
  readonly sealKeys?: boolean | undefined;
  readonly observer?: AgentObserver | undefined;
  /** How long the server may hold a VM sync poll. Default 30 s. */
  readonly syncWaitSeconds?: number | undefined;
  /** A cached token is served only while at least this much of it remains. Default 60 s. */
  readonly minTokenRemainingSeconds?: number | undefined;
}

/** A certificate the agent depends on and when it expires. */
export interface CertificateExpiry {
  readonly kind: 'host' | 'identity';
  /** The host id, or the identity's principal id. */
  readonly id: string;
  /** Epoch ms. */
  readonly notAfter: number;
}

/** A snapshot of the agent's state, for health checks and logs. */
export interface AgentStatus {
  readonly hostId: string | undefined;
  readonly hostName: string | undefined;
  /** True while the VM sync is connected to the server. */
  readonly connected: boolean;
  /** The server URL (replica) the last successful call went to; no user name or password. */
  readonly serverUrl: string;
  readonly position: number;
  readonly vms: number;
  readonly identityKeys: number;
  readonly cachedTokens: number;
}

/** The agent's core. */
export interface Agent {
  /** What the IMDS surface serves from. Usable once {@link Agent.start} resolved. */
  readonly backend: AgentBackend;
  /**
   * Loads the host identity (registering with the join token if there is none), loads sealed
   * keys, and starts the VM sync and renewals. Resolves without waiting for the first sync (see
   * {@link Agent.synced}). Fails with `ConfigInvalid` (no state and no join token, unsafe files)
   * or the server's AppError when registration is refused or the server cannot be reached.
   */
  start(): Promise<void>;
  /** Resolves after the first successful VM sync. */
  synced(): Promise<void>;
  /** Stops every loop and timer, forgets tokens, writes sealed keys and closes connections. */
  stop(): Promise<void>;
  status(): AgentStatus;
  /** The host certificate and every identity certificate held, with their expiry. */
  certificateExpiries(): CertificateExpiry[];
  /** The VMs on this host (for IMDS's instance metadata and tests). */
  readonly vms: VmMap;
  /** The server URLs (replicas), whether each is usable now, and which one is in use. */
  replicas(): ReplicaState[];
}

/** Logs a change of the server replicas: which one failed, came back, or is used now. */
function logReplicaEvent(logger: Logger, event: ReplicaEvent): void {
  switch (event.kind) {
    case 'down':
      logger.warn(
        { serverUrl: event.replica.label, reason: event.reason, retryInMs: event.retryInMs },
        'server URL failed; other server URLs are tried first while it backs off',
      );
      return;
    case 'up':
      logger.info({ serverUrl: event.replica.label }, 'server URL answers again');
      return;
    case 'moved':
      logger.info(
        { serverUrl: event.to.label, previous: event.from.label },
        'now using another server URL',
      );
      return;
  }
}

/**
 * Makes an agent. Nothing happens until {@link Agent.start}. The pieces: a server client (host
 * authentication), the host identity, the VM map (long-poll), the identity keys (made on this
 * host, certified by the server), the token cache; VM map events drop a changed or removed VM's
 * tokens, drop keys of identities no VM has any more, and certify keys for new ones in advance.
 */
export function createAgent(options: AgentOptions): Agent {
  const clock = options.clock ?? systemAgentClock;
  const { logger, observer } = options;
  const client = createServerClient({
    serverUrl: options.serverUrl,
    caPem: options.caPem,
    clock,
    onReplica: (event) => {
      logReplicaEvent(logger, event);
    },
    onUpstream:
      observer?.onUpstream === undefined
        ? undefined
        : (route, durationMs, ok) => {
            observer.onUpstream?.(durationMs, route, ok);
          },
  });
  const vms = createVmMap({ client, clock, logger, waitSeconds: options.syncWaitSeconds });
  const refusals = createRefusalReporter({ client, clock, logger });
  let host: HostIdentity | undefined;
  let keys: IdentityKeys | undefined;

  const upstream = async (
    vm: AgentVm,
    identity: AgentIdentity,
    resource: string,
    peer: string | undefined,
  ): Promise<AgentTokenResponse> => {
    const held = keys;
    if (held === undefined) throw new Error('the agent is not started');
    // The map says the VM no longer has the identity (a caller raced a detach): no token.
    if (vms.byId(vm.id)?.identities.some((i) => i.principalId === identity.principalId) !== true) {
      throw identityNotFound();
    }
    const ask = async (): Promise<AgentTokenResponse> => {
      // The host's session stands for the identity's key, which the server requires a current
      // certificate of: made (or renewed) here first when the host does not hold one.
      await held.get(identity.principalId);
      return client.token({
        vmId: vm.id,
        clientId: identity.clientId,
        resource,
        ...(peer === undefined ? {} : { peer }),
      });
    };
    try {
      try {
        return await ask();
      } catch (error) {
        // The server no longer knows the identity's certificate (e.g. restored from a backup):
        // certify a new key once and try again.
        if (!isAppError(error) || error.status !== 401 || error.wire.arm !== 'invalid_client') {
          throw error;
        }
        logger.warn(
          { principalId: identity.principalId },
          'identity certificate refused; renewing',
        );
        held.drop([identity.principalId]);
        return await ask();
      }
    } catch (error) {
      // A 403 naming the identity (by client id for a token, by principal for a certificate):
      // the server says the VM or the host no longer has it, and the map has not caught up yet.
      if (
        isAppError(error) &&
        error.status === 403 &&
        (error.target === 'clientId' || error.target === identity.principalId)
      ) {
        throw identityNotFound();
      }
      throw error;
    }
  };

  const tokens: TokenCache = createTokenCache({
    upstream,
    clock,
    logger,
    observer,
    minRemainingSeconds: options.minTokenRemainingSeconds,
  });

  const onVmChange = (change: VmMapChange): void => {
    for (const vm of change.removed) tokens.invalidateVm(vm.id);
    const wanted = new Set<string>();
    for (const { current, previous } of change.changed) {
      tokens.invalidateVm(current.id);
      if (previous !== undefined && previous.id !== current.id) tokens.invalidateVm(previous.id);
      for (const identity of current.identities) wanted.add(identity.principalId);
    }
    if (keys === undefined) return;
    if (change.full) keys.retain(vms.identities());
    else keys.drop(change.identitiesGone);
    keys.provision(wanted);
  };
  vms.onChange(onVmChange);

  const cacheFile = join(options.stateDir, SEALED_CACHE_FILE);
  const sealContext = (registered: HostIdentity) => ({
    hostId: registered.hostId,
    hostKey: registered.credentials().privateKey,
    purpose: CACHE_PURPOSE,
  });

  // A clean stop seals the map and the tokens so the next start serves before the server answers.
  const saveCache = async (registered: HostIdentity): Promise<void> => {
    try {
      const snapshot = { vms: vms.snapshot(), tokens: tokens.exportTokens() };
      await writeSealed(cacheFile, snapshot, sealContext(registered));
    } catch (error) {
      logger.error({ err: error }, 'could not seal the VM map and tokens');
    }
  };

  // Read once and removed: a crash later must not bring back a map and tokens older than the last stop.
  const restoreCache = async (registered: HostIdentity): Promise<void> => {
    if (options.sealKeys !== true) {
      await unlink(cacheFile).catch(() => undefined);
      return;
    }
    let sealed: unknown;
    try {
      sealed = await readSealed(cacheFile, sealContext(registered));
    } catch (error) {
      if (isAppError(error)) throw error;
      logger.warn({ err: error }, 'the sealed VM map and tokens cannot be opened; ignoring them');
    }
    await unlink(cacheFile).catch(() => undefined);
    const saved = sealed as { vms?: unknown; tokens?: unknown } | undefined;
    if (saved === undefined || !isVmSync(saved.vms) || !Array.isArray(saved.tokens)) return;
    vms.apply(saved.vms);
    const restored = tokens.importTokens(
      saved.tokens as CachedTokenRecord[],
      (vmId, principalId) => {
        const vm = vms.byId(vmId);
        const identity = vm?.identities.find((i) => i.principalId === principalId);
        return vm === undefined || identity === undefined ? undefined : { vm, identity };
      },
    );
    logger.info(
      { vms: saved.vms.vms.length, tokens: restored },
      'restored the sealed VM map and tokens',
    );
  };

  return {
    backend: createAgentBackend({
      vms,
      tokens,
      clock,
      logger,
      server: client,
      onRefused: (address, reason) => {
        refusals.record(address, reason);
        observer?.onRefused?.(address, reason);
      },
    }),
    vms,
    async start() {
      logger.info({ serverUrls: client.replicas.replicas.map((r) => r.label) }, 'server URLs');
      host = await loadOrRegisterHost({
        stateDir: options.stateDir,
        client,
        joinToken: options.joinToken,
        clock,
        logger,
      });
      const registered = host;
      keys = createIdentityKeys({
        client,
        clock,
        logger,
        sealing: {
          file: join(options.stateDir, SEALED_KEYS_FILE),
          hostId: registered.hostId,
          hostKey: () => registered.credentials().privateKey,
          enabled: options.sealKeys === true,
        },
        onCertificate: (principalId, notAfter) => {
          observer?.onCertificate?.('identity', principalId, notAfter);
        },
      });
      const held = keys;
      await held.load();
      await restoreCache(registered);
      const announceHost = (): void => {
        observer?.onCertificate?.('host', registered.hostId, registered.certificateNotAfter());
      };
      announceHost();
      registered.onRenewed(() => {
        held.reseal();
        announceHost();
      });
      registered.startRenewal();
      vms.start();
    },
    synced: () => vms.synced(),
    async stop() {
      await vms.stop();
      host?.stop();
      await keys?.stop();
      if (host !== undefined) await refusals.stop();
      if (host !== undefined && options.sealKeys === true) await saveCache(host);
      tokens.clear();
      client.close();
    },
    status: () => ({
      hostId: host?.hostId,
      hostName: host?.hostName,
      connected: vms.connected,
      serverUrl: client.replicas.current().label,
      position: vms.position,
      vms: [...vms.all()].length,
      identityKeys: keys?.held().length ?? 0,
      cachedTokens: tokens.size(),
    }),
    replicas: () => client.replicas.states(),
    certificateExpiries() {
      const out: CertificateExpiry[] = [];
      if (host !== undefined) {
        out.push({ kind: 'host', id: host.hostId, notAfter: host.certificateNotAfter() });
      }
      for (const { principalId, notAfter } of keys?.expiries() ?? []) {
        out.push({ kind: 'identity', id: principalId, notAfter });
      }
      return out;
    },
  };
}
