// What every ARM handler gets: the authenticated caller, an authorizer and the request's pieces.
import { AppError, forbidden, isAppError } from '../../core/errors.js';
import type { Resource } from '../../core/model.js';
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
  /** The request headers, names lower-case (as Node gives them). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
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

/** How many times a read-modify-write runs when concurrent writers keep getting in first. */
const WRITE_ATTEMPTS = 8;

/**
 * Runs a read-modify-write until no concurrent write got in between, so no update is lost.
 * `attempt` reads the resource, computes its new version and writes it with
 * `resources.put(next, { ifMatch: existing?.etag ?? null })`; the store's `PreconditionFailed`
 * (no `target`) means another writer landed first, and `attempt` runs again from the read.
 * A client's own failed `If-Match` ({@link checkPreconditions}, `target` set) is not retried.
 */
export async function retryOnConflict<T>(attempt: () => Promise<T>): Promise<T> {
  for (let round = 1; ; round++) {
    try {
      return await attempt();
    } catch (error) {
      const lostRace =
        isAppError(error) && error.code === 'PreconditionFailed' && error.target === undefined;
      if (!lostRace || round >= WRITE_ATTEMPTS) throw error;
    }
  }
}

function headerValues(request: ArmRequest, name: string): string[] | undefined {
  const value = request.headers[name];
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value : [value])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/**
 * Checks the request's `If-Match` and `If-None-Match` (RFC 9110 section 13.1) against the stored
 * resource: `If-Match: *` needs it to exist, `If-Match: "e1", "e2"` needs its etag among them
 * (weak tags compare by their opaque part), `If-None-Match: *` needs it not to exist. Fails with
 * ARM's `PreconditionFailed` (412) naming the header.
 */
export function checkPreconditions(request: ArmRequest, existing: Resource | undefined): void {
  const opaque = (tag: string): string => (tag.startsWith('W/') ? tag.slice(2) : tag);
  const ifMatch = headerValues(request, 'if-match');
  if (ifMatch !== undefined) {
    const holds =
      existing !== undefined &&
      (ifMatch.includes('*') || ifMatch.some((tag) => opaque(tag) === opaque(existing.etag ?? '')));
    if (!holds) {
      throw new AppError(
        'PreconditionFailed',
        existing === undefined
          ? 'The resource does not exist, so the If-Match condition does not hold.'
          : `The If-Match condition does not hold: the resource's etag is ${existing.etag ?? ''}.`,
        { status: 412, target: 'If-Match' },
      );
    }
  }
  const ifNoneMatch = headerValues(request, 'if-none-match');
  if (ifNoneMatch !== undefined && existing !== undefined) {
    const fails =
      ifNoneMatch.includes('*') ||
      ifNoneMatch.some((tag) => opaque(tag) === opaque(existing.etag ?? ''));
    if (fails) {
      throw new AppError(
        'PreconditionFailed',
        'The resource exists, so the If-None-Match condition does not hold.',
        { status: 412, target: 'If-None-Match' },
      );
    }
  }
}
