// The ARM surface: bearer authentication, ARM's error dialect and trace headers, and dispatch by path.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isAppError } from '../../core/errors.js';
import type { AccessTokenVerifier } from '../../core/tokens/index.js';
import {
  ARM_HEADERS,
  type ApiVersionQuery,
  armTraceHeaders,
  describeJsonDepthFault,
  invalidRequestContent,
  readApiVersion,
} from '../../wire/arm/index.js';
import { cloudMetadata } from '../../wire/arm/cloud-metadata.js';
import { renderArmError } from '../../wire/errors/index.js';
import { authenticateBearer, bearerChallenge } from '../bearer-auth.js';
import { fromFrameworkError } from '../http-errors.js';
import type { ArmServices } from './context.js';
import { activityRecorder } from './activity-recorder.js';
import { createBackgroundJobs } from './jobs.js';
import { type Recorder, runPipeline } from './pipeline.js';
import { ARM_REGISTRY } from './providers/index.js';

export interface ArmPluginOptions {
  readonly services: ArmServices;
  /** Verifies bearer tokens for the management audiences. */
  readonly verifier: AccessTokenVerifier;
  /** Where a client gets a token (the `authorization_uri` of a 401 challenge). */
  readonly authorizationUri: string;
  /** The server's public URL, no trailing slash (for `nextLink`). */
  readonly publicUrl: string;
  /** The Key Vault DNS suffix as this listener's clients reach vaults (`vault.localhost:8444`). */
  readonly keyVaultDns: string;
}

/**
 * A route parameter's pattern matching one of `words` (ASCII letters) in any case: fastify's
 * `caseSensitive` is one setting for the whole server, so ARM's routes say it themselves.
 */
function anyCase(...words: string[]): string {
  const letters = (word: string): string =>
    word.replace(/[a-z]/gi, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`);
  return `(^(?:${words.map(letters).join('|')})$)`;
}

/**
 * The first segment of every ARM path, `subscriptions` or `providers` (tenant-level ids: role
 * assignments and definitions at `/`), in any case: ARM matches its fixed segments
 * case-insensitively, and the pipeline parses the rest the same way (`parseTarget`).
 */
const ARM_ROOT = `/:root${anyCase('subscriptions', 'providers', 'tenants')}`;

/**
 * ARM's body step, for every route before anything else runs: the body is kept as text (handlers
 * parse it and word faults as Json.NET does), but nesting deeper than Json.NET's `MaxDepth` is
 * refused here, so no handler, store or serializer ever walks a deep value.
 */
function readBody(body: string): string {
  const fault = describeJsonDepthFault(body);
  if (fault !== undefined) throw invalidRequestContent(fault);
  return body;
}

/** Registers the ARM routes under `/subscriptions` and `/providers`. */
export function armPlugin(app: FastifyInstance, options: ArmPluginOptions): Promise<void> {
  const { services, verifier } = options;
  /** Each request's trace ids, so an error answer carries the ids its Activity Log events name. */
  const traces = new WeakMap<FastifyRequest, Record<string, string>>();
  const jobs = createBackgroundJobs((error) => {
    app.log.error({ err: error }, 'an ARM background job failed');
  });
  app.addHook('onClose', () => jobs.close());
  const listener = { baseUrl: options.publicUrl, keyVaultDns: options.keyVaultDns };

  // ARM takes any body on any method as text.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, readBody(body as string));
    } catch (error) {
      done(error as Error);
    }
  });

  app.setErrorHandler((error, request, reply) => {
    const mapped = fromFrameworkError(error);
    if (!isAppError(mapped)) request.log.error({ err: error }, 'ARM request failed');
    const trace = traces.get(request) ?? armTraceHeaders(request.headers, services.newId);
    const rendered = renderArmError(mapped, {
      correlationId: trace['x-ms-correlation-request-id'],
    });
    const challenge =
      rendered.status === 401
        ? {
            'www-authenticate': bearerChallenge({
              authorizationUri: options.authorizationUri,
              ...(isAppError(mapped) && mapped.code === 'InvalidToken'
                ? { error: 'invalid_token' as const, description: mapped.message }
                : {}),
            }),
          }
        : {};
    void reply
      .status(rendered.status)
      .headers({ ...rendered.headers, ...trace, ...challenge })
      .send(rendered.body);
  });

  const handle = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const caller = await authenticateBearer(request.headers.authorization, verifier);
    const [rawPath = '', search = ''] = request.url.split('?', 2);
    // A doubled leading slash is how SDKs join a scope that starts with '/' (see app.ts).
    const path = rawPath.replace(/^\/{2,}/, '/');
    const armRequest = {
      caller,
      method: request.method,
      path,
      query: request.query as Record<string, string | string[] | undefined>,
      headers: request.headers,
      body: typeof request.body === 'string' ? request.body : '',
      url: `${options.publicUrl}${path}${search === '' ? '' : `?${search}`}`,
    };
    const trace = armTraceHeaders(request.headers, services.newId);
    traces.set(request, trace);
    const recorderFor = (headers: Readonly<Record<string, string>>): Recorder =>
      activityRecorder(services, { headers, clientIp: request.ip }, (error) => {
        app.log.error({ err: error }, 'the Activity Log could not record an ARM operation');
      });
    const response = await runPipeline(
      {
        services,
        registry: ARM_REGISTRY,
        recorded: recorderFor(trace),
        recorderFor,
        jobs,
        listener,
      },
      { ...armRequest, correlationId: trace[ARM_HEADERS.correlationRequestId] ?? '' },
    );
    void reply.status(response.status).headers({ ...trace, ...response.headers });
    if (response.body === undefined) {
      void reply.send();
    } else {
      void reply
        .header('content-type', 'application/json; charset=utf-8')
        .send(JSON.stringify(response.body));
    }
  };

  app.all(ARM_ROOT, handle);
  app.all(`${ARM_ROOT}/*`, handle);
  // The cloud's endpoints, for `az cloud register` and the Go SDKs: public, as on Azure.
  app.get('/metadata/endpoints', async (request, reply) => {
    const trace = armTraceHeaders(request.headers, services.newId);
    traces.set(request, trace);
    const document = cloudMetadata(readApiVersion(request.query as ApiVersionQuery), {
      baseUrl: options.publicUrl,
      keyVaultDns: options.keyVaultDns,
    });
    void reply
      .headers(trace)
      .header('content-type', 'application/json; charset=utf-8')
      .send(JSON.stringify(document));
    return reply;
  });
  return Promise.resolve();
}
