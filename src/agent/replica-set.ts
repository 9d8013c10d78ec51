// Which of the server's replicas the agent talks to: preference order, dead ones backed off, coming back.
import { configInvalid } from '../core/errors.js';
import { AGENT_API_PREFIX, hostAssertionAudience } from '../wire/agent-api.js';
import { type AgentClock, type Backoff, backoffDelay } from './clock.js';

/** One server URL the agent may call: a replica, or a load balancer in front of them. */
export interface Replica {
  /** The URL as configured, without a trailing slash. */
  readonly url: string;
  /** `{url}/agent/v1`. */
  readonly apiUrl: string;
  /** The `aud` of host assertions sent to it (each replica accepts its own URL). */
  readonly audience: string;
  /** The URL for logs and metrics: no user name or password. */
  readonly label: string;
}

/** What changed in the set, for logs and metrics. */
export type ReplicaEvent =
  | {
      readonly kind: 'down';
      readonly replica: Replica;
      readonly reason: string;
      readonly retryInMs: number;
    }
  | { readonly kind: 'up'; readonly replica: Replica }
  | { readonly kind: 'moved'; readonly from: Replica; readonly to: Replica };

/** A replica and whether it is usable now, for metrics. */
export interface ReplicaState {
  readonly replica: Replica;
  /** False while the replica is backed off after a failure. */
  readonly live: boolean;
  /** True for the replica the last successful call went to. */
  readonly current: boolean;
}

/** The replicas of one server and what the agent knows of each. */
export interface ReplicaSet {
  /** Every replica, in the order configured (the order of preference). */
  readonly replicas: readonly Replica[];
  /**
   * The replicas to try for one call, in order: the live ones in the configured order; when
   * none is live, every one, the soonest to come back first (a call is never refused untried).
   */
  candidates(): Replica[];
  /** `replica` answered: it is live (again) and the current one. */
  succeeded(replica: Replica): void;
  /** `replica` did not answer usably: it is dead until its back-off has passed. */
  failed(replica: Replica, reason: string): void;
  /** The replica the last successful call went to (the first before any call). */
  current(): Replica;
  /** Every replica with its state now. */
  states(): ReplicaState[];
  /** Calls `listener` on each change; returns an unsubscribe function. */
  onEvent(listener: (event: ReplicaEvent) => void): () => void;
}

/** Options of {@link createReplicaSet}. */
export interface ReplicaSetOptions {
  /** The server URLs in order of preference; duplicates (and trailing slashes) are dropped. */
  readonly urls: readonly string[];
  readonly clock: AgentClock;
  /** How long a failed replica is left alone. Default 2 s doubling to 30 s, ±50%. */
  readonly backoff?: Backoff | undefined;
  /** In [0, 1): jitter of the back-off. Default `Math.random`. */
  readonly random?: (() => number) | undefined;
}

/** The default back-off of a failed replica: short, so a restarted replica is used again soon. */
export const REPLICA_BACKOFF: Backoff = { initialMs: 2_000, maxMs: 30_000 };

/** Mutable health of one replica. */
interface Health {
  /** Epoch ms before which the replica is not tried (0: live). */
  deadUntil: number;
  /** Failures since it last answered; sizes the next back-off. */
  failures: number;
}

/** A URL without its user name and password, for logs and metrics. */
export function urlLabel(url: string): string {
  if (!URL.canParse(url)) return url;
  const parsed = new URL(url);
  if (parsed.username === '' && parsed.password === '') return url;
  parsed.username = '';
  parsed.password = '';
  return parsed.href.replace(/\/+$/, '');
}

/** The distinct URLs of `urls` without trailing slashes, as replicas. */
function replicasOf(urls: readonly string[]): Replica[] {
  const distinct = [...new Set(urls.map((u) => u.replace(/\/+$/, '')))];
  return distinct.map((url) => ({
    url,
    apiUrl: `${url}${AGENT_API_PREFIX}`,
    audience: hostAssertionAudience(url),
    label: urlLabel(url),
  }));
}

/**
 * Makes the replica set of `options.urls`. Fails with `ConfigInvalid` when there is no URL. A
 * replica fails (a connection failure, a timeout, a 502/503/504; see server-client.ts) and is
 * skipped for a back-off that grows with each failure in a row; after it, it is preferred again
 * in its place, and its next answer makes it live. One URL works as one always did: it is tried
 * whatever its state, since it is the only candidate.
 */
export function createReplicaSet(options: ReplicaSetOptions): ReplicaSet {
  const replicas = replicasOf(options.urls);
  const first = replicas[0];
  if (first === undefined) throw configInvalid('invalid configuration: no server URL');
  const { clock } = options;
  const backoff = options.backoff ?? REPLICA_BACKOFF;
  const random = options.random ?? Math.random;
  const health = new Map<Replica, Health>(replicas.map((r) => [r, { deadUntil: 0, failures: 0 }]));
  const listeners = new Set<(event: ReplicaEvent) => void>();
  let current = first;

  const healthOf = (replica: Replica): Health => {
    const found = health.get(replica);
    if (found === undefined) throw new Error(`not a replica of this set: ${replica.label}`);
    return found;
  };
  const emit = (event: ReplicaEvent): void => {
    for (const listener of listeners) listener(event);
  };
  const isLive = (replica: Replica, now: number): boolean => healthOf(replica).deadUntil <= now;

  return {
    replicas,
    candidates() {
      const now = clock.now();
      const live = replicas.filter((r) => isLive(r, now));
      if (live.length > 0) return live;
      return [...replicas].sort((a, b) => healthOf(a).deadUntil - healthOf(b).deadUntil);
    },
    succeeded(replica) {
      const state = healthOf(replica);
      const wasDown = state.failures > 0;
      state.deadUntil = 0;
      state.failures = 0;
      if (wasDown) emit({ kind: 'up', replica });
      if (replica !== current) {
        const from = current;
        current = replica;
        emit({ kind: 'moved', from, to: replica });
      }
    },
    failed(replica, reason) {
      const state = healthOf(replica);
      const now = clock.now();
      // Calls that were on their way together fail together: one failure, one back-off step.
      if (state.deadUntil > now) return;
      const retryInMs = backoffDelay(state.failures, backoff, random);
      state.failures += 1;
      state.deadUntil = now + retryInMs;
      emit({ kind: 'down', replica, reason, retryInMs });
    },
    current: () => current,
    states() {
      const now = clock.now();
      return replicas.map((replica) => ({
        replica,
        live: isLive(replica, now),
        current: replica === current,
      }));
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}
