// The agent's client for the server's agent API: its endpoints, host authentication, failover between replicas, and answers as AppErrors.
import type { KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { isClientError } from '../client/errors.js';
import { createHttp, type Http, type HttpResponse } from '../client/http.js';
import { AppError } from '../core/errors.js';
import {
  type AgentTokenRequest,
  type AgentTokenResponse,
  type AttestRequest,
  type AttestResponse,
  type CertificateBatchItem,
  type CertificateRequest,
  type CertificateResponse,
  type CreatedHost,
  HOST_AUTH_SCHEME,
  type RegisterRequest,
  type RefusalReport,
  type RegisterResponse,
  type VmSync,
} from '../wire/agent-api.js';
import type { AgentClock, Backoff } from './clock.js';
import {
  createReplicaSet,
  type Replica,
  type ReplicaEvent,
  type ReplicaSet,
} from './replica-set.js';
import {
  allStrings,
  certainlyUnanswered,
  certificateOutcomes,
  type CertificateOutcome,
  errorFromResponse,
  isVmSync,
  REPLICA_DOWN_STATUSES,
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
  | 'createHost'
  | 'register'
  | 'renew'
  | 'sync'
  | 'certificate'
  | 'certificates'
  | 'token'
  | 'attest'
  | 'refusals';

/** Options of {@link createServerClient}. */
export interface ServerClientOptions {
  /**
   * The server's URL (its public URL or a load balancer's), or the URLs of its replicas in order
   * of preference: calls go to the first live one and fail over to the next.
   */
  readonly serverUrl: string | readonly string[];
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
  /** How long a failed replica is skipped. Default 2 s doubling to 30 s (replica-set.ts). */
  readonly replicaBackoff?: Backoff | undefined;
  /** In [0, 1): jitter of that back-off. Default `Math.random`. */
  readonly random?: (() => number) | undefined;
  /** Told when a replica goes down, comes back, or calls move to another (for logs). */
  readonly onReplica?: ((event: ReplicaEvent) => void) | undefined;
}

/** Typed calls for every endpoint of the agent API (src/wire/agent-api.ts). */
export interface ServerClient {
  /** The first server URL configured, without a trailing slash. */
  readonly serverUrl: string;
  /** Every server URL configured, in order of preference, without trailing slashes. */
  readonly serverUrls: readonly string[];
  /** The replicas behind those URLs and what the client knows of each. */
  readonly replicas: ReplicaSet;
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
  /**
   * `POST /identities/certificates` with host auth: each identity's certificate or the AppError
   * it was refused with, in the order asked. The call itself fails as others do (a server
   * without the route answers 404 `NotFound`).
   */
  certificates(requests: readonly CertificateBatchItem[]): Promise<CertificateOutcome[]>;
  /** `POST /token` with host auth: the host's session stands for the identity's key. */
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

/** The host the agent authenticates as, and its current assertion for each audience. */
interface HostAuth {
  credentials: HostCredentials | undefined;
  readonly assertions: Map<
    string,
    { credentials: HostCredentials; header: string; renewAt: number }
  >;
}

/**
 * The `Authorization` header of a host-authenticated call to the replica of `audience`: a
 * `TesseraHost` ES256 assertion with the host certificate in `x5c`, reused until a minute before
 * it expires. Fails with `Internal` before the agent is registered.
 */
async function hostAuthorization(auth: HostAuth, audience: string, now: number): Promise<string> {
  const credentials = auth.credentials;
  if (credentials === undefined) {
    throw new AppError('Internal', 'The agent is not registered.', { status: 500 });
  }
  const cached = auth.assertions.get(audience);
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
  const renewAt = (exp - ASSERTION_RENEW_MARGIN_SECONDS) * 1000;
  auth.assertions.set(audience, { credentials, header, renewAt });
  return header;
}

/** What every call of one client shares. */
interface Caller {
  readonly http: Http;
  readonly replicas: ReplicaSet;
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

/** How a call to one replica ended: an answer to return, or a failure and whether to go on. */
type Outcome =
  { readonly answer: unknown } | { readonly failure: AppError; readonly tryNext: boolean };

/**
 * Makes `call` and returns its JSON body (undefined when empty), trying the replicas in turn
 * (see {@link callReplica} for when a call moves on). Every failure is an AppError (see
 * {@link errorFromResponse}); no answer, or an unreadable one, is `ServiceUnavailable` (503,
 * `Retry-After`); an aborted call rejects with the transport's `Aborted`.
 */
async function callAgentApi(caller: Caller, call: AgentCall): Promise<unknown> {
  let failure: AppError | undefined;
  for (const replica of caller.replicas.candidates()) {
    const outcome = await callReplica(caller, call, replica);
    if ('answer' in outcome) return outcome.answer;
    failure = outcome.failure;
    if (!outcome.tryNext) break;
  }
  throw failure ?? upstreamUnavailable('No Tessera server is configured.', 0);
}

/**
 * Makes `call` at `replica`. The replica is marked failed when it cannot be reached, times out or
 * answers 502, 503 or 504; a call then moves to the next replica when it certainly did no work
 * there (no connection, or reset before any answer: {@link certainlyUnanswered}), when the
 * replica said so (502/503/504), or when it is a read (`GET`, the long-poll). A token mint or a
 * write that may have been done is not sent again elsewhere: its caller sees a 503 and retries.
 */
async function callReplica(caller: Caller, call: AgentCall, replica: Replica): Promise<Outcome> {
  const text = call.body === undefined ? undefined : JSON.stringify(call.body);
  const started = caller.clock.now();
  let answer: HttpResponse;
  try {
    answer = await sendTo(caller, call, replica, text);
  } catch (error) {
    caller.onUpstream?.(call.route, caller.clock.now() - started, false);
    if (call.signal?.aborted === true) throw error;
    if (isClientError(error) && error.code === 'ServiceUnreachable') {
      caller.replicas.failed(replica, error.message);
    }
    const message = 'The Tessera server cannot be reached.';
    const failure = upstreamUnavailable(message, caller.retryAfterSeconds, error);
    return { failure, tryNext: call.method === 'GET' || certainlyUnanswered(error) };
  }
  const { status } = answer;
  caller.onUpstream?.(call.route, caller.clock.now() - started, status < 500);
  const retryAfter = answer.headers['retry-after'];
  if (REPLICA_DOWN_STATUSES.has(status)) {
    caller.replicas.failed(replica, `HTTP ${status}`);
    const failure = errorFromResponse(status, answer.text, retryAfter, caller.retryAfterSeconds);
    return { failure, tryNext: true };
  }
  caller.replicas.succeeded(replica);
  if (status < 200 || status >= 300) {
    throw errorFromResponse(status, answer.text, retryAfter, caller.retryAfterSeconds);
  }
  try {
    return { answer: answer.text === '' ? undefined : (JSON.parse(answer.text) as unknown) };
  } catch (error) {
    const message = 'The Tessera server sent an unreadable answer.';
    throw upstreamUnavailable(message, caller.retryAfterSeconds, error);
  }
}

/**
 * Sends `call` with body `text` to `replica`, host-authenticated for that replica's audience,
 * and returns the answer whatever its status; rejects as the transport does when none came. A
 * 401 to a call signed for host credentials that were replaced meanwhile (a renewal) is sent once
 * more.
 */
async function sendTo(
  caller: Caller,
  call: AgentCall,
  replica: Replica,
  text: string | undefined,
  retried = false,
): Promise<HttpResponse> {
  const headers: Record<string, string> = {};
  const signedFor = caller.auth.credentials;
  if (call.auth === 'host') {
    const now = caller.clock.now();
    headers.authorization = await hostAuthorization(caller.auth, replica.audience, now);
  } else if (call.auth !== undefined) {
    headers.authorization = `Bearer ${call.auth.bearer}`;
  }
  if (text !== undefined) headers['content-type'] = 'application/json';
  const answer = await caller.http({
    method: call.method,
    url: `${replica.apiUrl}${call.path}`,
    headers,
    body: text,
    signal: call.signal,
    timeoutMs: caller.timeoutMs + (call.waitMs ?? 0),
    // Resent on a fresh connection when a kept-alive one turned out closed before any answer
    // (the same replica, which never read it): tokens, certificates and signatures are issued
    // anew, a spent join token is refused as it would have been, a refusal report counts again.
    repeatable: true,
  });
  if (answer.status === 401 && call.auth === 'host') {
    caller.auth.assertions.delete(replica.audience);
    // The certificate was renewed while this call was on its way: the old one no longer works.
    if (signedFor !== caller.auth.credentials && !retried) {
      return sendTo(caller, call, replica, text, true);
    }
  }
  return answer;
}

/**
 * Makes a client for the agent API at `options.serverUrl` (one URL, or the replicas' in order of
 * preference: see {@link callReplica} for failover), over the shared HTTP transport (kept-alive
 * connections, deadlines on the agent's clock, a body cap, one retry on a stale connection).
 * Every failure is an {@link AppError}: the server's `{"error":{code,message}}` with its status
 * for a 4xx (an Entra refusal as the Entra error it was); `ServiceUnavailable` (503,
 * `retryAfterSeconds`) for a 5xx, a timeout, a network failure or an unreadable answer, once no
 * replica is left to try. Fails with `ConfigInvalid` when given no URL.
 */
export function createServerClient(options: ServerClientOptions): ServerClient {
  const { clock } = options;
  const replicas = createReplicaSet({
    urls: typeof options.serverUrl === 'string' ? [options.serverUrl] : options.serverUrl,
    clock,
    backoff: options.replicaBackoff,
    random: options.random,
  });
  if (options.onReplica !== undefined) replicas.onEvent(options.onReplica);
  const serverUrls = replicas.replicas.map((r) => r.url);
  const retryAfterSeconds = options.retryAfterSeconds ?? 5;
  const caller: Caller = {
    http: createHttp({
      caPem: options.caPem,
      maxBodyBytes: MAX_BODY_BYTES,
      setTimer: (callback, delayMs) => clock.setTimer(callback, delayMs),
    }),
    replicas,
    auth: { credentials: undefined, assertions: new Map() },
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
    serverUrl: serverUrls[0] ?? '',
    serverUrls,
    replicas,
    useHost(credentials) {
      caller.auth.credentials = credentials;
      caller.auth.assertions.clear();
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
    async certificates(requests) {
      const body = await post('certificates', '/identities/certificates', { requests });
      const outcomes = certificateOutcomes(body, requests, caller.retryAfterSeconds);
      if (outcomes === undefined) throw unreadable('certificates');
      return outcomes;
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
