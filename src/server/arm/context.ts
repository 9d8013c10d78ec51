// What every ARM handler gets: the authenticated caller, an authorizer and the request's pieces.
import { forbidden } from '../../core/errors.js';
import type { Clock, Store } from '../../core/ports.js';
import type { VerifiedAccessToken } from '../../core/tokens/index.js';

/** Decides whether a principal may perform an action at a scope (the RBAC evaluator). */
export interface Authorizer {
  check(input: { principalId: string; action: string; scope: string }): Promise<{
    allowed: boolean;
  }>;
  /** Forgets what it cached of role definitions (after a custom role was written or deleted). */
  invalidate?(): void;
}

/** The services the ARM surface is built from. */
export interface ArmServices {
  readonly store: Store;
  readonly clock: Clock;
  readonly rbac: Authorizer;
  /** Generates request ids and resource GUIDs. */
  readonly newId: () => string;
  /**
   * The data-plane URI of a key vault (`properties.vaultUri`); default
   * `https://{name}.vault.azure.net/`. The Key Vault data-plane work sets it from the config.
   */
  readonly vaultUriFor?: (name: string) => string;
}

/** One authenticated ARM request. */
export interface ArmRequest {
  readonly caller: VerifiedAccessToken;
  readonly method: string;
  /** The path as sent (original case), without the query. */
  readonly path: string;
  readonly query: Readonly<Record<string, string | string[] | undefined>>;
  /** The request headers, names lower-case (as Node gives them). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The raw body text ('' when none). */
  readonly body: string;
  /** The absolute request URL (for `nextLink`). */
  readonly url: string;
  /** The `x-ms-correlation-request-id` the answer carries (sent, or made for it). */
  readonly correlationId?: string;
}

/** What a handler answers; the plugin adds ARM's trace headers. */
export interface ArmResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Refuses unless the caller may perform `action` at `scope`, with ARM's `AuthorizationFailed`
 * (403) text naming the caller, the action and the scope.
 */
export async function authorize(
  services: ArmServices,
  request: ArmRequest,
  action: string,
  scope: string,
): Promise<void> {
  const { caller } = request;
  const { allowed } = await services.rbac.check({ principalId: caller.objectId, action, scope });
  if (allowed) return;
  const client = caller.appId ?? caller.objectId;
  throw forbidden(
    `The client '${client}' with object id '${caller.objectId}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
  );
}
