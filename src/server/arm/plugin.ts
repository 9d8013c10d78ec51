// The ARM surface: bearer authentication, ARM's error dialect and trace headers, and dispatch by path.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isAppError, notFound } from '../../core/errors.js';
import type { AccessTokenVerifier } from '../../core/tokens/index.js';
import {
  armTraceHeaders,
  describeJsonDepthFault,
  invalidRequestContent,
  unknownNamespaceError,
} from '../../wire/arm/index.js';
import { renderArmError } from '../../wire/errors/index.js';
import { authenticateBearer, bearerChallenge } from '../bearer-auth.js';
import { fromFrameworkError } from '../http-errors.js';
import { matchAuditEvents } from './audit-events.js';
import type { ArmHandler, ArmServices, RouteMatcher } from './context.js';
import { matchKeyVaults } from './key-vaults.js';
import { matchResourceGroups } from './resource-groups.js';
import { matchRoleAuthorization } from './role-assignments.js';
import { matchScaleSets } from './scale-sets.js';
import { matchUserAssignedIdentities } from './user-assigned-identities.js';
import { matchVirtualMachines } from './virtual-machines.js';
import { matchVmExtensions } from './vm-extensions.js';

export interface ArmPluginOptions {
  readonly services: ArmServices;
  /** Verifies bearer tokens for the management audiences. */
  readonly verifier: AccessTokenVerifier;
  /** Where a client gets a token (the `authorization_uri` of a 401 challenge). */
  readonly authorizationUri: string;
  /** The server's public URL, no trailing slash (for `nextLink`). */
  readonly publicUrl: string;
}

/**
 * The route tables, tried in order: each maps a path (split into segments, original case) to a
 * handler or passes. Each resource kind keeps its table in its own module.
 */
const ROUTES: readonly RouteMatcher[] = [
  matchResourceGroups,
  matchUserAssignedIdentities,
  matchVirtualMachines,
  matchVmExtensions,
  matchScaleSets,
  matchRoleAuthorization,
  matchKeyVaults,
  matchAuditEvents,
];

function route(segments: readonly string[]): ArmHandler | undefined {
  for (const match of ROUTES) {
    const handler = match(segments);
    if (handler !== undefined) return handler;
  }
  return undefined;
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
 * case-insensitively, and the route tables compare the rest as keywords.
 */
const ARM_ROOT = `/:root${anyCase('subscriptions', 'providers')}`;

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
    const trace = armTraceHeaders(request.headers, services.newId);
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
    const segments = path.split('/').slice(1);
    const handler = segments.includes('') ? undefined : route(segments);
    if (handler === undefined) {
      const providers = segments.findLastIndex((s) => s.toLowerCase() === 'providers');
      const namespaceError =
        providers < 0 ? undefined : unknownNamespaceError(segments.slice(providers + 1));
      if (namespaceError !== undefined) throw namespaceError;
      throw notFound(`The resource path '${path}' is not served by Tessera.`, {
        wire: { arm: 'InvalidResourceType' },
      });
    }
    const response = await handler(services, {
      caller,
      method: request.method,
      path,
      query: request.query as Record<string, string | string[] | undefined>,
      headers: request.headers,
      body: typeof request.body === 'string' ? request.body : '',
      url: `${options.publicUrl}${path}${search === '' ? '' : `?${search}`}`,
    });
    const trace = armTraceHeaders(request.headers, services.newId);
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
  return Promise.resolve();
}
