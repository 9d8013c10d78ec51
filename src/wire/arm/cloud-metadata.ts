// ARM's cloud metadata document (`GET /metadata/endpoints`): where az, Terraform and the Go SDKs learn a cloud's endpoints.
import { invalidApiVersionParameter } from './arm-errors.js';
import { missingApiVersion } from '../../core/errors.js';
import type { TemplateValue } from '../../core/templates/context.js';

/** The management audiences ARM tokens may carry, az's `audiences[0]` first (as Azure lists them). */
export const MANAGEMENT_AUDIENCES: readonly string[] = [
  'https://management.core.windows.net/',
  'https://management.azure.com/',
];

/** What the document says about one installation, as reached through one listener. */
export interface CloudFacts {
  /** The listener's public URL, no trailing slash: ARM, the portal and the authority live under it. */
  readonly baseUrl: string;
  /** The Key Vault DNS suffix with the listener's port where it is not the scheme's default. */
  readonly keyVaultDns: string;
}

/** The api-versions that answer the one-cloud legacy shape (az ≤ 2.72, go-autorest). */
const LEGACY = new Set(['1.0', '2015-01-01']);
/** The api-versions that answer a list of clouds (`ARM_CLOUD_METADATA_URL`). */
const LIST = new Set(['2019-05-01', '2020-06-01']);
/** The api-version that answers one cloud in the new shape (az ≥ 2.73, go-azure-sdk). */
const CURRENT = '2022-09-01';

/** Every api-version the document is served at, as an error lists them. */
export const CLOUD_METADATA_VERSIONS: readonly string[] = [CURRENT, ...LIST, ...LEGACY];

/**
 * The name the cloud goes by. Not `AzureCloud`: az fills a missing value from the built-in cloud
 * of the same name (PROTOCOL-TOOLS.md A.1.3).
 */
const CLOUD_NAME = 'Tessera';

/**
 * The document for `apiVersion` (PROTOCOL-TOOLS.md A.1.2, A.1.5). The login endpoint is the
 * installation's ADFS-style authority, `{baseUrl}/adfs`: with it MSAL never asks
 * login.microsoftonline.com to vouch for the authority, and az drops the tenant from the URL.
 * Tessera serves no Graph: its graph endpoints name the base URL, so az 2.45, which requires one,
 * registers the cloud. A missing api-version is ARM's `MissingApiVersionParameter`, an unknown one
 * `InvalidApiVersionParameter` listing these.
 */
export function cloudMetadata(apiVersion: string | undefined, facts: CloudFacts): unknown {
  if (apiVersion === undefined) throw missingApiVersion();
  const base = `${facts.baseUrl}/`;
  const loginEndpoint = `${facts.baseUrl}/adfs`;
  if (LEGACY.has(apiVersion)) {
    return {
      galleryEndpoint: base,
      graphEndpoint: base,
      portalEndpoint: `${base}portal/`,
      authentication: { loginEndpoint, audiences: [...MANAGEMENT_AUDIENCES] },
    };
  }
  const cloud = {
    name: CLOUD_NAME,
    portal: `${base}portal/`,
    resourceManager: base,
    authentication: {
      loginEndpoint,
      audiences: [...MANAGEMENT_AUDIENCES],
      tenant: 'common',
      identityProvider: 'ADFS',
    },
    graph: base,
    graphAudience: base,
    microsoftGraphResourceId: base,
    suffixes: { keyVaultDns: facts.keyVaultDns },
  };
  if (apiVersion === CURRENT) return cloud;
  if (LIST.has(apiVersion)) return [cloud];
  throw invalidApiVersionParameter(apiVersion, CLOUD_METADATA_VERSIONS);
}

/**
 * What a template's `environment()` answers (template-functions-deployment.md "environment"):
 * the same endpoints as the metadata document, in the function's shape, with `keyvaultDns` led
 * by a dot as Azure's is (`.vault.azure.net`), so `concat(name, suffixes.keyvaultDns)` is a host.
 */
export function templateEnvironment(facts: CloudFacts): { [key: string]: TemplateValue } {
  const base = `${facts.baseUrl}/`;
  return {
    name: CLOUD_NAME,
    gallery: base,
    graph: base,
    portal: `${base}portal`,
    graphAudience: base,
    resourceManager: base,
    authentication: {
      loginEndpoint: `${facts.baseUrl}/adfs`,
      audiences: [...MANAGEMENT_AUDIENCES],
      tenant: 'common',
      identityProvider: 'ADFS',
    },
    suffixes: { keyvaultDns: `.${facts.keyVaultDns}` },
  };
}
