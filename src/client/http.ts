// HTTP for the clients: one request function that may name another host than the one it connects to.
import { type IncomingHttpHeaders, type IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
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
}

/** The answer, whatever its status. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

/** Sends a request; rejects only when no answer came (a {@link ClientError} `ServiceUnreachable`). */
export type HttpSend = (request: HttpRequest) => Promise<HttpResponse>;

/** Options of {@link createHttp}. */
export interface HttpOptions {
  /** PEM CA certificates to trust for https besides the system's (e.g. `<dataDir>/tls/ca.pem`). */
  readonly caPem?: string | undefined;
  /** Longest a request may take. Default 30 s. */
  readonly timeoutMs?: number | undefined;
}

/** The host name of a Host header value (`name:port`, `[v6]:port`). */
function hostName(host: string): string {
  const bracketed = /^\[([^\]]+)\]/.exec(host);
  return bracketed?.[1] ?? host.replace(/:\d+$/, '');
}

/**
 * Makes the request function. Over https it trusts the system's roots plus `caPem`; without a
 * Host override it checks the certificate against the URL's host as usual.
 */
export function createHttp(options: HttpOptions = {}): HttpSend {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const ca = options.caPem === undefined ? undefined : [...rootCertificates, options.caPem];
  return (request) =>
    new Promise<HttpResponse>((resolve, reject) => {
      const url = new URL(request.url);
      const https = url.protocol === 'https:';
      if (!https && url.protocol !== 'http:') {
        reject(new ClientError('InvalidServerUrl', `not an http or https URL: ${url.origin}`));
        return;
      }
      const name = request.host === undefined ? undefined : hostName(request.host);
      const body = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
      const headers: Record<string, string | number> = {
        accept: 'application/json',
        ...request.headers,
        ...(request.host === undefined ? {} : { host: request.host }),
        ...(body === undefined ? {} : { 'content-length': body.length }),
      };
      const target = {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port,
        method: request.method,
        path: `${url.pathname}${url.search}`,
        headers,
        timeout: timeoutMs,
      };
      const done = (res: IncomingMessage): void => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
      };
      const req = https
        ? httpsRequest(
            {
              ...target,
              ...(ca === undefined ? {} : { ca }),
              // Never an IP address as the server name (RFC 6066 section 3).
              ...(name !== undefined && isIP(name) === 0 ? { servername: name } : {}),
            },
            done,
          )
        : httpRequest(target, done);
      req.on('timeout', () => {
        req.destroy(new ClientError('ServiceUnreachable', `no answer from ${url.origin} in time`));
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        reject(
          error instanceof ClientError
            ? error
            : new ClientError(
                'ServiceUnreachable',
                `cannot reach ${url.origin}${name === undefined ? '' : ` as ${name}`}: ${error.code ?? error.message}`,
                { cause: error },
              ),
        );
      });
      req.end(body);
    });
}
