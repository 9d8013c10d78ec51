// Wires the cloud side's services (directory, CA, signing keys, token issuer) from one store.
import {
  type CertificateAuthorityService,
  createCertificateAuthorityService,
} from '../core/directory/certificate-authority.js';
import { createDirectory, type Directory } from '../core/directory/directory.js';
import { knownTenants } from '../core/directory/known-tenants.js';
import { signingKeyPolicyFor } from '../core/keys/signing-key-policy.js';
import { createSigningKeyService, type SigningKeyService } from '../core/keys/signing-keys.js';
import type { Clock, Store } from '../core/ports.js';
import type { FederatedKeySource } from '../core/tokens/federation-keys.js';
import type { SecretFailurePolicy } from '../core/tokens/secret-throttle.js';
import { createTokenService, type TokenService } from '../core/tokens/token-service.js';
import { entraRefusal } from '../wire/oauth/entra-refusals.js';
import { type LoginServices, tokenEndpointsFor } from './login/plugin.js';

const DAY_MS = 86_400_000;

/** The server settings the services need (a slice of the configuration). */
export interface ServiceSettings {
  /** The URL clients reach the server at, no trailing slash. */
  readonly publicUrl: string;
  readonly tokenLifetimeSeconds: number;
  /** `iss` template with `{tenantId}`; default `{publicUrl}/{tenantId}/`. */
  readonly issuer?: string | undefined;
  readonly signingKeyRotationDays: number;
  readonly signingKeyPublishLeadHours: number;
  readonly certificateLifetimeDays: number;
  /** Other URLs the same server answers at (an HTTPS listener): assertions may name them too. */
  readonly alternateUrls?: readonly string[] | undefined;
  /** `server.tokens.secretFailures`; default the token service's own. */
  readonly secretFailures?: SecretFailurePolicy | undefined;
  /** `audit.refusalWindowSeconds`; default the token service's own (60). */
  readonly refusalWindowSeconds?: number | undefined;
  /** Where foreign OIDC issuers' keys come from (workload identity federation); default none. */
  readonly federatedKeys?: FederatedKeySource | undefined;
}

/** The defaults of the configuration (`server.tokens`, `server.directory`) for `publicUrl`. */
export function defaultServiceSettings(publicUrl: string): ServiceSettings {
  return {
    publicUrl,
    tokenLifetimeSeconds: 86_700,
    signingKeyRotationDays: 30,
    signingKeyPublishLeadHours: 24,
    certificateLifetimeDays: 7,
  };
}

/** Everything the server's surfaces use. */
export interface ServerServices {
  /** The directory's CA: issues identity and host certificates. */
  readonly ca: CertificateAuthorityService;
  readonly directory: Directory;
  readonly signingKeys: SigningKeyService;
  readonly tokens: TokenService;
  readonly login: LoginServices;
  readonly issuerFor: (tenantId: string) => string;
}

/** Builds the services over `store`; nothing here listens or starts timers. */
export function createServerServices(
  store: Store,
  clock: Clock,
  settings: ServiceSettings,
): ServerServices {
  const template = settings.issuer ?? `${settings.publicUrl}/{tenantId}/`;
  const issuerFor = (tenantId: string): string => template.replaceAll('{tenantId}', tenantId);
  const ca = createCertificateAuthorityService({ store, clock });
  const directory = createDirectory({
    store,
    clock,
    ca,
    certificateLifetimeMs: settings.certificateLifetimeDays * DAY_MS,
  });
  const signingKeys = createSigningKeyService({
    store,
    clock,
    policy: signingKeyPolicyFor(settings),
  });
  // One tenant lookup for the login surface and the issuer: each token read the tenant twice.
  const tenants = knownTenants(store.tenants);
  const tokens = createTokenService({
    store,
    clock,
    tenants,
    signingKey: () => signingKeys.signingKey(),
    issuerFor,
    assertionAudiencesFor: (tenantId) =>
      [settings.publicUrl, ...(settings.alternateUrls ?? [])].flatMap((u) =>
        tokenEndpointsFor(u, tenantId),
      ),
    tokenLifetimeSeconds: settings.tokenLifetimeSeconds,
    ...(settings.secretFailures === undefined ? {} : { secretFailures: settings.secretFailures }),
    ...(settings.refusalWindowSeconds === undefined
      ? {}
      : { refusalWindowSeconds: settings.refusalWindowSeconds }),
    ...(settings.federatedKeys === undefined ? {} : { federatedKeys: settings.federatedKeys }),
    // Audit rows quote what the caller was told: Entra's text.
    describeRefusal: (refusal) => entraRefusal(refusal).message,
  });
  const login: LoginServices = {
    clock,
    tokens,
    jwks: async () => ({
      keys: (await signingKeys.jwks()).keys.map((key) => ({ ...key, x5c: [...key.x5c] })),
    }),
    tenantExists: async (tenantId) => (await tenants(tenantId.toLowerCase())) !== undefined,
    issuerFor,
    discoveryMaxAgeSeconds: 3600,
    tenantOfClient: async (clientId) =>
      (await store.principals.getByAppId(clientId.toLowerCase()))?.tenantId,
  };
  return { ca, directory, signingKeys, tokens, login, issuerFor };
}
