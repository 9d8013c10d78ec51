// ARM's envelopes: resource bodies, list pages, request bodies, tags and tracing headers.
import type { AppError } from '../../core/errors.js';
import { isRecord } from '../../core/guards.js';
import { armError, invalidRequestContent } from './arm-errors.js';
import { describeJsonFault } from './json-text.js';

/** ARM common types v5 `systemData`: who created and last changed a resource, and when. */
export interface ArmSystemData {
  readonly createdBy?: string;
  readonly createdByType?: 'User' | 'Application' | 'ManagedIdentity' | 'Key';
  readonly createdAt?: string;
  readonly lastModifiedBy?: string;
  readonly lastModifiedByType?: 'User' | 'Application' | 'ManagedIdentity' | 'Key';
  readonly lastModifiedAt?: string;
}

/** What {@link armResource} puts in a resource body. */
export interface ArmResourceInput<P, I = unknown> {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  /** Tracked resources only. */
  readonly location?: string | undefined;
  readonly tags?: Readonly<Record<string, string>> | undefined;
  /** The entity tag, where the resource type shows one (Compute's VMs and scale sets). */
  readonly etag?: string | undefined;
  readonly identity?: I | undefined;
  readonly properties: P;
  readonly systemData?: ArmSystemData | undefined;
}

/** A resource body as sent: absent members are left out, never `null`. */
export interface ArmResource<P, I = unknown> {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly location?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly etag?: string;
  readonly identity?: I;
  readonly properties: P;
  readonly systemData?: ArmSystemData;
}

/**
 * A resource body in ARM's member order (common types v5 `Resource`, then `TrackedResource`):
 * `id`, `name`, `type`, `location`, `tags`, `etag`, `identity`, `properties`, `systemData`. Members that
 * are undefined are omitted (ARM leaves them out rather than sending `null`).
 */
export function armResource<P, I = unknown>(input: ArmResourceInput<P, I>): ArmResource<P, I> {
  return {
    id: input.id,
    name: input.name,
    type: input.type,
    ...(input.location === undefined ? {} : { location: input.location }),
    ...(input.tags === undefined ? {} : { tags: input.tags }),
    ...(input.etag === undefined ? {} : { etag: input.etag }),
    ...(input.identity === undefined ? {} : { identity: input.identity }),
    properties: input.properties,
    ...(input.systemData === undefined ? {} : { systemData: input.systemData }),
  };
}

/** A page of a list: `{"value":[...],"nextLink":"..."}` (PROTOCOL.md section 4.1). */
export interface ArmListPage<T> {
  readonly value: readonly T[];
  readonly nextLink?: string;
}

/** Where the next page starts: the request's URL and the opaque token for the rest. */
export interface ListPageOptions {
  /** The absolute URL of the request being answered (its query is kept). */
  readonly requestUrl: string | URL;
  /** Present when more items follow; becomes `$skipToken` in `nextLink`. */
  readonly skipToken?: string | undefined;
}

/**
 * A list page. With a `skipToken`, `nextLink` is the request URL with `$skipToken` set (any
 * previous one replaced, `api-version` and other parameters kept), as ARM's nextLinks are.
 */
export function listPage<T>(items: readonly T[], options: ListPageOptions): ArmListPage<T> {
  if (options.skipToken === undefined) return { value: items };
  return { value: items, nextLink: nextLink(options.requestUrl, options.skipToken) };
}

/** The request URL with `$skipToken` set to `skipToken` (matching `$skiptoken` in any case). */
export function nextLink(requestUrl: string | URL, skipToken: string): string {
  const url = new URL(requestUrl);
  for (const name of [...url.searchParams.keys()]) {
    if (name.toLowerCase() === '$skiptoken') url.searchParams.delete(name);
  }
  url.searchParams.set('$skipToken', skipToken);
  // URLSearchParams writes `$` as `%24`; ARM's nextLinks spell the parameter `$skipToken`.
  return url.toString().replace('%24skipToken=', '$skipToken=');
}

/** An opaque `$skipToken` for a server-side cursor (base64url, no padding). */
export function encodeSkipToken(cursor: string): string {
  return Buffer.from(cursor, 'utf8').toString('base64url');
}

/**
 * The cursor inside a token from {@link encodeSkipToken}. Throws `InvalidParameter` (400) when
 * the token was not made by Tessera; ARM's own text for this is not captured.
 */
export function decodeSkipToken(token: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw invalidQueryParameter('$skipToken', token);
  const cursor = Buffer.from(token, 'base64url').toString('utf8');
  if (encodeSkipToken(cursor) !== token) throw invalidQueryParameter('$skipToken', token);
  return cursor;
}

/** The largest `$top` Tessera accepts (ARM's list APIs commonly cap at 1000). */
export const MAX_TOP = 1000;

/** A request's query as a server hands it over: a parsed record. */
export type RequestQuery = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * Every value of query parameter `name`, matched in any case as ARM matches its parameters
 * (`$filter`, `$Filter`), in the order given; empty when absent.
 */
export function queryValues(query: RequestQuery, name: string): string[] {
  const wanted = name.toLowerCase();
  return Object.entries(query)
    .filter(([key]) => key.toLowerCase() === wanted)
    .flatMap(([, value]) =>
      value === undefined ? [] : typeof value === 'string' ? [value] : value,
    );
}

/** `$top` and `$skipToken` of a list request. */
export interface ListQuery {
  readonly top?: number;
  readonly skipToken?: string;
}

/**
 * Reads `$top` (an integer from 1 to {@link MAX_TOP}) and `$skipToken` (non-empty); names match
 * in any case (ARM's own nextLinks say `$skiptoken`). Throws `InvalidParameter` (400) for a bad
 * or repeated value; the text is Tessera's.
 */
export function parseListQuery(
  query: URLSearchParams | Readonly<Record<string, string | readonly string[] | undefined>>,
): ListQuery {
  let top: number | undefined;
  let skipToken: string | undefined;
  const entries = query instanceof URLSearchParams ? [...query.entries()] : Object.entries(query);
  const seen = new Set<string>();
  for (const [rawName, rawValue] of entries) {
    const name = rawName.toLowerCase();
    if (name !== '$top' && name !== '$skiptoken') continue;
    const values =
      rawValue === undefined ? [] : typeof rawValue === 'string' ? [rawValue] : [...rawValue];
    if (values.length === 0) continue;
    const label = name === '$top' ? '$top' : '$skipToken';
    if (seen.has(name) || values.length > 1) throw invalidQueryParameter(label, values.join(','));
    seen.add(name);
    const value = values[0] ?? '';
    if (name === '$top') {
      const parsed = /^[0-9]{1,4}$/.test(value) ? Number(value) : NaN;
      if (!(parsed >= 1 && parsed <= MAX_TOP)) throw invalidQueryParameter(label, value);
      top = parsed;
    } else {
      if (value === '') throw invalidQueryParameter(label, value);
      skipToken = value;
    }
  }
  return {
    ...(top === undefined ? {} : { top }),
    ...(skipToken === undefined ? {} : { skipToken }),
  };
}

function invalidQueryParameter(name: string, value: string): AppError {
  const message = `The value '${value}' of query parameter '${name}' is invalid.`;
  return armError('InvalidParameter', message, { target: name });
}

/**
 * Parses a request body. Invalid JSON is ARM's `InvalidRequestContent` (400) quoting Json.NET's
 * sentence with the fault's path, line and position ({@link describeJsonFault}). An empty or
 * blank body is `undefined`, or, when `required`, `InvalidRequestContent` too (ARM's exact text
 * for a missing body is not captured; Tessera says "The request body is empty.").
 */
export function parseJsonBody(text: string, options: { required?: boolean } = {}): unknown {
  if (text.trim() === '') {
    if (options.required === true) throw invalidRequestContent('The request body is empty.');
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw invalidRequestContent(describeJsonFault(text) ?? 'The request body is not valid JSON.');
  }
}

/**
 * Parses a body that must be a JSON object (every ARM PUT and PATCH body): as
 * {@link parseJsonBody} with `required`, and anything but an object is `InvalidRequestContent`.
 */
export function parseJsonObject(text: string): Record<string, unknown> {
  const body = parseJsonBody(text, { required: true });
  if (!isRecord(body)) throw invalidRequestContent('The request body must be a JSON object.');
  return body;
}

/** ARM's tag limits (tag-resources.md "Limitations"). */
export const TAG_LIMITS = { count: 50, nameLength: 512, valueLength: 256 } as const;

// Tag names can't contain these (tag-resources#limitations):
// https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources
const TAG_NAME_RESERVED = /[<>%&\\?/\p{Cc}]/u;

/**
 * Checks a request's `tags` and returns them typed. At most 50 tags, names of 1-512 characters
 * without `<>%&\?/` or control characters, string values of at most 256 characters
 * (https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#limitations).
 * Errors, all 400:
 * - value too long: `InvalidTagValueLength`, ARM's text
 *   (https://github.com/Azure-Samples/azure-search-openai-demo/issues/1997);
 * - name too long: `InvalidTagNameLength`, the same text for names (not captured);
 * - reserved characters: `InvalidTagNameCharacters` (not captured);
 * - too many, an empty name, a value that is not a string, `tags` not an object: `InvalidTag`
 *   (not captured).
 */
export function validateTags(tags: unknown): Record<string, string> {
  if (!isRecord(tags)) {
    throw armError('InvalidTag', 'The tags must be a JSON object of tag names and string values.');
  }
  const entries = Object.entries(tags);
  if (entries.length > TAG_LIMITS.count) {
    throw armError(
      'InvalidTag',
      `The number of tags ${entries.length} exceeds the maximum of ${TAG_LIMITS.count} tags per resource.`,
    );
  }
  const reserved = entries.map(([name]) => name).filter((name) => TAG_NAME_RESERVED.test(name));
  if (reserved.length > 0) {
    throw armError(
      'InvalidTagNameCharacters',
      `The tag names '${reserved.join(',')}' have reserved characters '<,>,%,&,\\,?,/' or control characters.`,
    );
  }
  const result: Record<string, string> = {};
  for (const [name, value] of entries) {
    if (name.trim() === '') throw armError('InvalidTag', 'A tag name can not be empty.');
    if (name.length > TAG_LIMITS.nameLength) {
      throw armError(
        'InvalidTagNameLength',
        `Tag name too large.  Following tag name '${name}' exceeded the maximum length. Maximum allowed length for tag name - '${TAG_LIMITS.nameLength}' characters.`,
      );
    }
    if (typeof value !== 'string') {
      throw armError('InvalidTag', `The value of tag '${name}' must be a string.`);
    }
    if (value.length > TAG_LIMITS.valueLength) {
      throw armError(
        'InvalidTagValueLength',
        `Tag value too large.  Following tag value '${value}' exceeded the maximum length. Maximum allowed length for tag value - '${TAG_LIMITS.valueLength}' characters.`,
      );
    }
    result[name] = value;
  }
  return result;
}

/** The tracing headers ARM exchanges with clients (lower-case, as Tessera writes headers). */
export const ARM_HEADERS = {
  requestId: 'x-ms-request-id',
  correlationRequestId: 'x-ms-correlation-request-id',
  clientRequestId: 'x-ms-client-request-id',
} as const;

// A header value worth echoing: printable ASCII without separators that could split a header.
const ECHOABLE = /^[\x21-\x7e]{1,256}$/;

/**
 * The tracing headers of a response. `x-ms-request-id` is new for every request;
 * `x-ms-correlation-request-id` is the client's when it sent one, else the same new id (as ARM's
 * gateway answers: https://github.com/Azure/azure-cli/issues/29237); the client's
 * `x-ms-client-request-id` is echoed. A client value that is not 1-256 printable ASCII
 * characters is ignored. `newGuid` comes from the caller, keeping this module free of randomness.
 */
export function armTraceHeaders(
  requestHeaders: Readonly<Record<string, string | readonly string[] | undefined>>,
  newGuid: () => string,
): Record<string, string> {
  const header = (name: string): string | undefined => {
    for (const [key, value] of Object.entries(requestHeaders)) {
      if (key.toLowerCase() !== name) continue;
      const single = typeof value === 'string' ? value : value?.[0];
      return single !== undefined && ECHOABLE.test(single) ? single : undefined;
    }
    return undefined;
  };
  const requestId = newGuid();
  const clientRequestId = header(ARM_HEADERS.clientRequestId);
  return {
    [ARM_HEADERS.requestId]: requestId,
    [ARM_HEADERS.correlationRequestId]: header(ARM_HEADERS.correlationRequestId) ?? requestId,
    ...(clientRequestId === undefined ? {} : { [ARM_HEADERS.clientRequestId]: clientRequestId }),
  };
}
