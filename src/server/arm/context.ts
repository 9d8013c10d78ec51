// What every ARM handler gets: the authenticated caller, an authorizer and the request's pieces.
import { forbidden } from '../../core/errors.js';
import type { Clock, Store } from '../../core/ports.js';
import type { VerifiedAccessToken } from '../../core/tokens/index.js';

/** Decides whether a principal may perform an action at a scope (the RBAC evaluator). */
export interface Authorizer {
  check(input: { principalId: string; action: string; scope: string }): Promise<{
    allowed: boolean;
  }>;
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
  /** The raw body text ('' when none). */
  readonly body: string;
  /** The absolute request URL (for `nextLink`). */
  readonly url: string;
}

/** What a handler answers; the plugin adds ARM's trace headers. */
export interface ArmResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Handles one ARM request. */
export type ArmHandler = (services: ArmServices, request: ArmRequest) => Promise<ArmResponse>;

/**
 * Maps a request path, split into segments (original case, no empty ones), to its handler, or
 * returns undefined when the path is not this module's. Keywords compare case-insensitively.
 */
export type RouteMatcher = (segments: readonly string[]) => ArmHandler | undefined;

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

/** Whether a path segment is `keyword`, compared case-insensitively as ARM does. */
export const isKeyword = (segment: string | undefined, keyword: string): boolean =>
  segment?.toLowerCase() === keyword.toLowerCase();

/** Percent-decodes path segments; undefined for a malformed escape (not a path ARM serves). */
export function decodeSegments(segments: readonly string[]): string[] | undefined {
  try {
    return segments.map((segment) => decodeURIComponent(segment));
  } catch {
    return undefined;
  }
}
