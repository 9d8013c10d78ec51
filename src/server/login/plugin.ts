// The login surface (Entra ID shaped): token endpoints, OpenID discovery and signing keys.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../core/ports.js';
import type { TokenService } from '../../core/tokens/token-service.js';
import { renderOAuthError } from '../../wire/errors/index.js';
import { entraError } from '../../wire/oauth/entra-errors.js';
import { asEntraError } from '../../wire/oauth/entra-refusals.js';
import {
  jwksDocument,
  openIdConfigurationV1,
  openIdConfigurationV2,
} from '../../wire/oauth/discovery.js';
import { parseTokenRequest, type TokenEndpointVersion } from '../../wire/oauth/token-request.js';
import { v1TokenResponse, v2TokenResponse } from '../../wire/oauth/token-response.js';
import type { JWK } from 'jose';
import { fromFrameworkError } from '../http-errors.js';

/** What the login surface is built from. */
export interface LoginServices {
  readonly clock: Clock;
  readonly tokens: TokenService;
  /** Every published signing key (the JWKS), public members only. */
  readonly jwks: () => Promise<{ keys: readonly JWK[] }>;
  /** Whether `tenantId` (a GUID, any case) names a tenant of this directory. */
  readonly tenantExists: (tenantId: string) => Promise<boolean>;
  /** The v1 `iss` of a tenant's tokens. */
  readonly issuerFor: (tenantId: string) => string;
  /** How long clients may cache discovery documents and keys, in seconds. */
  readonly discoveryMaxAgeSeconds?: number;
  /** The tenant of the application or identity with this client id, if any. */
  readonly tenantOfClient: (clientId: string) => Promise<string | undefined>;
}

export interface LoginPluginOptions {
  readonly services: LoginServices;
  /** The server's public URL, no trailing slash. */
  readonly publicUrl: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NO_STORE = { 'cache-control': 'no-store, no-cache', pragma: 'no-cache' };

type TenantRequest = FastifyRequest<{ Params: { tenant: string } }>;

/**
 * The path segment of the ADFS-style authority, `{publicUrl}/adfs`: MSAL (and so az 2.45) trusts
 * such an authority without asking login.microsoftonline.com, and az leaves the tenant out of its
 * URL (PROTOCOL-TOOLS.md A.2), so the tenant is the client's own.
 */
export const ADFS = 'adfs';

/** The token endpoint URLs of a tenant: what a client assertion's `aud` may name. */
export function tokenEndpointsFor(publicUrl: string, tenantId: string): readonly string[] {
  const base = `${publicUrl}/${tenantId}/oauth2`;
  return [`${base}/token`, `${base}/v2.0/token`, `${publicUrl}/${ADFS}/oauth2/token`];
}

const isAdfs = (tenant: string): boolean => tenant.toLowerCase() === ADFS;

/**
 * Registers the login routes. Errors are rendered in Entra's OAuth dialect (RFC 6749 section 5.2
 * with `error_codes`, `trace_id`, `correlation_id`, `timestamp`).
 */
export async function loginPlugin(
  app: FastifyInstance,
  options: LoginPluginOptions,
): Promise<void> {
  const { services, publicUrl } = options;
  const maxAge = services.discoveryMaxAgeSeconds ?? 3600;
  const cacheable = { 'cache-control': `public, max-age=${maxAge}` };

  app.setErrorHandler((error, request, reply) => {
    const traceId = randomUUID();
    const header = request.headers['client-request-id'];
    const correlationId = typeof header === 'string' && GUID.test(header) ? header : randomUUID();
    // The token service refuses in neutral words; this surface speaks Entra's.
    const mapped = asEntraError(fromFrameworkError(error));
    if (!(mapped instanceof Error && 'code' in mapped && mapped.name === 'AppError')) {
      request.log.error({ err: error }, 'login request failed');
    }
    const rendered = renderOAuthError(mapped, {
      traceId,
      correlationId,
      now: services.clock.now(),
    });
    void reply
      .status(rendered.status)
      .headers({ ...rendered.headers, ...NO_STORE, 'x-ms-request-id': traceId })
      .send(rendered.body);
  });

  async function knownTenant(tenant: string): Promise<string> {
    if (!GUID.test(tenant) || !(await services.tenantExists(tenant))) {
      throw entraError('tenant_not_found', tenant);
    }
    return tenant.toLowerCase();
  }

  /** The ADFS authority's tenant: the client's own, or Entra's 700016 naming `adfs`. */
  async function clientTenant(clientId: string): Promise<string> {
    const tenant = await services.tenantOfClient(clientId);
    if (tenant === undefined) throw entraError('principal_not_found', clientId, ADFS);
    return tenant;
  }

  function tokenRoute(version: TokenEndpointVersion) {
    return async (request: TenantRequest, reply: FastifyReply): Promise<void> => {
      const adfs = isAdfs(request.params.tenant);
      const named = adfs ? undefined : await knownTenant(request.params.tenant);
      if (typeof request.body !== 'object' || request.body === null) {
        // No form body at all: the first thing Entra misses is grant_type.
        throw entraError('missing_parameter', 'grant_type');
      }
      const body = request.body as Record<string, string | string[]>;
      const tokenRequest = parseTokenRequest({
        // ADFS's one endpoint takes both: `scope` (MSAL) as v2 does, `resource` as v1.
        version: adfs && body.resource === undefined && body.scope !== undefined ? 'v2' : version,
        body,
        authorization: request.headers.authorization,
      });
      const tenantId = named ?? (await clientTenant(tokenRequest.clientId));
      const issued = await services.tokens.issue(tenantId, tokenRequest, { peer: request.ip });
      const now = Math.floor(services.clock.now() / 1000);
      const payload =
        tokenRequest.version === 'v1'
          ? v1TokenResponse({
              accessToken: issued.accessToken,
              resource: tokenRequest.resource,
              expiresOn: issued.expiresOn,
              notBefore: issued.notBefore,
              now,
            })
          : v2TokenResponse({
              accessToken: issued.accessToken,
              expiresIn: Math.max(0, issued.expiresOn - now),
              extExpiresIn: Math.max(0, issued.expiresOn - now),
            });
      void reply
        .headers({ ...NO_STORE, 'content-type': 'application/json; charset=utf-8' })
        .send(JSON.stringify(payload));
    };
  }

  app.post('/:tenant/oauth2/token', tokenRoute('v1'));
  app.post('/:tenant/oauth2/v2.0/token', tokenRoute('v2'));

  app.get('/:tenant/.well-known/openid-configuration', async (request: TenantRequest, reply) => {
    if (isAdfs(request.params.tenant)) {
      // MSAL reads only the endpoints; ADFS names itself as the issuer of its metadata.
      const doc = openIdConfigurationV1({
        baseUrl: publicUrl,
        tenantId: ADFS,
        issuer: `${publicUrl}/${ADFS}`,
      });
      void reply.headers(cacheable).send(doc);
      return;
    }
    const tenantId = await knownTenant(request.params.tenant);
    const doc = openIdConfigurationV1({
      baseUrl: publicUrl,
      tenantId,
      issuer: services.issuerFor(tenantId),
    });
    void reply.headers(cacheable).send(doc);
  });

  app.get(
    '/:tenant/v2.0/.well-known/openid-configuration',
    async (request: TenantRequest, reply) => {
      const tenantId = await knownTenant(request.params.tenant);
      const doc = openIdConfigurationV2({
        baseUrl: publicUrl,
        tenantId,
        issuer: `${publicUrl}/${tenantId}/v2.0`,
      });
      void reply.headers(cacheable).send(doc);
    },
  );

  // Keys are installation-wide, so `common`, `adfs` and every tenant publish the same set.
  async function keysFor(tenant: string): Promise<string | undefined> {
    if (tenant.toLowerCase() === 'common' || isAdfs(tenant)) return undefined;
    return knownTenant(tenant);
  }
  app.get('/:tenant/discovery/keys', async (request: TenantRequest, reply) => {
    await keysFor(request.params.tenant);
    void reply.headers(cacheable).send(jwksDocument((await services.jwks()).keys));
  });
  app.get('/:tenant/discovery/v2.0/keys', async (request: TenantRequest, reply) => {
    const tenantId = await keysFor(request.params.tenant);
    const issuer = `${publicUrl}/${tenantId ?? '{tenantid}'}/v2.0`;
    void reply.headers(cacheable).send(jwksDocument((await services.jwks()).keys, { issuer }));
  });
  return Promise.resolve();
}
