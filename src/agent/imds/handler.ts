// The IMDS request handler: Azure's checks in Azure's order, then the backend (PROTOCOL.md 1, 2, 8).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isAppError } from '../../core/errors.js';
import { systemClock } from '../../core/clock.js';
import type { Clock } from '../../core/ports.js';
import type { AgentVm } from '../../wire/agent-api.js';
import type { ImdsRoute } from '../../wire/errors/imds.js';
import { normaliseAddress } from '../../wire/imds/address.js';
import { checkApiVersion, IMDS_VERSIONS_BODY } from '../../wire/imds/api-versions.js';
import { parseNonce, renderAttestedDocument } from '../../wire/imds/attested.js';
import { renderIdentityInfo } from '../../wire/imds/identity-info.js';
import { IMDS_JSON_CONTENT_TYPE, parseFormat } from '../../wire/imds/instance.js';
import { LEGACY_EXTENSION_HEADER_VALUE } from '../../wire/imds/legacy-extension.js';
import { matchImdsPath, type ImdsPath } from '../../wire/imds/paths.js';
import { parseImdsQuery, type ImdsQuery } from '../../wire/imds/query.js';
import {
  parseTokenRequest,
  resolveIdentity,
  type TokenRequest,
} from '../../wire/imds/token-request.js';
import { renderTokenBody, tokenExpiresIn } from '../../wire/imds/token-response.js';
import type { AgentMetrics, ImdsRouteLabel } from '../metrics.js';
import type { ImdsBackend, ImdsToken } from './backend.js';
import {
  bodyResponse,
  errorResponse,
  methodNotAllowedResponse,
  STATIC_RESPONSES,
  throttledResponse,
  writeBody,
  writeResponse,
  type ImdsResponse,
} from './responses.js';
import { createInstanceRenderer } from './instance-cache.js';
import { createImdsThrottle, type ImdsRateLimit, type ThrottleCategory } from './throttle.js';

/** Where the handler reports internal failures (a pino logger fits). Tokens are never passed. */
export interface ImdsLogger {
  error(details: object, message: string): void;
}

/** Options of {@link createImdsHandler}. */
export interface ImdsHandlerOptions {
  readonly backend: ImdsBackend;
  readonly rateLimit: ImdsRateLimit;
  /** `legacyRequest` is optional: without it legacy-extension calls are not counted. */
  readonly metrics?:
    | (Pick<AgentMetrics, 'imdsRequest' | 'imdsThrottled'> &
        Partial<Pick<AgentMetrics, 'legacyRequest'>>)
    | undefined;
  /** The time `expires_in` and the throttle count from; the system clock when absent. */
  readonly clock?: Clock | undefined;
  readonly logger?: ImdsLogger | undefined;
}

/** A `node:http` request listener. */
export type ImdsRequestListener = (req: IncomingMessage, res: ServerResponse) => void;

const HEADERS_OK = 0;
const HEADERS_FORWARDED = 1;
const HEADERS_NO_METADATA = 2;

/**
 * `X-Forwarded-For` present (any value) → refused; else `Metadata` must be exactly `true`, once
 * (IMDS documentation, "Security and authentication"; the swagger's enum is `["true"]`). Reads
 * the raw header list, which costs no allocation.
 */
function checkHeaders(raw: readonly string[]): number {
  let metadata = 0;
  let ok = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] ?? '';
    if (name.length === 15 && name.toLowerCase() === 'x-forwarded-for') return HEADERS_FORWARDED;
    if (name.length === 8 && name.toLowerCase() === 'metadata') {
      metadata += 1;
      ok = raw[i + 1] === 'true';
    }
  }
  return metadata === 1 && ok ? HEADERS_OK : HEADERS_NO_METADATA;
}

/**
 * Whether the request carries `X-Tessera-Legacy-Extension: 1`, the mark of the extension shim
 * (`tessera extension`). Only counted, never trusted: the VM is still the socket's.
 */
function fromLegacyShim(raw: readonly string[]): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] ?? '';
    if (name.length === 26 && name.toLowerCase() === 'x-tessera-legacy-extension') {
      return raw[i + 1] === LEGACY_EXTENSION_HEADER_VALUE;
    }
  }
  return false;
}

/** Parsed token queries kept per raw query string: clients repeat theirs on every call. */
const TOKEN_QUERY_CACHE_SIZE = 256;
const TOKEN_QUERY_CACHE_MAX_LENGTH = 2048;

const VERSIONS_RESPONSE = bodyResponse(200, 'application/json; charset=utf-8', IMDS_VERSIONS_BODY);

/**
 * Creates the IMDS request listener. On every served route the checks run in this order, each
 * answering with IMDS's status and body: path (unknown and IMDSv2 probe paths 404) → method
 * (405) → `X-Forwarded-For` (400) → `Metadata: true` (400) → repeated or malformed query
 * parameters (400) → `api-version` of the route's category (400 with `newest-versions`) →
 * route parameters (`resource`, one selector, `bypass_cache`; `format`; `nonce`) → the caller,
 * by the socket's address only (400 `unauthorized_client`, reported to `backend.refused`) →
 * identity resolution or route filtering → throttle (429 + `Retry-After`) → answer. Never
 * throws; an unexpected error becomes IMDS's 500 and is logged without its request.
 */
export function createImdsHandler(options: ImdsHandlerOptions): ImdsRequestListener {
  const { backend, metrics, logger } = options;
  const clock = options.clock ?? systemClock;
  const throttle = createImdsThrottle(options.rateLimit, clock);
  const renderedInstance = createInstanceRenderer();

  const send = (res: ServerResponse, route: ImdsRouteLabel, response: ImdsResponse): void => {
    writeResponse(res, response);
    metrics?.imdsRequest(route, response.status);
  };

  const fail = (
    res: ServerResponse,
    route: ImdsRouteLabel,
    dialect: ImdsRoute,
    e: unknown,
  ): void => {
    if (!isAppError(e) || e.status >= 500) {
      logger?.error({ err: e, route }, 'IMDS request failed');
    }
    send(res, route, errorResponse(e, dialect));
  };

  const refuse = (address: string, reason: string): void => {
    try {
      backend.refused?.(address, reason);
    } catch (e) {
      logger?.error({ err: e }, 'IMDS backend.refused threw');
    }
  };

  /** The calling VM at `address`, or undefined after answering the unknown caller. */
  const vmAt = (
    address: string,
    res: ServerResponse,
    route: ImdsRouteLabel,
    dialect: ImdsRoute,
  ): AgentVm | undefined => {
    const vm = address === '' ? undefined : backend.vmFor(address);
    if (vm === undefined) {
      refuse(address, 'no VM has this address');
      send(res, route, STATIC_RESPONSES[dialect].unknownCaller);
    }
    return vm;
  };

  /** The calling VM, or undefined after answering the unknown caller. */
  const callerVm = (
    req: IncomingMessage,
    res: ServerResponse,
    route: ImdsRouteLabel,
    dialect: ImdsRoute,
  ): AgentVm | undefined =>
    vmAt(normaliseAddress(req.socket.remoteAddress ?? ''), res, route, dialect);

  /** True when admitted; otherwise the 429 has been sent. */
  const admit = (
    res: ServerResponse,
    vm: AgentVm,
    category: ThrottleCategory,
    route: ImdsRouteLabel,
    dialect: ImdsRoute,
  ): boolean => {
    const wait = throttle.admit(vm.id, category);
    if (wait === 0) return true;
    metrics?.imdsThrottled(category);
    send(res, route, throttledResponse(wait, dialect));
    return false;
  };

  /**
   * The last answer made from each token object: a cached token is asked for many times a second
   * and its body changes only with `expires_in`, so it is rendered (and its length counted) once
   * per second it is served in, not per request. Held as long as the token object is.
   */
  const tokenAnswers = new WeakMap<
    ImdsToken,
    { readonly expiresIn: number; readonly resource: string; readonly response: ImdsResponse }
  >();
  const tokenAnswer = (token: ImdsToken, resource: string, nowSeconds: number): ImdsResponse => {
    const expiresIn = tokenExpiresIn(token, nowSeconds);
    const last = tokenAnswers.get(token);
    if (last?.expiresIn === expiresIn && last.resource === resource) return last.response;
    const body = renderTokenBody(token, resource, nowSeconds);
    const response = bodyResponse(200, IMDS_JSON_CONTENT_TYPE, body);
    tokenAnswers.set(token, { expiresIn, resource, response });
    return response;
  };

  const tokenQueries = new Map<string, TokenRequest>();
  /** The validated token query for `raw`, parsed once per distinct query string. */
  const tokenRequest = (raw: string): TokenRequest => {
    let request = tokenQueries.get(raw);
    if (request === undefined) {
      request = parseTokenRequest(parseImdsQuery(raw));
      if (raw.length <= TOKEN_QUERY_CACHE_MAX_LENGTH) {
        if (tokenQueries.size >= TOKEN_QUERY_CACHE_SIZE) tokenQueries.clear();
        tokenQueries.set(raw, request);
      }
    }
    return request;
  };

  const token = (req: IncomingMessage, res: ServerResponse, rawQuery: string): void => {
    const request = tokenRequest(rawQuery);
    const address = normaliseAddress(req.socket.remoteAddress ?? '');
    const vm = vmAt(address, res, 'token', 'identity');
    if (vm === undefined) return;
    if (metrics?.legacyRequest !== undefined && fromLegacyShim(req.rawHeaders)) {
      metrics.legacyRequest(vm.id);
    }
    const identity = resolveIdentity(vm, request.selector);
    if (!admit(res, vm, 'identity', 'token', 'identity')) return;
    let pending: Promise<ImdsToken>;
    try {
      // The caller's address goes with the request: the server's audit row names it (`peer`).
      pending = backend.token(vm, identity, request.resource, {
        bypassCache: request.bypassCache,
        peer: address,
      });
    } catch (e) {
      pending = Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    pending.then(
      (result) => {
        throttle.release(vm.id);
        writeResponse(res, tokenAnswer(result, request.resource, clock.now() / 1000));
        metrics?.imdsRequest('token', 200);
      },
      (e: unknown) => {
        throttle.release(vm.id);
        fail(res, 'token', 'identity', e);
      },
    );
  };

  const info = (req: IncomingMessage, res: ServerResponse, query: ImdsQuery): void => {
    checkApiVersion('identity', query.get('api-version'));
    const vm = callerVm(req, res, 'info', 'identity');
    if (vm === undefined) return;
    const body = renderIdentityInfo(vm);
    if (!admit(res, vm, 'identity', 'info', 'identity')) return;
    throttle.release(vm.id);
    writeBody(res, 200, body);
    metrics?.imdsRequest('info', 200);
  };

  const instance = (
    req: IncomingMessage,
    res: ServerResponse,
    query: ImdsQuery,
    path: ImdsPath,
  ): void => {
    const version = checkApiVersion('instance', query.get('api-version'));
    const format = parseFormat(query.get('format'));
    const vm = callerVm(req, res, 'instance', 'metadata');
    if (vm === undefined) return;
    const response = renderedInstance(vm, version, path.segments, format);
    if (!admit(res, vm, 'other', 'instance', 'metadata')) return;
    writeResponse(res, response);
    metrics?.imdsRequest('instance', 200);
  };

  const versions = (req: IncomingMessage, res: ServerResponse): void => {
    const vm = callerVm(req, res, 'versions', 'metadata');
    if (vm === undefined) return;
    if (!admit(res, vm, 'other', 'versions', 'metadata')) return;
    send(res, 'versions', VERSIONS_RESPONSE);
  };

  const attested = (req: IncomingMessage, res: ServerResponse, query: ImdsQuery): void => {
    checkApiVersion('attested', query.get('api-version'));
    const nonce = parseNonce(query.get('nonce'));
    const vm = callerVm(req, res, 'attested', 'metadata');
    if (vm === undefined) return;
    if (!admit(res, vm, 'other', 'attested', 'metadata')) return;
    let pending: Promise<string>;
    try {
      pending = backend.attest?.(vm, nonce) ?? Promise.reject(new Error('attest is not available'));
    } catch (e) {
      pending = Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    pending.then(
      (signature) => {
        writeBody(res, 200, renderAttestedDocument(signature));
        metrics?.imdsRequest('attested', 200);
      },
      (e: unknown) => {
        fail(res, 'attested', 'metadata', e);
      },
    );
  };

  return function handleImds(req, res) {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = matchImdsPath(q < 0 ? url : url.slice(0, q));
    const endpoint = path.endpoint;
    let route: ImdsRouteLabel;
    let dialect: ImdsRoute;
    switch (endpoint) {
      case 'token':
      case 'info':
        route = endpoint;
        dialect = 'identity';
        break;
      case 'instance':
      case 'versions':
        route = endpoint;
        dialect = 'metadata';
        break;
      case 'attested':
        if (backend.attest === undefined) {
          send(res, 'attested', STATIC_RESPONSES.metadata.notFound);
          return;
        }
        route = endpoint;
        dialect = 'metadata';
        break;
      case 'probe':
        send(res, 'probe', STATIC_RESPONSES.identity.notFound);
        return;
      case 'identityOther':
        send(res, 'other', STATIC_RESPONSES.identity.notFound);
        return;
      case 'unknown':
        send(res, 'other', STATIC_RESPONSES.metadata.notFound);
        return;
    }
    const method = req.method ?? '';
    if (method !== 'GET') {
      send(res, route, methodNotAllowedResponse(method, dialect));
      return;
    }
    const headers = checkHeaders(req.rawHeaders);
    if (headers !== HEADERS_OK) {
      if (headers === HEADERS_FORWARDED) {
        refuse(normaliseAddress(req.socket.remoteAddress ?? ''), 'X-Forwarded-For header');
        send(res, route, STATIC_RESPONSES[dialect].forwarded);
      } else {
        send(res, route, STATIC_RESPONSES[dialect].metadataHeader);
      }
      return;
    }
    try {
      const rawQuery = q < 0 ? '' : url.slice(q + 1);
      if (endpoint === 'token') {
        token(req, res, rawQuery);
        return;
      }
      const query = parseImdsQuery(rawQuery);
      switch (endpoint) {
        case 'info':
          info(req, res, query);
          return;
        case 'instance':
          instance(req, res, query, path);
          return;
        case 'versions':
          versions(req, res);
          return;
        case 'attested':
          attested(req, res, query);
          return;
      }
    } catch (e) {
      fail(res, route, dialect, e);
    }
  };
}
