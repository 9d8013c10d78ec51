// The agent's HTTP client for the server's agent API: host authentication, timeouts and errors as AppErrors.
import type { KeyObject } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import { SignJWT } from 'jose';
import { AppError, ERROR_CODES, type ErrorCode } from '../core/errors.js';
import {
  AGENT_API_PREFIX,
  type AgentTokenRequest,
  type AgentTokenResponse,
  type AttestRequest,
  type AttestResponse,
  type CertificateRequest,
  type CertificateResponse,
  type CreatedHost,
  HOST_AUTH_SCHEME,
  hostAssertionAudience,
  type RegisterRequest,
  type RefusalReport,
  type RegisterResponse,
  type VmSync,
} from '../wire/agent-api.js';
import type { AgentClock } from './clock.js';
import { allStrings, entraErrorFrom, isRecord, isVmSync, shaped } from './server-replies.js';

/** What the agent proves itself with once registered. */
export interface HostCredentials {
  readonly hostId: string;
  /** The host's EC P-256 private key. */
  readonly privateKey: KeyObject;
  /** The host certificate the server issued, DER. */
  readonly certificateDer: Buffer;
}

/** The route an upstream call took, for latency metrics. */
export type UpstreamRoute =
  'createHost' | 'register' | 'renew' | 'sync' | 'certificate' | 'token' | 'attest' | 'refusals';

/** Options of {@link createServerClient}. */
export interface ServerClientOptions {
  /** The server's public URL (the one its tokens and assertions name). */
  readonly serverUrl: string;
  /** PEM CA certificates to trust for an `https` server URL, besides the system's. */
  readonly caPem?: string | undefined;
  readonly clock: AgentClock;
  /** Longest a call may take, beyond a long-poll's own wait. Default 15 s. */
  readonly timeoutMs?: number | undefined;
  /** `Retry-After` suggested for network failures and 5xx answers. Default 5 s. */
  readonly retryAfterSeconds?: number | undefined;
  /** Told how long each call took and whether it succeeded. */
  readonly onUpstream?:
    ((route: UpstreamRoute, durationMs: number, ok: boolean) => void) | undefined;
}

/** Typed calls for every endpoint of the agent API (src/wire/agent-api.ts). */
export interface ServerClient {
  /** The server URL without a trailing slash. */
  readonly serverUrl: string;
  /** Sets (or clears) the host credentials later calls authenticate with. */
  useHost(credentials: HostCredentials | undefined): void;
  /** `PUT /hosts/{name}` with an operator's ARM bearer token: a one-time join token. */
  createHost(name: string, bearerToken: string): Promise<CreatedHost>;
  /** `POST /register`: no host auth; the join token is the credential. */
  register(request: RegisterRequest): Promise<RegisterResponse>;
  /** `POST /renew` with host auth: a new host certificate for the key in `csr`. */
  renew(csr: string): Promise<RegisterResponse>;
  /** `GET /vms?after=N&wait=S` with host auth; `signal` ends a long-poll early. */
  syncVms(after: number, waitSeconds: number, signal?: AbortSignal): Promise<VmSync>;
  /** `POST /identities/{principalId}/certificate` with host auth. */
  certificate(principalId: string, request: CertificateRequest): Promise<CertificateResponse>;
  /** `POST /token` with host auth. */
  token(request: AgentTokenRequest): Promise<AgentTokenResponse>;
  /** `POST /attest` with host auth: the signed attested document of a VM on this host. */
  attest(request: AttestRequest): Promise<AttestResponse>;
  /** `POST /refusals` with host auth: callers IMDS refused, for the server's audit log. */
  reportRefusals(report: RefusalReport): Promise<void>;
  /** Closes idle keep-alive connections. */
  close(): void;
}

/** A host assertion lives this long; the contract allows up to 600 s. */
const ASSERTION_LIFETIME_SECONDS = 300;
/** A cached assertion is re-signed when less than this remains. */
const ASSERTION_RENEW_MARGIN_SECONDS = 60;
/** Bodies larger than this are refused (a full sync of a busy host is a few megabytes). */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** A reused keep-alive connection was reset before any answer: safe to send again. */
class StaleConnection extends Error {
  constructor(cause: unknown) {
    super('a kept-alive connection was reset', { cause });
  }
}

/**
 * The error for "the server cannot be reached or answered badly": 503 with `Retry-After`, so IMDS
 * answers a retryable 5xx.
 */
export function upstreamUnavailable(
  message: string,
  retryAfterSeconds: number,
  cause?: unknown,
): AppError {
  return new AppError('ServiceUnavailable', message, {
    status: 503,
    expose: true,
    retryAfterSeconds,
    cause,
  });
}

/** True when `error` says the server is (for now) unreachable or overloaded, so a retry may help. */
export function isTransient(error: unknown): boolean {
  return (
    error instanceof AppError &&
    (error.code === 'ServiceUnavailable' || error.code === 'TooManyRequests')
  );
}

/**
 * Makes a client for the agent API at `options.serverUrl`. Connections are kept alive. Every
 * failure is an {@link AppError}: the server's `{"error":{code,message}}` with its status for a
 * 4xx; `ServiceUnavailable` (503, `retryAfterSeconds`) for a 5xx, a timeout, a network failure or
 * an unreadable answer.
 */
export function createServerClient(options: ServerClientOptions): ServerClient {
  const serverUrl = options.serverUrl.replace(/\/+$/, '');
  const base = new URL(serverUrl);
  const secure = base.protocol === 'https:';
  const agent = secure
    ? new HttpsAgent({
        keepAlive: true,
        // `ca` replaces Node's roots: keep them, so a publicly issued certificate still works.
        ...(options.caPem === undefined ? {} : { ca: [...rootCertificates, options.caPem] }),
      })
    : new HttpAgent({ keepAlive: true });
  const timeoutMs = options.timeoutMs ?? 15_000;
  const retryAfter = options.retryAfterSeconds ?? 5;
  const audience = hostAssertionAudience(serverUrl);
  const { clock } = options;
  let host: HostCredentials | undefined;
  let assertion: { credentials: HostCredentials; header: string; renewAt: number } | undefined;

  const hostAuthorization = async (): Promise<string> => {
    const credentials = host;
    if (credentials === undefined) {
      throw new AppError('Internal', 'The agent is not registered.', { status: 500 });
    }
    const now = clock.now();
    if (assertion?.credentials === credentials && now < assertion.renewAt) return assertion.header;
    const iat = Math.floor(now / 1000);
    const exp = iat + ASSERTION_LIFETIME_SECONDS;
    const jws = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', x5c: [credentials.certificateDer.toString('base64')] })
      .setSubject(credentials.hostId)
      .setAudience(audience)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(credentials.privateKey);
    const header = `${HOST_AUTH_SCHEME} ${jws}`;
    assertion = { credentials, header, renewAt: (exp - ASSERTION_RENEW_MARGIN_SECONDS) * 1000 };
    return header;
  };

  const call = async (
    route: UpstreamRoute,
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    body: unknown,
    auth: 'host' | { bearer: string } | undefined,
    extra: { waitMs?: number; signal?: AbortSignal | undefined; retried?: boolean } = {},
  ): Promise<unknown> => {
    const headers: Record<string, string> = { accept: 'application/json' };
    const signedFor = host;
    if (auth === 'host') headers.authorization = await hostAuthorization();
    else if (auth !== undefined) headers.authorization = `Bearer ${auth.bearer}`;
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    }
    const started = clock.now();
    let answer: { status: number; retryAfterHeader: string | undefined; text: string };
    try {
      answer = await send(
        new URL(`${base.pathname.replace(/\/+$/, '')}${AGENT_API_PREFIX}${path}`, base),
        method,
        headers,
        payload,
        timeoutMs + (extra.waitMs ?? 0),
        extra.signal,
      );
    } catch (error) {
      options.onUpstream?.(route, clock.now() - started, false);
      if (extra.signal?.aborted === true) throw error;
      // A kept-alive connection the server had just closed: try once more on a new one.
      if (error instanceof StaleConnection && extra.retried !== true) {
        return call(route, method, path, body, auth, { ...extra, retried: true });
      }
      throw upstreamUnavailable('The Tessera server cannot be reached.', retryAfter, error);
    }
    const { status, retryAfterHeader, text } = answer;
    options.onUpstream?.(route, clock.now() - started, status < 500);
    if (status >= 200 && status < 300) {
      try {
        return text === '' ? undefined : (JSON.parse(text) as unknown);
      } catch (error) {
        throw upstreamUnavailable(
          'The Tessera server sent an unreadable answer.',
          retryAfter,
          error,
        );
      }
    }
    if (status === 401 && auth === 'host') {
      assertion = undefined;
      // The certificate was renewed while this call was on its way: the old one no longer works.
      if (signedFor !== host && extra.retried !== true) {
        return call(route, method, path, body, auth, { ...extra, retried: true });
      }
    }
    throw errorFromResponse(status, text, retryAfterHeader, retryAfter);
  };

  const send = (
    url: URL,
    method: string,
    headers: Record<string, string>,
    payload: Buffer | undefined,
    deadlineMs: number,
    signal: AbortSignal | undefined,
  ): Promise<{ status: number; retryAfterHeader: string | undefined; text: string }> =>
    new Promise((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(new Error('aborted'));
        return;
      }
      const req = (secure ? httpsRequest : httpRequest)(url, { method, headers, agent });
      const cancelTimer = clock.setTimer(() => {
        req.destroy(new Error(`no answer within ${deadlineMs} ms`));
      }, deadlineMs);
      const onAbort = (): void => {
        req.destroy(new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const finish = (): void => {
        cancelTimer();
        signal?.removeEventListener('abort', onAbort);
      };
      req.once('error', (error: NodeJS.ErrnoException) => {
        finish();
        const stale = req.reusedSocket && error.code === 'ECONNRESET' && !responded;
        reject(stale ? new StaleConnection(error) : error);
      });
      let responded = false;
      req.once('response', (res: IncomingMessage) => {
        responded = true;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) req.destroy(new Error('answer too large'));
          else chunks.push(chunk);
        });
        let ended = false;
        res.once('error', (error) => {
          finish();
          reject(error);
        });
        // Destroyed mid-body (too large, timed out, aborted): 'end' never comes.
        res.once('close', () => {
          if (ended) return;
          finish();
          reject(new Error('the connection closed before the answer was complete'));
        });
        res.once('end', () => {
          ended = true;
          finish();
          const retryAfterHeader = res.headers['retry-after'];
          resolve({
            status: res.statusCode ?? 0,
            retryAfterHeader: typeof retryAfterHeader === 'string' ? retryAfterHeader : undefined,
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
      });
      req.end(payload);
    });

  const unreadable = (what: string): AppError =>
    upstreamUnavailable(`The Tessera server sent an unreadable ${what}.`, retryAfter);

  return {
    serverUrl,
    useHost(credentials) {
      host = credentials;
      assertion = undefined;
    },
    async createHost(name, bearerToken) {
      const path = `/hosts/${encodeURIComponent(name)}`;
      const body = await call('createHost', 'PUT', path, {}, { bearer: bearerToken });
      if (!shaped(body, ['id', 'name', 'joinToken'])) throw unreadable('host');
      return body as unknown as CreatedHost;
    },
    async register(request) {
      return checkRegistration(await call('register', 'POST', '/register', request, undefined));
    },
    async renew(csr) {
      return checkRegistration(await call('renew', 'POST', '/renew', { csr }, 'host'));
    },
    async syncVms(after, waitSeconds, signal) {
      const path = `/vms?after=${after}&wait=${waitSeconds}`;
      const body = await call('sync', 'GET', path, undefined, 'host', {
        waitMs: waitSeconds * 1000,
        signal,
      });
      if (!isVmSync(body)) throw unreadable('VM list');
      return body;
    },
    async certificate(principalId, request) {
      const path = `/identities/${encodeURIComponent(principalId)}/certificate`;
      const body = await call('certificate', 'POST', path, request, 'host');
      if (!shaped(body, ['certificate'], ['notBefore', 'notAfter']))
        throw unreadable('certificate');
      return body as unknown as CertificateResponse;
    },
    async token(request) {
      const body = await call('token', 'POST', '/token', request, 'host');
      if (!shaped(body, ['accessToken', 'clientId', 'resource'], ['expiresOn', 'notBefore'])) {
        throw unreadable('token');
      }
      return body as unknown as AgentTokenResponse;
    },
    async attest(request) {
      const body = await call('attest', 'POST', '/attest', request, 'host');
      if (!shaped(body, ['signature'], [])) throw unreadable('attest');
      return body as unknown as AttestResponse;
    },
    async reportRefusals(report) {
      await call('refusals', 'POST', '/refusals', report, 'host');
    },
    close() {
      agent.destroy();
    },
  };

  function checkRegistration(body: unknown): RegisterResponse {
    const ok =
      shaped(body, ['hostId', 'hostName', 'certificate'], ['certificateNotAfter']) &&
      allStrings(body.caCertificates);
    if (!ok) throw unreadable('registration');
    return body as unknown as RegisterResponse;
  }
}

/**
 * Turns a non-2xx answer into an AppError: a 5xx is `ServiceUnavailable` (503) whatever the
 * server said; a 4xx keeps its status and, when it is one of ours, the server's code (the wire
 * code is kept for the ARM dialect); an Entra refusal of `POST /token` becomes the Entra error it
 * was (see {@link entraErrorFrom}); `Retry-After` is carried over.
 */
export function errorFromResponse(
  status: number,
  text: string,
  retryAfterHeader: string | undefined,
  defaultRetryAfterSeconds: number,
): AppError {
  let wireCode: string | undefined;
  let message: string | undefined;
  let target: string | undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    const error = isRecord(parsed) ? parsed.error : undefined;
    if (isRecord(error)) {
      if (typeof error.code === 'string') wireCode = error.code;
      if (typeof error.message === 'string') message = error.message;
      if (typeof error.target === 'string') target = error.target;
    }
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  const retrySeconds = parseRetryAfter(retryAfterHeader);
  if (status >= 500 || status < 400) {
    return upstreamUnavailable(
      `The Tessera server is unavailable (HTTP ${status}).`,
      retrySeconds ?? defaultRetryAfterSeconds,
    );
  }
  const entra = entraErrorFrom(status, wireCode, message, target);
  if (entra !== undefined) return entra;
  const known = (ERROR_CODES as readonly string[]).includes(wireCode ?? '');
  const code: ErrorCode = known
    ? (wireCode as ErrorCode)
    : (CODE_FOR_STATUS[status] ?? 'InvalidRequest');
  return new AppError(code, message ?? `The Tessera server refused the request (HTTP ${status}).`, {
    status,
    ...(wireCode === undefined ? {} : { wire: { arm: wireCode } }),
    ...(target === undefined ? {} : { target }),
    ...(retrySeconds === undefined ? {} : { retryAfterSeconds: retrySeconds }),
  });
}

/** The code of a 4xx answer whose body names none of ours. */
const CODE_FOR_STATUS: Readonly<Record<number, ErrorCode>> = {
  401: 'AuthenticationRequired',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  412: 'PreconditionFailed',
  429: 'TooManyRequests',
};

function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,6}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}
