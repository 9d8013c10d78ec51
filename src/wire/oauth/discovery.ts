// Entra ID's OpenID discovery documents, JWKS and MSAL instance-discovery bodies, per tenant.
import type { JwkInput } from '../../core/keys/jwk.js';

/** Where and for whom a discovery document is served. */
export interface DiscoveryInput {
  /** The login host's origin and path prefix, e.g. `https://login.tessera.example` (no tenant). */
  readonly baseUrl: string;
  readonly tenantId: string;
  /** The `iss` of the tokens this document describes (v1: `.../{tid}/`, v2: `.../{tid}/v2.0`). */
  readonly issuer: string;
  /** Entra's `tenant_region_scope` (`"NA"`, `"WW"`, ...); `null` unless configured. */
  readonly tenantRegionScope?: string | null | undefined;
  /** Entra's `cloud_instance_name`; defaults to the host of `baseUrl`. */
  readonly cloudInstanceName?: string | undefined;
}

/** The OpenID Provider Metadata Tessera publishes, members in Entra's order. */
export interface OpenIdConfiguration {
  readonly token_endpoint: string;
  readonly token_endpoint_auth_methods_supported: readonly string[];
  readonly jwks_uri: string;
  readonly subject_types_supported: readonly string[];
  readonly id_token_signing_alg_values_supported: readonly string[];
  readonly response_types_supported: readonly string[];
  readonly issuer: string;
  readonly authorization_endpoint: string;
  readonly end_session_endpoint: string;
  readonly tenant_region_scope: string | null;
  readonly cloud_instance_name: string;
}

/** A published signing key; `issuer` only on the v2 keys endpoint (PROTOCOL.md section 5.4). */
export type PublishedJwk = JwkInput & { readonly issuer?: string };

/** A JSON Web Key Set document (RFC 7517 section 5). */
export interface JwksDocument {
  readonly keys: readonly PublishedJwk[];
}

/** MSAL's cloud instance-discovery response (msal-common `CloudInstanceDiscoveryResponse`). */
export interface InstanceDiscoveryResponse {
  readonly tenant_discovery_endpoint: string;
  readonly 'api-version': '1.1';
  readonly metadata: readonly {
    readonly preferred_network: string;
    readonly preferred_cache: string;
    readonly aliases: readonly string[];
  }[];
}

/** Entra's list; Tessera accepts exactly these three (see token-request.ts). */
const AUTH_METHODS = ['client_secret_post', 'private_key_jwt', 'client_secret_basic'] as const;

// Entra's values. Tessera issues no ID tokens, but these three members are REQUIRED by OpenID
// Connect Discovery 1.0 section 3, and validators such as openid-client refuse a document without.
const SUBJECT_TYPES = ['pairwise'] as const;
const ID_TOKEN_ALGS = ['RS256'] as const;
const RESPONSE_TYPES_V1 = ['code', 'id_token', 'code id_token', 'token id_token', 'token'] as const;
const RESPONSE_TYPES_V2 = ['code', 'id_token', 'code id_token', 'id_token token'] as const;

/** `baseUrl` without trailing slashes, so paths join with exactly one. */
function origin(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '');
}

function tenantBase(input: DiscoveryInput): string {
  return `${origin(input.baseUrl)}/${encodeURIComponent(input.tenantId)}`;
}

function common(input: DiscoveryInput): {
  tenant_region_scope: string | null;
  cloud_instance_name: string;
} {
  return {
    tenant_region_scope: input.tenantRegionScope ?? null,
    cloud_instance_name: input.cloudInstanceName ?? new URL(origin(input.baseUrl)).host,
  };
}

/**
 * The v1 document served at `{baseUrl}/{tenant}/.well-known/openid-configuration`
 * (PROTOCOL.md section 5.4; member order of Entra's, as in AzureAD/MSIdentityTools' fixture):
 * endpoints under `{tenant}/oauth2/`, keys at `{tenant}/discovery/keys`. Only the members that
 * OpenID Connect Discovery requires or MSAL reads are published (msal-common
 * `isOpenIdConfigResponse` wants `authorization_endpoint`, `token_endpoint`, `issuer`, and
 * `end_session_endpoint` or `jwks_uri` depending on the version), plus Entra's
 * `tenant_region_scope` and `cloud_instance_name`. Tessera implements only the token endpoint;
 * the authorization and end-session endpoints are listed because MSAL requires them.
 */
export function openIdConfigurationV1(input: DiscoveryInput): OpenIdConfiguration {
  const base = tenantBase(input);
  return {
    token_endpoint: `${base}/oauth2/token`,
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    jwks_uri: `${base}/discovery/keys`,
    subject_types_supported: SUBJECT_TYPES,
    id_token_signing_alg_values_supported: ID_TOKEN_ALGS,
    response_types_supported: RESPONSE_TYPES_V1,
    issuer: input.issuer,
    authorization_endpoint: `${base}/oauth2/authorize`,
    end_session_endpoint: `${base}/oauth2/logout`,
    ...common(input),
  };
}

/**
 * The v2 document served at `{baseUrl}/{tenant}/v2.0/.well-known/openid-configuration`
 * (PROTOCOL.md section 5.4; member order of Entra's): endpoints under `{tenant}/oauth2/v2.0/`,
 * keys at `{tenant}/discovery/v2.0/keys`. What a client may pass to msal-node as
 * `authorityMetadata` (a JSON string) to skip the network fetch.
 */
export function openIdConfigurationV2(input: DiscoveryInput): OpenIdConfiguration {
  const base = tenantBase(input);
  return {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    jwks_uri: `${base}/discovery/v2.0/keys`,
    subject_types_supported: SUBJECT_TYPES,
    id_token_signing_alg_values_supported: ID_TOKEN_ALGS,
    response_types_supported: RESPONSE_TYPES_V2,
    issuer: input.issuer,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    ...common(input),
  };
}

// Members that only private keys (or secret keys) carry (RFC 7518 section 6).
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'] as const;

/**
 * A JWKS document of `keys`, each key's members as given and in the same order. With `issuer`
 * (the v2 keys endpoint), each key gets an `issuer` member last, as Entra's v2 keys do
 * (PROTOCOL.md section 5.4); the v1 endpoint publishes none.
 * Throws a TypeError if a key carries private or secret material.
 */
export function jwksDocument(
  keys: readonly JwkInput[],
  options: { readonly issuer?: string | undefined } = {},
): JwksDocument {
  return {
    keys: keys.map((key) => {
      const leaked = PRIVATE_MEMBERS.find((member) => Object.hasOwn(key, member));
      if (leaked !== undefined) {
        throw new TypeError(`refusing to publish a key with private member '${leaked}'`);
      }
      return options.issuer === undefined ? { ...key } : { ...key, issuer: options.issuer };
    }),
  };
}

/**
 * MSAL's instance-discovery body for a Tessera login host. msal-node asks
 * `https://login.microsoftonline.com/common/discovery/instance` for any authority host it does
 * not know, so a client of Tessera passes this (as a JSON string) in `cloudDiscoveryMetadata`,
 * or lists the host in `knownAuthorities`. `tenant_discovery_endpoint` is the v2 document.
 */
export function instanceDiscoveryResponse(input: {
  readonly baseUrl: string;
  readonly tenantId: string;
}): InstanceDiscoveryResponse {
  const base = origin(input.baseUrl);
  const host = new URL(base).host;
  return {
    tenant_discovery_endpoint: `${base}/${encodeURIComponent(input.tenantId)}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
  };
}
