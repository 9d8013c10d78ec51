// The agent's client for the server's agent API: its endpoints, host authentication, and answers as AppErrors.
import type { KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { createHttp, type Http, type HttpResponse } from '../client/http.js';
import { AppError } from '../core/errors.js';
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
import {
  allStrings,
  errorFromResponse,
  isVmSync,
  shaped,
  upstreamUnavailable,
} from './server-replies.js';

export { isTransient, upstreamUnavailable } from './server-replies.js';

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

/** The host the agent authenticates as, and its current assertion. */
interface HostAuth {
  credentials: HostCredentials | undefined;
  assertion: { credentials: HostCredentials; header: string; renewAt: number } | undefined;
}

/**
 * The `Authorization` header of a host-authenticated call: a `TesseraHost` ES256 assertion with
 * the host certificate in `x5c`, reused until a minute before it expires. Fails with `Internal`
 * before the agent is registered.
 */
async function hostAuthorization(auth: HostAuth, audience: string, now: number): Promise<string> {
  const credentials = auth.credentials;
  if (credentials === undefined) {
    throw new AppError('Internal', 'The agent is not registered.', { status: 500 });
  }
  const cached = auth.assertion;
  if (cached?.credentials === credentials && now < cached.renewAt) return cached.header;
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
  auth.assertion = { credentials, header, renewAt: (exp - ASSERTION_RENEW_MARGIN_SECONDS) * 1000 };
  return header;
}

/** What every call of one client shares. */
interface Caller {
  readonly http: Http;
  readonly apiUrl: string;
  readonly audience: string;
  readonly auth: HostAuth;
  readonly clock: AgentClock;
  readonly timeoutMs: number;
  readonly retryAfterSeconds: number;
  readonly onUpstream: ServerClientOptions['onUpstream'];
}

/** One call of the agent API. */
interface AgentCall {
  readonly route: UpstreamRoute;
  readonly method: 'GET' | 'POST' | 'PUT';
  /** Below the API prefix, with its query. */
  readonly path: string;
  readonly body?: unknown;
  readonly auth: 'host' | { readonly bearer: string } | undefined;
  /** How long the server may hold a long-poll open. */
  readonly waitMs?: number;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Makes `call` and returns its JSON body (undefined when empty). Every failure is an AppError
 * (see {@link errorFromResponse}); no answer, or an unreadable one, is `ServiceUnavailable`
 * (503, `Retry-After`); an aborted call rejects with the transport's `Aborted`. A 401 to a call
 * signed for host credentials that were replaced meanwhile (a renewal) is made once more.
 */
async function callAgentApi(caller: Caller, call: AgentCall, retried = false): Promise<unknown> {
  const headers: Record<string, string> = {};
  const signedFor = caller.auth.credentials;
  if (call.auth === 'host') {
    headers.authorization = await hostAuthorization(
      caller.auth,
      caller.audience,
      caller.clock.now(),
    );
  } else if (call.auth !== undefined) {
    headers.authorization = `Bearer ${call.auth.bearer}`;
  }
  if (call.body !== undefined) headers['content-type'] = 'application/json';
  const started = caller.clock.now();
  let answer: HttpResponse;
  try {
    answer = await caller.http({
      method: call.method,
      url: `${caller.apiUrl}${call.path}`,
      headers,
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
      signal: call.signal,
      timeoutMs: caller.timeoutMs + (call.waitMs ?? 0),
      // Every call is safe to send twice: tokens, certificates and signatures are issued anew, a
      // spent join token is refused as it would have been, a refusal report counts once more.
      repeatable: true,
    });
  } catch (error) {
    caller.onUpstream?.(call.route, caller.clock.now() - started, false);
    if (call.signal?.aborted === true) throw error;
    const message = 'The Tessera server cannot be reached.';
    throw upstreamUnavailable(message, caller.retryAfterSeconds, error);
  }
  const { status, text } = answer;
  caller.onUpstream?.(call.route, caller.clock.now() - started, status < 500);
  if (status >= 200 && status < 300) {
    try {
      return text === '' ? undefined : (JSON.parse(text) as unknown);
    } catch (error) {
      const message = 'The Tessera server sent an unreadable answer.';
      throw upstreamUnavailable(message, caller.retryAfterSeconds, error);
    }
  }
  if (status === 401 && call.auth === 'host') {
    caller.auth.assertion = undefined;
    // The certificate was renewed while this call was on its way: the old one no longer works.
    if (signedFor !== caller.auth.credentials && !retried) return callAgentApi(caller, call, true);
  }
  throw errorFromResponse(status, text, answer.headers['retry-after'], caller.retryAfterSeconds);
}

/**
 * Makes a client for the agent API at `options.serverUrl`, over the shared HTTP transport (kept-
 * alive connections, deadlines on the agent's clock, a body cap, one retry on a stale
 * connection). Every failure is an {@link AppError}: the server's `{"error":{code,message}}` with
 * its status for a 4xx (an Entra refusal as the Entra error it was);
 * `ServiceUnavailable` (503, `retryAfterSeconds`) for a 5xx, a timeout, a network failure or an
 * unreadable answer.
 */
export function createServerClient(options: ServerClientOptions): ServerClient {
  const serverUrl = options.serverUrl.replace(/\/+$/, '');
  const { clock } = options;
  const retryAfterSeconds = options.retryAfterSeconds ?? 5;
  const caller: Caller = {
    http: createHttp({
      caPem: options.caPem,
      maxBodyBytes: MAX_BODY_BYTES,
      setTimer: (callback, delayMs) => clock.setTimer(callback, delayMs),
    }),
    apiUrl: `${serverUrl}${AGENT_API_PREFIX}`,
    audience: hostAssertionAudience(serverUrl),
    auth: { credentials: undefined, assertion: undefined },
    clock,
    timeoutMs: options.timeoutMs ?? 15_000,
    retryAfterSeconds,
    onUpstream: options.onUpstream,
  };
  const call = (agentCall: AgentCall): Promise<unknown> => callAgentApi(caller, agentCall);
  /** A `POST` with host auth, the shape of most calls. */
  const post = (route: UpstreamRoute, path: string, body: unknown): Promise<unknown> =>
    call({ route, method: 'POST', path, body, auth: 'host' });
  const unreadable = (what: string): AppError =>
    upstreamUnavailable(`The Tessera server sent an unreadable ${what}.`, retryAfterSeconds);
  const registration = (body: unknown): RegisterResponse => {
    const ok =
      shaped(body, ['hostId', 'hostName', 'certificate'], ['certificateNotAfter']) &&
      allStrings(body.caCertificates);
    if (!ok) throw unreadable('registration');
    return body as unknown as RegisterResponse;
  };

  return {
    serverUrl,
    useHost(credentials) {
      caller.auth.credentials = credentials;
      caller.auth.assertion = undefined;
    },
    async createHost(name, bearerToken) {
      const path = `/hosts/${encodeURIComponent(name)}`;
      const auth = { bearer: bearerToken };
      const body = await call({ route: 'createHost', method: 'PUT', path, body: {}, auth });
      if (!shaped(body, ['id', 'name', 'joinToken'])) throw unreadable('host');
      return body as unknown as CreatedHost;
    },
    async register(request) {
      const path = '/register';
      return registration(
        await call({ route: 'register', method: 'POST', path, body: request, auth: undefined }),
      );
    },
    async renew(csr) {
      return registration(await post('renew', '/renew', { csr }));
    },
    async syncVms(after, waitSeconds, signal) {
      const path = `/vms?after=${after}&wait=${waitSeconds}`;
      const waitMs = waitSeconds * 1000;
      const body = await call({ route: 'sync', method: 'GET', path, auth: 'host', waitMs, signal });
      if (!isVmSync(body)) throw unreadable('VM list');
      return body;
    },
    async certificate(principalId, request) {
      const path = `/identities/${encodeURIComponent(principalId)}/certificate`;
      const body = await post('certificate', path, request);
      if (!shaped(body, ['certificate'], ['notBefore', 'notAfter'])) {
        throw unreadable('certificate');
      }
      return body as unknown as CertificateResponse;
    },
    async token(request) {
      const body = await post('token', '/token', request);
      if (!shaped(body, ['accessToken', 'clientId', 'resource'], ['expiresOn', 'notBefore'])) {
        throw unreadable('token');
      }
      return body as unknown as AgentTokenResponse;
    },
    async attest(request) {
      const body = await post('attest', '/attest', request);
      if (!shaped(body, ['signature'], [])) throw unreadable('attest');
      return body as unknown as AttestResponse;
    },
    async reportRefusals(report) {
      await post('refusals', '/refusals', report);
    },
    close() {
      caller.http.close();
    },
  };
}
