// The agent's ImdsBackend: the VM map for callers, the token cache for tokens, the log for refusals.
import type { Logger } from '../config/logger.js';
import type { AgentIdentity, AgentVm } from '../wire/agent-api.js';
import type { AgentClock } from './clock.js';
import type { ServerClient } from './server-client.js';
import type { ImdsBackend, ImdsToken } from './imds/backend.js';
import type { TokenCache } from './token-cache.js';
import type { VmMap } from './vm-map.js';

/** Options of {@link createAgentBackend}. */
export interface AgentBackendOptions {
  readonly vms: VmMap;
  readonly tokens: TokenCache;
  readonly clock: AgentClock;
  readonly logger: Logger;
  /** Signs attested documents (`POST /attest`); absent → IMDS answers 404 there. */
  readonly server?: Pick<ServerClient, 'attest'> | undefined;
  /** Told about every refused caller (for metrics). */
  readonly onRefused?: ((address: string, reason: string) => void) | undefined;
}

/** Options IMDS may pass with a token request; `peer` is the caller's address, for the audit trail. */
export interface TokenOptions {
  readonly bypassCache: boolean;
  readonly peer?: string | undefined;
}

/** The agent's {@link ImdsBackend}; `token` also takes the caller's address for the audit trail. */
export interface AgentBackend extends ImdsBackend {
  token(
    vm: AgentVm,
    identity: AgentIdentity,
    resource: string,
    options: TokenOptions,
  ): Promise<ImdsToken>;
}

/** A refused address is logged at most this often. */
const REFUSAL_LOG_INTERVAL_MS = 60_000;
/** Addresses remembered for log throttling before the memory is cleared. */
const REFUSAL_LOG_MEMORY = 1024;

/**
 * Makes the {@link ImdsBackend} of the agent. `vmFor` is a map lookup; `token` answers from the
 * cache (the same {@link ImdsToken} object while a token is cached, so IMDS can reuse its rendered
 * bytes). Errors are the token cache's.
 */
export function createAgentBackend(options: AgentBackendOptions): AgentBackend {
  const { vms, tokens, clock, logger, server } = options;
  const lastLogged = new Map<string, number>();
  return {
    vmFor: (address) => vms.vmFor(address),
    // A hit returns the cache's settled promise itself: nothing is allocated per request.
    token: (vm, identity, resource, tokenOptions) =>
      tokens.get(vm, identity, resource, tokenOptions.bypassCache, tokenOptions.peer),
    ...(server === undefined
      ? {}
      : {
          attest: async (vm: AgentVm, nonce: string | undefined) =>
            (await server.attest({ vmId: vm.id, ...(nonce === undefined ? {} : { nonce }) }))
              .signature,
        }),
    refused(address, reason) {
      options.onRefused?.(address, reason);
      const now = clock.now();
      const last = lastLogged.get(address);
      if (last !== undefined && now - last < REFUSAL_LOG_INTERVAL_MS) return;
      if (lastLogged.size >= REFUSAL_LOG_MEMORY) lastLogged.clear();
      lastLogged.set(address, now);
      logger.warn({ address, reason }, 'IMDS refused a caller');
    },
  };
}
