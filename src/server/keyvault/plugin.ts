// The Key Vault data plane: one fastify app answering for every vault, chosen by the Host header.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from '../../config/logger.js';
import { AppError, isAppError } from '../../core/errors.js';
import type { SecretService } from '../../core/keyvault/secrets.js';
import type { Clock } from '../../core/ports.js';
import type { RbacEvaluator } from '../../core/rbac/index.js';
import type { AccessTokenVerifier, VerifiedAccessToken } from '../../core/tokens/index.js';
import { renderKeyVaultError } from '../../wire/errors/index.js';
import {
  challengeResource,
  keyVaultChallenge,
  keyVaultResource,
} from '../../wire/keyvault/challenge.js';
import { asKeyVaultError, keyVaultInnerCode } from '../../wire/keyvault/errors.js';
import { fromFrameworkError } from '../http-errors.js';
import { authenticateForVault, checkKeyVaultApiVersion } from './access.js';
import { registerSecretRoutes } from './secret-routes.js';
import { type VaultDirectory, vaultNameFromHost, type VaultRef, vaultNotFound } from './vaults.js';

/** What the data plane is built from. */
export interface KeyVaultServices {
  readonly clock: Clock;
  readonly secrets: SecretService;
  readonly vaults: VaultDirectory;
  /** Verifies bearer tokens for the vault audiences ({@link keyVaultAudiences}). */
  readonly verifier: AccessTokenVerifier;
  readonly rbac: Pick<RbacEvaluator, 'check'>;
  /** Vaults answer at `{name}.{dnsSuffix}`. */
  readonly dnsSuffix: string;
  /** How long a deleted secret stays recoverable (`recoverableDays`). */
  readonly recoverableDays: number;
  /** The `authorization` of a 401 challenge for a vault of `tenantId` (the tenant's authority). */
  readonly authorityFor: (tenantId: string) => string;
}

/** A request's vault and caller, once the request passed the checks every operation makes. */
export interface VaultRequestContext {
  readonly vault: VaultRef;
  readonly caller: VerifiedAccessToken;
  /** `{scheme}://{host as the caller sent it}`: what ids and `nextLink`s start with. */
  readonly origin: string;
  readonly requestId: string;
}

const contexts = new WeakMap<FastifyRequest, VaultRequestContext>();

/** The context the `onRequest` checks attached to `request`. */
export function vaultContext(request: FastifyRequest): VaultRequestContext {
  const found = contexts.get(request);
  if (found === undefined) throw new Error('no vault context: the onRequest hook did not run');
  return found;
}

/** Headers Key Vault sends on every answer (its recorded responses). */
function successHeaders(requestId: string, clientRequestId: string | string[] | undefined) {
  const echo =
    typeof clientRequestId === 'string' && /^[\w.-]{1,128}$/.test(clientRequestId)
      ? { 'x-ms-client-request-id': clientRequestId }
      : {};
  return {
    'cache-control': 'no-cache',
    pragma: 'no-cache',
    expires: '-1',
    'x-content-type-options': 'nosniff',
    'x-ms-request-id': requestId,
    'x-ms-keyvault-service-version': KEY_VAULT_SERVICE_VERSION,
    ...echo,
  };
}

/** `x-ms-keyvault-service-version`: Tessera's, not an Azure build number. */
const KEY_VAULT_SERVICE_VERSION = 'tessera-1';

/**
 * The token audiences vaults under `dnsSuffix` accept: `https://{dnsSuffix}`, and
 * `https://{dnsSuffix}:{port}` for each of `listenerPorts` (the ports the server listens on) and
 * the port `publicUrl` names, if any; each with and without a trailing slash. The challenge names
 * the port a request came in on (see `challengeResource`), so a vault reached on any of those ports
 * accepts the token an SDK gets for it; a token for another port is refused (`AKV10022`).
 */
export function keyVaultAudiences(
  dnsSuffix: string,
  listenerPorts: readonly number[] = [],
  publicUrl?: string,
): string[] {
  const ports = [...listenerPorts, ...explicitPort(publicUrl)];
  const resources = [
    keyVaultResource(dnsSuffix),
    ...ports.map((port) => keyVaultResource(dnsSuffix, port)),
  ];
  return [...new Set(resources)].flatMap((r) => [r, `${r}/`]);
}

/** The port `url` spells out (none when it has the scheme's default, or is not a URL). */
function explicitPort(url: string | undefined): number[] {
  if (url === undefined || !URL.canParse(url)) return [];
  const { port } = new URL(url);
  return port === '' ? [] : [Number(port)];
}

/** True when `host` (a Host header) names a vault under `dnsSuffix`. */
export function isVaultHost(host: string | undefined, dnsSuffix: string): boolean {
  return vaultNameFromHost(host, dnsSuffix) !== undefined;
}

/**
 * Builds the data-plane app. Every request is checked in this order before its route runs: the
 * vault named by `Host` exists (404) → `api-version` (400) → bearer token (401 with Key Vault's
 * challenge; the SDK's first, token-less request ends here) → the token's tenant is the vault's
 * (401). Routes then check the RBAC data action at the secret (or vault) scope (403). Errors are
 * Key Vault's `{"error":{code,message,innererror}}` with `x-ms-error-code`.
 */
export async function buildKeyVaultApp(options: {
  readonly services: KeyVaultServices;
  readonly logger: Logger;
  /** The scheme the server's listener speaks (for ids and links). */
  readonly scheme: 'http' | 'https';
}): Promise<FastifyInstance> {
  const { services, scheme } = options;
  const app = Fastify({
    loggerInstance: options.logger,
    trustProxy: false,
    // A 25 KB value, JSON-escaped, with properties, fits with room to spare.
    bodyLimit: 256 * 1024,
    // Long secret names reach the name check (Key Vault's 400), not the router's 414.
    routerOptions: {
      ignoreTrailingSlash: true,
      ignoreDuplicateSlashes: true,
      maxParamLength: 1024,
    },
  }) as unknown as FastifyInstance;

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    done(null, body);
  });

  app.addHook('onRequest', async (request, reply) => {
    const requestId = randomUUID();
    void reply.headers(successHeaders(requestId, request.headers['x-ms-client-request-id']));
    const host = request.headers.host ?? '';
    const name = vaultNameFromHost(host, services.dnsSuffix);
    const vault = name === undefined ? undefined : await services.vaults.find(name);
    if (vault === undefined) throw vaultNotFound(name ?? host);
    void reply.header('x-ms-keyvault-region', vault.location);
    checkKeyVaultApiVersion(request.query);
    // The port the caller came in on: the SDKs check the challenge against the vault URL's.
    const resource = challengeResource(services.dnsSuffix, scheme, host);
    let caller: VerifiedAccessToken;
    try {
      caller = await authenticateForVault(request.headers.authorization, services, vault, resource);
    } catch (error) {
      if (isAppError(error) && error.status === 401) {
        const authority = services.authorityFor(vault.tenantId);
        void reply.header('www-authenticate', keyVaultChallenge(authority, resource));
      }
      throw error;
    }
    contexts.set(request, {
      vault,
      caller,
      origin: `${scheme}://${host.toLowerCase()}`,
      requestId,
    });
  });

  app.setErrorHandler((error, request, reply) => {
    // The secret service fails in neutral words; this surface speaks Key Vault's.
    const mapped = asKeyVaultError(fromFrameworkError(error));
    if (!isAppError(mapped)) request.log.error({ err: error }, 'Key Vault request failed');
    const rendered = renderKeyVaultError(mapped, { innerErrorCode: keyVaultInnerCode(mapped) });
    void reply
      .status(rendered.status)
      .headers({ ...rendered.headers, 'cache-control': 'no-cache' })
      .send(rendered.body);
  });
  app.setNotFoundHandler((request) => {
    throw new AppError(
      'InvalidRequest',
      `The operation '${request.method} ${request.url.split('?')[0] ?? ''}' is not supported by this vault.`,
      { status: 400, wire: { keyvault: 'BadParameter' } },
    );
  });

  registerSecretRoutes(app, services);
  await app.ready();
  return app;
}
