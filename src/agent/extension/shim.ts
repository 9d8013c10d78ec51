// The legacy extension shim: serves the deprecated `localhost:50342/oauth2/token` inside a VM by forwarding to IMDS.
import {
  applyListenerLimits,
  type ListenerLimits,
  listenerOptions,
} from '../../config/listener.js';
import {
  Agent,
  createServer,
  request,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { configInvalid, isAppError } from '../../core/errors.js';
import { systemClock } from '../../core/clock.js';
import type { Clock } from '../../core/ports.js';
import {
  LEGACY_EXTENSION_DEFAULT_PORT,
  legacyExtensionWarningHeader,
} from '../../core/resources/legacy-extension.js';
import {
  failedToRetrieveError,
  invalidRequestError,
  isFormContentType,
  isLegacyError,
  isLegacyTokenPath,
  LEGACY_CONTENT_TYPE,
  LEGACY_EXTENSION_HEADER,
  LEGACY_EXTENSION_HEADER_VALUE,
  legacyErrorFromImds,
  legacyForwardTarget,
  legacyTokenRequest,
  metadataHeaderError,
  methodNotAllowedError,
  notLoopbackError,
  renderLegacyError,
  renderLegacyTokenBody,
  unknownSourceError,
  type LegacyError,
  type LegacyTokenRequest,
} from '../../wire/imds/legacy-extension.js';
import { parseImdsQuery, type ImdsQuery } from '../../wire/imds/query.js';
import { closeServer, httpUrl } from '../metrics.js';
import { createDeprecationNotices, isLoopbackAddress } from './callers.js';

/** Where the shim logs (a pino logger fits). Never given a token or a response body. */
export interface ExtensionLogger {
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/** Options of {@link createExtensionShim}. */
export interface ExtensionShimOptions {
  /** IMDS as the VM sees it: `http://169.254.169.254` in production; a path prefix is kept. */
  readonly imdsUrl: string;
  /** The listening address; `127.0.0.1` by default. Callers must be loopback whatever it is. */
  readonly host?: string | undefined;
  /** The extension's `settings.port`; 50342 by default; 0 picks a free port. */
  readonly port?: number | undefined;
  /**
   * The source address of requests to IMDS, which is how the agent knows the VM. Unset in a
   * real VM; in development a VM is a loopback address (`127.0.0.2`), so the shim binds it.
   */
  readonly localAddress?: string | undefined;
  readonly logger?: ExtensionLogger | undefined;
  /** The time of the deprecation warnings' interval; the system clock when absent. */
  readonly clock?: Clock | undefined;
  /** How long to wait for IMDS's answer; 30 s by default. */
  readonly timeoutMs?: number | undefined;
}

/** A running shim. */
export interface ExtensionShim {
  /** `http://host:port` with the bound port; the token endpoint is `{url}/oauth2/token`. */
  readonly url: string;
  /** Stops listening, closes open connections and the connections to IMDS. */
  close(): Promise<void>;
}

/** The largest form body accepted: a resource and one selector fit many times over. */
const MAX_FORM_BYTES = 16 * 1024;
/** The largest IMDS answer read: a token body is a few kilobytes. */
const MAX_IMDS_BYTES = 1024 * 1024;
/** `User-Agent` values are cut to this length in the log and the notice key. */
const MAX_USER_AGENT = 256;
/**
 * Headers within 5 s (a silent connection is closed then), a form body within 10 s, kept-alive
 * connections idle 5 s (Node's default, said explicitly), and at most 256 open at once: the VM's
 * own processes, which IMDS serves 16 at a time through the shim anyway; over it a connection is
 * closed unread, so a runaway caller cannot take the shim's file descriptors.
 */
const LISTENER_LIMITS: ListenerLimits = {
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 256,
};

const WARNING = legacyExtensionWarningHeader();

/** IMDS's answer, read whole. */
interface ImdsAnswer {
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly body: string;
}

/** What the shim knows about where IMDS is. */
interface ImdsTarget {
  readonly hostname: string;
  readonly port: number;
  readonly prefix: string;
}

function imdsTarget(imdsUrl: string): ImdsTarget {
  let url: URL;
  try {
    url = new URL(imdsUrl);
  } catch (e) {
    throw configInvalid(`--imds-url: '${imdsUrl}' is not a URL`, e);
  }
  if (url.protocol !== 'http:') {
    throw configInvalid(`--imds-url: IMDS is plain http, not '${url.protocol}'`);
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw configInvalid('--imds-url: give scheme, host, port and at most a path prefix');
  }
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const prefix = url.pathname.endsWith('/') ? url.pathname.slice(0, -1) : url.pathname;
  return { hostname, port: url.port === '' ? 80 : Number(url.port), prefix };
}

/** The one `Metadata` header, exactly `true` (the extension: "in all lower case"). */
function hasMetadataHeader(raw: readonly string[]): boolean {
  let count = 0;
  let ok = false;
  for (let i = 0; i < raw.length; i += 2) {
    if ((raw[i] ?? '').toLowerCase() === 'metadata') {
      count += 1;
      ok = raw[i + 1] === 'true';
    }
  }
  return count === 1 && ok;
}

function send(res: ServerResponse, status: number, body: string, extra: string[] = []): void {
  res
    .writeHead(status, [
      'Content-Type',
      LEGACY_CONTENT_TYPE,
      'Content-Length',
      String(Buffer.byteLength(body, 'utf8')),
      'Warning',
      WARNING,
      ...extra,
    ])
    .end(body);
}

function sendError(res: ServerResponse, error: LegacyError): void {
  const extra: string[] = [];
  if (error.retryAfter !== undefined) extra.push('Retry-After', error.retryAfter);
  if (error.status === 405) extra.push('Allow', 'GET, POST');
  send(res, error.status, renderLegacyError(error), extra);
}

/** Reads a form body of at most {@link MAX_FORM_BYTES}; undefined when it is larger. */
function readForm(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_FORM_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => {
      resolve(tooLarge ? undefined : Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

/** Parses a query or form string; a malformed or repeated parameter is the caller's error. */
function parseParams(raw: string): ImdsQuery | LegacyError {
  try {
    return parseImdsQuery(raw);
  } catch (e) {
    if (isAppError(e) && e.status < 500) return invalidRequestError(e.message);
    throw e;
  }
}

/**
 * Starts the shim and resolves once it listens; rejects when the address cannot be bound or
 * `imdsUrl` is not a plain-http URL (`ConfigInvalid`).
 *
 * For each request, in order: a caller that is not loopback gets 400 `unauthorized_client`; a
 * path other than `/oauth2/token` 401 `unknown_source`; a method other than GET and POST 405;
 * a missing or wrong `Metadata: true` 400 `bad_request_102`; a bad query or form (repeated,
 * malformed, not `application/x-www-form-urlencoded`, over 16 KiB) 400 `invalid_request`.
 * Otherwise `resource`, `client_id`, `object_id` and `msi_res_id` (from the query string, and
 * for POST also from the form body) go to `GET {imdsUrl}/metadata/identity/oauth2/token?
 * api-version=2018-02-01&…` with `Metadata: true` and `X-Tessera-Legacy-Extension: 1`. IMDS's
 * token comes back in the extension's shape (`refresh_token: ""`, no `client_id`), its errors
 * with their status, body and `Retry-After`; an unreachable or silent IMDS is 500 `unknown`.
 * Every answer carries a `Warning: 299` header saying the endpoint is deprecated, and each
 * caller (address and `User-Agent`) is logged as a deprecated user once an hour.
 *
 * Holds no credential and caches nothing: every token request is one IMDS request. At most 256
 * connections are open at once; headers must arrive within 5 s, a request within 10 s.
 */
export async function createExtensionShim(options: ExtensionShimOptions): Promise<ExtensionShim> {
  const target = imdsTarget(options.imdsUrl);
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const notices = createDeprecationNotices({ clock: options.clock ?? systemClock });
  const upstream = new Agent({ keepAlive: true, maxSockets: 16 });
  const forwardHeaders: OutgoingHttpHeaders = {
    Metadata: 'true',
    [LEGACY_EXTENSION_HEADER]: LEGACY_EXTENSION_HEADER_VALUE,
    Accept: 'application/json',
    'User-Agent': 'tessera-extension',
  };

  const askImds = (path: string): Promise<ImdsAnswer> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          hostname: target.hostname,
          port: target.port,
          path: target.prefix + path,
          method: 'GET',
          headers: forwardHeaders,
          agent: upstream,
          timeout: timeoutMs,
          ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_IMDS_BYTES) req.destroy(new Error('the IMDS answer is too large'));
            else chunks.push(chunk);
          });
          res.on('end', () => {
            const retryAfter = res.headers['retry-after'];
            resolve({
              status: res.statusCode ?? 0,
              retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
              body: Buffer.concat(chunks).toString('utf8'),
            });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => {
        req.destroy(new Error(`IMDS did not answer within ${timeoutMs} ms`));
      });
      req.on('error', reject);
      req.end();
    });

  const forward = async (res: ServerResponse, tokenRequest: LegacyTokenRequest): Promise<void> => {
    let answer: ImdsAnswer;
    try {
      answer = await askImds(legacyForwardTarget(tokenRequest));
    } catch (e) {
      logger?.error({ err: e, imds: options.imdsUrl }, 'legacy extension: IMDS unreachable');
      sendError(res, failedToRetrieveError());
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer.body);
    } catch {
      parsed = undefined;
    }
    if (answer.status === 200) {
      const body = renderLegacyTokenBody(parsed);
      if (body !== undefined) {
        send(res, 200, body);
        return;
      }
      logger?.error({ imds: options.imdsUrl }, 'legacy extension: IMDS sent no token');
      sendError(res, failedToRetrieveError());
      return;
    }
    sendError(res, legacyErrorFromImds(answer.status, parsed, answer.retryAfter));
  };

  const warnCaller = (req: IncomingMessage, address: string): void => {
    const agent = req.headers['user-agent'] ?? '';
    const userAgent = agent.length > MAX_USER_AGENT ? agent.slice(0, MAX_USER_AGENT) : agent;
    if (!notices.shouldWarn(address, userAgent)) return;
    logger?.warn(
      { caller: address, userAgent },
      'deprecated: a caller uses the managed-identity VM extension endpoint (/oauth2/token); move it to IMDS, GET http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=... with Metadata: true',
    );
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const address = req.socket.remoteAddress ?? '';
    if (!isLoopbackAddress(address)) {
      sendError(res, notLoopbackError());
      return;
    }
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (!isLegacyTokenPath(path)) {
      sendError(res, unknownSourceError(path));
      return;
    }
    warnCaller(req, address);
    const method = req.method ?? '';
    if (method !== 'GET' && method !== 'POST') {
      sendError(res, methodNotAllowedError(method));
      return;
    }
    if (!hasMetadataHeader(req.rawHeaders)) {
      sendError(res, metadataHeaderError());
      return;
    }
    const query = parseParams(q < 0 ? '' : url.slice(q + 1));
    if (isLegacyError(query)) {
      sendError(res, query);
      return;
    }
    let form: ImdsQuery | undefined;
    if (method === 'POST') {
      const contentType = req.headers['content-type'];
      const raw = await readForm(req);
      if (raw === undefined) {
        sendError(res, invalidRequestError('Bad request. The request body is too large.'));
        return;
      }
      if (raw !== '' && !isFormContentType(contentType)) {
        sendError(
          res,
          invalidRequestError(
            'Bad request. The request body must be application/x-www-form-urlencoded.',
          ),
        );
        return;
      }
      const parsed = parseParams(raw);
      if (isLegacyError(parsed)) {
        sendError(res, parsed);
        return;
      }
      form = parsed;
    }
    const tokenRequest = legacyTokenRequest(query, form);
    if (isLegacyError(tokenRequest)) {
      sendError(res, tokenRequest);
      return;
    }
    await forward(res, tokenRequest);
  };

  const server = createServer(listenerOptions(LISTENER_LIMITS), (req, res) => {
    handle(req, res).catch((e: unknown) => {
      logger?.error({ err: e }, 'legacy extension: request failed');
      if (!res.headersSent) sendError(res, failedToRetrieveError());
      else res.destroy();
    });
  });
  // A failed accept (EMFILE) must not end the shim.
  applyListenerLimits(server, LISTENER_LIMITS, (err) => {
    logger?.error({ err }, 'legacy extension: listener error');
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? LEGACY_EXTENSION_DEFAULT_PORT, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    upstream.destroy();
    throw e;
  }
  const { port } = server.address() as AddressInfo;
  return {
    url: httpUrl(host, port),
    close: async () => {
      try {
        await closeServer(server);
      } finally {
        upstream.destroy();
      }
    },
  };
}
