// IMDS responses ready to write: status, headers and bytes, rendered once where they never change.
import type { ServerResponse } from 'node:http';
import {
  AppError,
  forwardedRequestRefused,
  metadataHeaderMissing,
  methodNotAllowed,
  notFound,
  tooManyRequests,
} from '../../core/errors.js';
import { IMDS_TEXT, renderImdsError, type ImdsRoute } from '../../wire/errors/imds.js';
import { IMDS_JSON_CONTENT_TYPE } from '../../wire/imds/instance.js';

/**
 * The `Server` header. Azure sends `IMDS/150.870.65.<build>` (captures show 512 and 1103);
 * MSAL-JS turns on its IMDSv2 flow only for a build above 1324 (PROTOCOL.md 1.9), so Tessera
 * claims 1103, the build of the throttling capture in azure-sdk-for-net issue #39574.
 */
export const IMDS_SERVER_HEADER = 'IMDS/150.870.65.1103';

/**
 * A response ready to write: headers as a flat name/value list, as `writeHead` takes them. The
 * body stays a string: Node then sends head and body in one write.
 */
export interface ImdsResponse {
  readonly status: number;
  readonly headers: readonly string[];
  readonly body: string;
}

const HEADER_NAMES: Readonly<Record<string, string>> = {
  'content-type': 'Content-Type',
  'retry-after': 'Retry-After',
};

/** A response with `Content-Type`, `Server` and `Content-Length`. */
export function bodyResponse(status: number, contentType: string, body: string): ImdsResponse {
  return {
    status,
    headers: [
      'Content-Type',
      contentType,
      'Server',
      IMDS_SERVER_HEADER,
      'Content-Length',
      String(Buffer.byteLength(body, 'utf8')),
    ],
    body,
  };
}

/** `error` rendered in the dialect of `route` (`identity`: `{"error","error_description"}`). */
export function errorResponse(error: unknown, route: ImdsRoute): ImdsResponse {
  const rendered = renderImdsError(error, { route });
  const headers: string[] = [];
  for (const [name, value] of Object.entries(rendered.headers)) {
    headers.push(HEADER_NAMES[name] ?? name, value);
  }
  headers.push(
    'Server',
    IMDS_SERVER_HEADER,
    'Content-Length',
    String(Buffer.byteLength(rendered.body, 'utf8')),
  );
  return { status: rendered.status, headers, body: rendered.body };
}

/** Writes a prepared response. */
export function writeResponse(res: ServerResponse, response: ImdsResponse): void {
  res.writeHead(response.status, response.headers as string[]).end(response.body);
}

/** Writes a JSON (or other) body made for this request. */
export function writeBody(
  res: ServerResponse,
  status: number,
  body: string,
  contentType: string = IMDS_JSON_CONTENT_TYPE,
): void {
  res
    .writeHead(status, [
      'Content-Type',
      contentType,
      'Server',
      IMDS_SERVER_HEADER,
      'Content-Length',
      String(Buffer.byteLength(body, 'utf8')),
    ])
    .end(body);
}

/** The error raised for a caller whose address is no VM's (Tessera's own; see compatibility). */
export function unknownCaller(): AppError {
  return new AppError(
    'UnknownCaller',
    'The calling address is not a virtual machine on this host.',
    {
      status: 400,
    },
  );
}

/** The static responses of one dialect. */
export interface StaticResponses {
  readonly forwarded: ImdsResponse;
  readonly metadataHeader: ImdsResponse;
  readonly notFound: ImdsResponse;
  readonly unknownCaller: ImdsResponse;
  readonly throttled: ImdsResponse;
}

function staticResponses(route: ImdsRoute): StaticResponses {
  return {
    forwarded: errorResponse(forwardedRequestRefused(), route),
    metadataHeader: errorResponse(metadataHeaderMissing(), route),
    notFound: errorResponse(notFound('Not found'), route),
    unknownCaller: errorResponse(unknownCaller(), route),
    throttled: errorResponse(tooManyRequests(IMDS_TEXT.throttled, 1), route),
  };
}

/** Pre-rendered responses for the identity routes and for the other metadata routes. */
export const STATIC_RESPONSES: Readonly<Record<ImdsRoute, StaticResponses>> = {
  identity: staticResponses('identity'),
  metadata: staticResponses('metadata'),
};

const notAllowed = new Map<string, ImdsResponse>();

/** 405 for `method` on a route of `route`'s dialect (memoised: methods are a closed set). */
export function methodNotAllowedResponse(method: string, route: ImdsRoute): ImdsResponse {
  const key = `${route} ${method}`;
  let response = notAllowed.get(key);
  if (response === undefined) {
    response = errorResponse(methodNotAllowed(method), route);
    if (notAllowed.size < 64) notAllowed.set(key, response);
  }
  return response;
}

/** 429 with `Retry-After: seconds` (1 second, the usual case, is pre-rendered). */
export function throttledResponse(seconds: number, route: ImdsRoute): ImdsResponse {
  if (seconds === 1) return STATIC_RESPONSES[route].throttled;
  return errorResponse(tooManyRequests(IMDS_TEXT.throttled, seconds), route);
}
