// The one HTTP transport of the clients: kept-alive connections, deadlines, aborts, a body cap, one retry on a stale connection.
import {
  Agent as HttpAgent,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request as httpRequest,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import { ClientError } from './errors.js';

/** One request. */
export interface HttpRequest {
  readonly method: string;
  /** Where to connect, with the path and query to ask for. */
  readonly url: string;
  /**
   * The Host header to send instead of the URL's (`{vault}.{dnsSuffix}:{port}`); over https its
   * name is also the TLS server name, so the certificate is checked for it. No DNS is needed.
   */
  readonly host?: string | undefined;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly body?: string | undefined;
  /** Ends the request early: it fails with `Aborted`. */
  readonly signal?: AbortSignal | undefined;
  /** Longest this request may take, instead of the transport's (a long-poll adds its wait). */
  readonly timeoutMs?: number | undefined;
  /**
   * True when sending the request twice does no harm, so it is sent again after a kept-alive
   * connection turned out to be closed (RFC 9110 section 9.2.2). Default: true for the idempotent
   * methods (GET, HEAD, OPTIONS, PUT, DELETE), false otherwise.
   */
  readonly repeatable?: boolean | undefined;
  /** A body cap for this request, instead of the transport's. */
  readonly maxBodyBytes?: number | undefined;
}

/** The answer, whatever its status. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

/**
 * Sends a request; rejects only when no whole answer came, with a {@link ClientError}:
 * `ServiceUnreachable` (no connection, or no answer in time), `Aborted` (the request's signal),
 * `ResponseTooLarge` (the body cap), `InvalidServerUrl` (not http or https).
 */
export type HttpSend = (request: HttpRequest) => Promise<HttpResponse>;

/** An {@link HttpSend} that keeps its connections open between requests. */
export interface Http extends HttpSend {
  /** Closes the kept-alive connections; a later request opens a new one. */
  close(): void;
}

/** Calls `callback` once after `delayMs`; the function returned cancels it. */
export type SetTimer = (callback: () => void, delayMs: number) => () => void;

/** Options of {@link createHttp}. */
export interface HttpOptions {
  /** PEM CA certificates to trust for https besides the system's (e.g. `<dataDir>/tls/ca.pem`). */
  readonly caPem?: string | undefined;
  /** Longest a request may take, connecting and reading included. Default 30 s. */
  readonly timeoutMs?: number | undefined;
  /** Answers with a larger body fail with `ResponseTooLarge`. Default 64 MiB. */
  readonly maxBodyBytes?: number | undefined;
  /** Where deadlines are kept (an agent's clock); default an unreferenced `setTimeout`. */
  readonly setTimer?: SetTimer | undefined;
  /**
   * Resolves host names for new connections instead of `dns.lookup` (same contract), e.g. to
   * refuse some addresses. IP literals connect without it.
   */
  readonly lookup?: LookupFunction | undefined;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** What a connection the server had already closed fails with, when a request is written to it. */
const STALE_CODES = new Set(['ECONNRESET', 'EPIPE']);

const unrefTimer: SetTimer = (callback, delayMs) => {
  const handle = setTimeout(callback, delayMs);
  handle.unref();
  return () => {
    clearTimeout(handle);
  };
};

/** The host name of a Host header value (`name:port`, `[v6]:port`). */
function hostName(host: string): string {
  const bracketed = /^\[([^\]]+)\]/.exec(host);
  return bracketed?.[1] ?? host.replace(/:\d+$/, '');
}

/** Everything one exchange needs that does not change between requests. */
interface Transport {
  readonly http: HttpAgent;
  readonly https: HttpsAgent;
  readonly maxBodyBytes: number;
}

/** How one exchange failed: `stale` when a reused connection broke before any answer. */
class ExchangeFailure extends Error {
  constructor(
    readonly error: Error,
    readonly stale: boolean,
    readonly code: string | undefined,
  ) {
    super(error.message);
  }
}

/**
 * Makes the transport. Connections are kept alive (idle ones never hold the process open). Over
 * https it trusts the system's roots plus `caPem`; without a Host override it checks the
 * certificate against the URL's host as usual. A request whose kept-alive connection the server
 * had closed (`ECONNRESET` or `EPIPE` before any answer) is sent once more on a new connection
 * when it is repeatable, or after `EPIPE` (the server never read it). The deadline covers both
 * attempts.
 */
export function createHttp(options: HttpOptions = {}): Http {
  const ca = options.caPem === undefined ? undefined : [...rootCertificates, options.caPem];
  const lookup = options.lookup === undefined ? {} : { lookup: options.lookup };
  const transport: Transport = {
    http: new HttpAgent({ keepAlive: true, ...lookup }),
    // `ca` replaces Node's roots: keep them, so a publicly issued certificate still works.
    https: new HttpsAgent({ keepAlive: true, ...lookup, ...(ca === undefined ? {} : { ca }) }),
    maxBodyBytes: options.maxBodyBytes ?? 64 * 1024 * 1024,
  };
  const defaultTimeoutMs = options.timeoutMs ?? 30_000;
  const setTimer = options.setTimer ?? unrefTimer;

  const send = async (request: HttpRequest): Promise<HttpResponse> => {
    const url = URL.canParse(request.url) ? new URL(request.url) : undefined;
    if (url?.protocol !== 'https:' && url?.protocol !== 'http:') {
      const what = url?.origin ?? request.url;
      throw new ClientError('InvalidServerUrl', `not an http or https URL: ${what}`);
    }
    const timeoutMs = request.timeoutMs ?? defaultTimeoutMs;
    const stop = new AbortController();
    const cancelTimer = setTimer(() => {
      stop.abort(
        new ClientError(
          'ServiceUnreachable',
          `no answer from ${url.origin} within ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    const onAbort = (): void => {
      stop.abort(
        new ClientError('Aborted', `the request to ${url.origin} was aborted`, {
          cause: request.signal?.reason,
        }),
      );
    };
    if (request.signal?.aborted === true) onAbort();
    else request.signal?.addEventListener('abort', onAbort, { once: true });
    const repeatable = request.repeatable ?? IDEMPOTENT.has(request.method.toUpperCase());
    try {
      try {
        return await exchange(transport, url, request, stop.signal);
      } catch (failure) {
        if (!(failure instanceof ExchangeFailure)) throw failure;
        if (!failure.stale || !(repeatable || failure.code === 'EPIPE')) throw failure.error;
      }
      try {
        return await exchange(transport, url, request, stop.signal);
      } catch (failure) {
        throw failure instanceof ExchangeFailure ? failure.error : failure;
      }
    } finally {
      cancelTimer();
      request.signal?.removeEventListener('abort', onAbort);
    }
  };

  return Object.assign(send, {
    close() {
      transport.http.destroy();
      transport.https.destroy();
    },
  });
}

/**
 * One request and its whole answer on one connection. Rejects with an {@link ExchangeFailure}
 * carrying the {@link ClientError} to report; `signal` (deadline or caller) ends it with its
 * reason.
 */
function exchange(
  transport: Transport,
  url: URL,
  request: HttpRequest,
  signal: AbortSignal,
): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve, reject) => {
    const fail = (error: Error, stale = false, code?: string): void => {
      reject(new ExchangeFailure(error, stale, code));
    };
    if (signal.aborted) {
      fail(signal.reason as Error);
      return;
    }
    const https = url.protocol === 'https:';
    const name = request.host === undefined ? undefined : hostName(request.host);
    const body = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
    const headers: Record<string, string | number> = {
      accept: 'application/json',
      ...request.headers,
      ...(request.host === undefined ? {} : { host: request.host }),
      ...(body === undefined ? {} : { 'content-length': body.byteLength }),
    };
    const target = {
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port,
      method: request.method,
      path: `${url.pathname}${url.search}`,
      headers,
    };
    const req = https
      ? httpsRequest({
          ...target,
          agent: transport.https,
          // Never an IP address as the server name (RFC 6066 section 3).
          ...(name !== undefined && isIP(name) === 0 ? { servername: name } : {}),
        })
      : httpRequest({ ...target, agent: transport.http });
    const onAbort = (): void => {
      req.destroy(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    let answered = false;
    const settle = (): void => {
      signal.removeEventListener('abort', onAbort);
    };

    // `on`, not `once`: a broken socket may report more than one error.
    req.on('error', (error: NodeJS.ErrnoException) => {
      settle();
      if (error instanceof ClientError) {
        fail(error);
        return;
      }
      if (answered) {
        // The server got the request and began to answer: no `cause`, so no caller takes this
        // for a request that never arrived (see the agent's failover, src/agent/server-client.ts).
        fail(
          new ClientError(
            'ServiceUnreachable',
            `the connection to ${url.origin} closed mid-answer`,
          ),
        );
        return;
      }
      const stale = req.reusedSocket && STALE_CODES.has(error.code ?? '');
      const unreachable = new ClientError(
        'ServiceUnreachable',
        `cannot reach ${url.origin}${name === undefined ? '' : ` as ${name}`}: ${error.code ?? error.message}`,
        { cause: error },
      );
      fail(unreachable, stale, error.code);
    });
    req.once('response', (res: IncomingMessage) => {
      answered = true;
      readBody(res, request.maxBodyBytes ?? transport.maxBodyBytes, url.origin).then(
        (text) => {
          settle();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text });
        },
        (error: unknown) => {
          settle();
          // The request's own error (an abort, the deadline) says more than the body's.
          if (!signal.aborted) req.destroy();
          fail(signal.aborted ? (signal.reason as Error) : (error as Error));
        },
      );
    });
    req.end(body);
  });
}

/** The body of `res` as UTF-8; fails when it exceeds `maxBytes` or the connection breaks. */
function readBody(res: IncomingMessage, maxBytes: number, origin: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const tooLarge = (): ClientError =>
      new ClientError('ResponseTooLarge', `the answer from ${origin} exceeds ${maxBytes} bytes`);
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      res.destroy();
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let ended = false;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      res.destroy();
      reject(tooLarge());
    });
    res.once('end', () => {
      ended = true;
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    // Destroyed or cut off mid-body: 'end' never comes.
    res.once('close', () => {
      if (ended) return;
      reject(
        new ClientError('ServiceUnreachable', `the connection to ${origin} closed mid-answer`),
      );
    });
    res.on('error', () => {
      // Reported by 'close', which always follows.
    });
  });
}
