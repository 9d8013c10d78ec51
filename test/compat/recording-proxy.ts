// A recording reverse proxy in front of a Tessera process, so a suite sees what a client sent on
// the wire (method, target, headers, source) and the status it got, the process unchanged.
import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request as httpRequest,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';

/** One request the proxy received, as the client sent it. */
export interface ReceivedRequest {
  readonly method: string;
  /** The request target as it arrived: path and query. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly remoteAddress: string | undefined;
  /** The status answered, once the upstream's response has begun. */
  status: number | undefined;
}

/** A running {@link startRecordingProxy}. */
export interface RecordingProxy {
  /** `http(s)://{host}:{port}` the proxy listens at. */
  readonly url: string;
  /** Every request received so far, in order. */
  readonly received: readonly ReceivedRequest[];
  /** Stops listening and drops open connections. */
  readonly close: () => Promise<void>;
}

/** Options of {@link startRecordingProxy}. */
export interface RecordingProxyOptions {
  /** Where requests go: `http(s)://host:port`. */
  readonly target: string;
  /** The address to listen on (default 127.0.0.1). */
  readonly host?: string;
  /** The port to listen on (default: one of the OS). */
  readonly port?: number;
  /**
   * Terminate TLS with this certificate and key (PEM), as a TLS front holding the server's
   * certificate does, and trust `ca` for the upstream's.
   */
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca: string };
  /** The source address of upstream connections (the VM an IMDS request comes from). */
  readonly localAddress?: string;
}

/**
 * Starts a reverse proxy that forwards every request to `options.target` unchanged (Host header
 * and all, the server name for TLS taken from it) and records it with the status the upstream
 * answered. An upstream that cannot be reached is a 502.
 */
export async function startRecordingProxy(options: RecordingProxyOptions): Promise<RecordingProxy> {
  const target = new URL(options.target);
  const secure = target.protocol === 'https:';
  const received: ReceivedRequest[] = [];
  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    const entry: ReceivedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      remoteAddress: req.socket.remoteAddress,
      status: undefined,
    };
    received.push(entry);
    const servername = (req.headers.host ?? target.hostname).replace(/:\d+$/, '');
    const upstream = (secure ? httpsRequest : httpRequest)(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent: false,
        ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
        ...(secure ? { servername, ca: options.tls?.ca } : {}),
      },
      (answer) => {
        entry.status = answer.statusCode;
        res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      entry.status = 502;
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  };
  const server: Server =
    options.tls === undefined
      ? createHttpServer(forward)
      : createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, forward);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls === undefined ? 'http' : 'https'}://${host}:${String(port)}`,
    received,
    close: () =>
      new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
