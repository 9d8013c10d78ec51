// The agent API surface (`/agent/v1`): host join tokens, registration, VM sync, identity certificates and tokens.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { forbidden, isAppError, notFound } from '../../core/errors.js';
import type { CertificateAuthorityService } from '../../core/directory/certificate-authority.js';
import type { Directory } from '../../core/directory/directory.js';
import { deleteHost, getHost, listHosts } from '../../core/hosts/hosts.js';
import { issueJoinToken } from '../../core/hosts/join-tokens.js';
import type { Clock, Store } from '../../core/ports.js';
import type { AccessTokenVerifier } from '../../core/tokens/index.js';
import type { TokenService } from '../../core/tokens/token-service.js';
import { AGENT_API_PREFIX } from '../../wire/agent-api.js';
import { createdHost, hostView } from '../../wire/agent-api-hosts.js';
import { renderArmError } from '../../wire/errors/index.js';
import type { Authorizer } from '../arm/context.js';
import { authenticateBearer, bearerChallenge } from '../bearer-auth.js';
import { fromFrameworkError } from '../http-errors.js';
import { type AttestationSigner, createAttestationSigner } from './attest.js';
import { type ChangeSignal, createChangeSignal } from './change-signal.js';
import { createHostAuthenticator, type HostAuthenticator } from './host-auth.js';
import { registerHost, renewHost } from './hosts.js';
import { issueIdentityCertificate, issueIdentityCertificates } from './identity-certificates.js';
import { recordRefusals } from './refusals.js';
import { issueAgentToken } from './token.js';
import { parseVmSyncQuery, waitForVmSync } from './vm-sync.js';

/** The RBAC action an operator needs at `/` to create hosts and their join tokens (Owner's `*` has it). */
export const HOSTS_WRITE_ACTION = 'Tessera.Agent/hosts/write';
/** The RBAC action an operator needs at `/` to list and read hosts (Reader's read-all has it). */
export const HOSTS_READ_ACTION = 'Tessera.Agent/hosts/read';
/**
 * The RBAC action an operator needs at `/` to delete hosts (Owner's and Contributor's `*` have it;
 * Reader's read-all does not).
 */
export const HOSTS_DELETE_ACTION = 'Tessera.Agent/hosts/delete';

/** What the agent API is built from; one set per process, shared by its listeners. */
export interface AgentApiServices {
  readonly store: Store;
  readonly clock: Clock;
  readonly directory: Directory;
  readonly ca: CertificateAuthorityService;
  readonly tokens: TokenService;
  /** Wakes long-polls; the server fires it after every successful ARM write. */
  readonly changeSignal: ChangeSignal;
  /** Verifies operators' ARM bearer tokens (`/hosts`, `/hosts/{name}`). */
  readonly verifier: AccessTokenVerifier;
  readonly rbac: Authorizer;
  /** Authenticates hosts; one per process, so its certificate cache serves every listener. */
  readonly hostAuth: HostAuthenticator;
  /** Signs attested documents; one per process, so every listener signs with one key. */
  readonly attestation: AttestationSigner;
}

/**
 * Builds the agent API's services: the change signal (polling `store.changes` while anyone
 * waits and `notified()` is not true; failed polls go to `onPollError`), the host authenticator
 * accepting `audiences` (`hostAssertionAudience` of every URL the server answers at) and the
 * attestation signer.
 */
export function createAgentApiServices(
  deps: Omit<AgentApiServices, 'changeSignal' | 'hostAuth' | 'attestation'> & {
    readonly audiences: readonly string[];
    readonly onPollError?: (error: unknown) => void;
    readonly notified?: () => boolean;
  },
): AgentApiServices {
  const { audiences, onPollError, notified, ...rest } = deps;
  return {
    ...rest,
    changeSignal: createChangeSignal({
      feed: deps.store.changes,
      ...(onPollError === undefined ? {} : { onPollError }),
      ...(notified === undefined ? {} : { notified }),
    }),
    attestation: createAttestationSigner(deps),
    hostAuth: createHostAuthenticator({
      store: deps.store,
      clock: deps.clock,
      trustAnchors: () => deps.ca.trustAnchors(),
      audiences,
    }),
  };
}

/** Options of {@link agentApiPlugin}. */
export interface AgentApiPluginOptions {
  readonly services: AgentApiServices;
  /** Where an operator gets a token (the `authorization_uri` of a bearer 401 challenge). */
  readonly authorizationUri: string;
}

type NameRequest = FastifyRequest<{ Params: { name: string } }>;
type PrincipalRequest = FastifyRequest<{ Params: { principalId: string } }>;

/**
 * Registers the agent API under {@link AGENT_API_PREFIX} (see `src/wire/agent-api.ts` for the
 * contract). Errors are ARM's shape `{"error":{"code","message"}}` with the HTTP status; an
 * unexpected failure is a 500 whose cause is logged (never a request body or header: join tokens,
 * CSRs and host assertions stay out of the log).
 */
export function agentApiPlugin(
  app: FastifyInstance,
  options: AgentApiPluginOptions,
): Promise<void> {
  const { services } = options;
  const { hostAuth, attestation } = services;

  // Waiting long-polls answer at once when the server closes, so closing never waits for them.
  const closing = new AbortController();
  app.addHook('preClose', (done) => {
    closing.abort();
    done();
  });

  app.setErrorHandler((error, request, reply) => {
    const mapped = fromFrameworkError(error);
    if (!isAppError(mapped)) request.log.error({ err: error }, 'agent API request failed');
    const rendered = renderArmError(mapped, { correlationId: randomUUID() });
    const challenge =
      rendered.status === 401 &&
      /^\/hosts(?:[/?]|$)/.test(request.url.slice(AGENT_API_PREFIX.length))
        ? { 'www-authenticate': bearerChallenge({ authorizationUri: options.authorizationUri }) }
        : {};
    void reply
      .status(rendered.status)
      .headers({ ...rendered.headers, ...challenge, 'cache-control': 'no-store' })
      .send(rendered.body);
  });
  app.setNotFoundHandler((request) => {
    throw notFound(`The agent API has no '${request.method}' operation at this path.`);
  });

  const send = (reply: FastifyReply, status: number, body: unknown): void => {
    void reply
      .status(status)
      .headers({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
      .send(JSON.stringify(body));
  };

  /** Authenticates an operator's ARM bearer token and checks `action` at `/` (403 otherwise). */
  const authorizeOperator = async (request: FastifyRequest, action: string): Promise<void> => {
    const caller = await authenticateBearer(request.headers.authorization, services.verifier);
    const { allowed } = await services.rbac.check({
      principalId: caller.objectId,
      action,
      scope: '/',
    });
    if (!allowed) {
      throw forbidden(
        `The client '${caller.appId ?? caller.objectId}' with object id '${caller.objectId}' does not have authorization to perform action '${action}' over scope '/'.`,
      );
    }
  };

  app.get('/hosts', async (request, reply) => {
    await authorizeOperator(request, HOSTS_READ_ACTION);
    send(reply, 200, { value: (await listHosts(services.store)).map(hostView) });
  });

  app.get('/hosts/:name', async (request: NameRequest, reply) => {
    await authorizeOperator(request, HOSTS_READ_ACTION);
    send(reply, 200, hostView(await getHost(services.store, request.params.name)));
  });

  app.put('/hosts/:name', async (request: NameRequest, reply) => {
    await authorizeOperator(request, HOSTS_WRITE_ACTION);
    const issued = await issueJoinToken(services, request.params.name);
    send(reply, issued.created ? 201 : 200, createdHost(issued));
  });

  // As an ARM delete: 200 when this request deleted it, 204 when another one did meanwhile.
  app.delete('/hosts/:name', async (request: NameRequest, reply) => {
    await authorizeOperator(request, HOSTS_DELETE_ACTION);
    const deleted = await deleteHost(services.store, request.params.name);
    void reply
      .status(deleted ? 200 : 204)
      .header('cache-control', 'no-store')
      .send();
  });

  app.post('/register', async (request, reply) => {
    send(reply, 200, await registerHost(services, request.body));
  });

  app.post('/renew', async (request, reply) => {
    const host = await hostAuth.authenticate(request.headers.authorization);
    send(reply, 200, await renewHost(services, host, request.body));
  });

  app.get('/vms', async (request, reply) => {
    const host = await hostAuth.authenticate(request.headers.authorization);
    const query = parseVmSyncQuery(request.query as Record<string, string | string[] | undefined>);
    const gone = new AbortController();
    const stop = (): void => {
      gone.abort();
    };
    reply.raw.once('close', stop);
    closing.signal.addEventListener('abort', stop, { once: true });
    try {
      const sync = await waitForVmSync(
        { store: services.store, clock: services.clock, signal: services.changeSignal },
        host.id,
        query,
        gone.signal,
      );
      // The server stops waiting for connections that go idle after it began to close.
      if (closing.signal.aborted) void reply.header('connection', 'close');
      send(reply, 200, sync);
    } finally {
      reply.raw.off('close', stop);
      closing.signal.removeEventListener('abort', stop);
    }
  });

  app.post('/identities/:principalId/certificate', async (request: PrincipalRequest, reply) => {
    const host = await hostAuth.authenticate(request.headers.authorization);
    send(
      reply,
      200,
      await issueIdentityCertificate(services, host, request.params.principalId, request.body),
    );
  });

  app.post('/identities/certificates', async (request, reply) => {
    const host = await hostAuth.authenticate(request.headers.authorization);
    send(reply, 200, await issueIdentityCertificates(services, host, request.body));
  });

  app.post('/token', async (request, reply) => {
    const host = await hostAuth.authenticate(request.headers.authorization);
    send(reply, 200, await issueAgentToken(services, host, request.body));
  });

  app.post('/attest', async (request, reply) => {
    const host = await hostAuth.authenticate(request.headers.authorization);
    send(reply, 200, await attestation.attest(host, request.body));
  });

  app.post('/refusals', async (request, reply) => {
    const host = await hostAuth.authenticate(request.headers.authorization);
    await recordRefusals(services, host, request.body);
    void reply.status(204).header('cache-control', 'no-store').send();
  });
  return Promise.resolve();
}
