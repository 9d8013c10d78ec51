// A key vault's ARM body: what a PUT or PATCH may say in `properties`, and the vault as ARM shows it.
import { AppError } from '../../core/errors.js';
import { isRecord } from '../../core/guards.js';
import type { Resource } from '../../core/model.js';
import { RESOURCE_TYPES } from '../../core/resource-types.js';
import { armError } from './arm-errors.js';
import { armResource } from './envelope.js';
import { envelopeHead } from './tracked-body.js';

/** The type of key vaults. */
export const VAULTS = RESOURCE_TYPES.keyVaults;
const SKU_NAMES = ['standard', 'premium'] as const;
/** 3-24 alphanumerics and hyphens, a letter first, a letter or digit last, no `--`. */
const VAULT_NAME = /^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/;

/** A vault's `sku`. */
export interface VaultSku {
  readonly family: string;
  readonly name: string;
}

/** What Tessera keeps in a vault's `properties`. */
export interface VaultProperties {
  readonly tenantId: string;
  readonly sku: VaultSku;
}

/** The sku of a vault created without one. */
export const DEFAULT_SKU: VaultSku = { family: 'A', name: 'standard' };

/**
 * Checks a vault name by Key Vault's rules: ARM's `VaultNameNotValid` (400), word for word.
 * Source: https://github.com/cristianoag/microsoft-teams-apps-company-communicator/issues/28,
 * https://github.com/Azure-Samples/azure-django-postgres-flexible-aca/pull/30.
 */
export function validateVaultName(name: string): void {
  if (VAULT_NAME.test(name)) return;
  throw armError(
    'VaultNameNotValid',
    `The vault name '${name}' is invalid. A vault's name must be between 3-24 alphanumeric characters. The name must begin with a letter, end with a letter or digit, and not contain consecutive hyphens. Follow this link for more information: https://go.microsoft.com/fwlink/?linkid=2147742`,
  );
}

/**
 * `VaultAlreadyExists` (409): vault names are global, whatever their case (recorded in an ARM
 * deployment error, Azure/ARO-HCP e2e logs, and in Microsoft's dev center docs).
 */
export function vaultAlreadyExists(name: string): AppError {
  return new AppError(
    'Conflict',
    `The vault name '${name}' is already in use. Vault names are globally unique so it is possible that the name is already taken.`,
    { status: 409, wire: { arm: 'VaultAlreadyExists' } },
  );
}

/** `InvalidParameter` (400) at `target`, with Tessera's text. */
const invalidParameter = (target: string, message: string): AppError =>
  armError('InvalidParameter', message, { target });

/** Tessera's refusal of access-policy vaults: every vault authorizes with Azure RBAC. */
const accessPoliciesUnsupported = (target: string): AppError =>
  invalidParameter(
    target,
    `Access policies are not supported: Tessera's key vaults always use Azure RBAC ('properties.enableRbacAuthorization' is true).`,
  );

/**
 * The body's `properties` ({} when absent), checked to ask for Azure RBAC: `InvalidParameter`
 * (400) when it is no object, or sets `enableRbacAuthorization` to anything but true, or gives
 * any access policy.
 */
export function rbacProperties(body: Record<string, unknown>): Record<string, unknown> {
  const { properties } = body;
  if (properties === undefined || properties === null) return {};
  if (!isRecord(properties)) {
    throw invalidParameter('properties', `The value of property 'properties' must be an object.`);
  }
  const rbac = properties.enableRbacAuthorization;
  if (rbac !== undefined && rbac !== null && rbac !== true) {
    throw accessPoliciesUnsupported('properties.enableRbacAuthorization');
  }
  const policies = properties.accessPolicies;
  if (policies !== undefined && policies !== null) {
    if (!Array.isArray(policies) || policies.length > 0) {
      throw accessPoliciesUnsupported('properties.accessPolicies');
    }
  }
  return properties;
}

/** `properties.sku` as sent (name case-normalised), else `fallback`; `InvalidParameter` if bad. */
function skuOf(properties: Record<string, unknown>, fallback: VaultSku): VaultSku {
  const { sku } = properties;
  if (sku === undefined || sku === null) return fallback;
  const given = isRecord(sku) ? sku.name : undefined;
  const name = SKU_NAMES.find(
    (known) => typeof given === 'string' && known === given.toLowerCase(),
  );
  if (!isRecord(sku) || name === undefined) {
    throw invalidParameter(
      'properties.sku.name',
      `The value of property 'properties.sku.name' is invalid. Allowed values are 'standard' and 'premium'.`,
    );
  }
  if (sku.family !== undefined && sku.family !== null && sku.family !== 'A') {
    throw invalidParameter(
      'properties.sku.family',
      `The value of property 'properties.sku.family' is invalid. The only allowed value is 'A'.`,
    );
  }
  return { family: 'A', name };
}

/** `properties.tenantId` as sent, else `fallback`; `InvalidParameter` if it is no tenant id. */
function tenantOf(properties: Record<string, unknown>, fallback: string): string {
  const { tenantId } = properties;
  if (tenantId === undefined || tenantId === null) return fallback;
  if (typeof tenantId !== 'string' || tenantId.trim() === '') {
    throw invalidParameter(
      'properties.tenantId',
      `The value of property 'properties.tenantId' must be a tenant id.`,
    );
  }
  return tenantId;
}

/** The vault's properties `given` asks for, keeping `kept` for what it does not say. */
export function vaultPropertiesOf(
  given: Record<string, unknown>,
  kept: VaultProperties,
): VaultProperties {
  return { tenantId: tenantOf(given, kept.tenantId), sku: skuOf(given, kept.sku) };
}

/** What a stored vault keeps. */
export function storedVaultProperties(resource: Resource): VaultProperties {
  const p = resource.properties as Partial<VaultProperties>;
  return { tenantId: p.tenantId ?? '', sku: p.sku ?? DEFAULT_SKU };
}

/** A vault's data-plane URI in Azure's public cloud: `https://{name}.vault.azure.net/`. */
export const defaultVaultUri = (name: string): string =>
  `https://${name.toLowerCase()}.vault.azure.net/`;

/** The vault body: RBAC authorization always, the data-plane URI `vaultUri`, provisioned. */
export function renderVault(resource: Resource, vaultUri: string): unknown {
  const { tenantId, sku } = storedVaultProperties(resource);
  return armResource({
    ...envelopeHead(resource, VAULTS, 'always'),
    properties: {
      sku,
      tenantId,
      accessPolicies: [],
      enableRbacAuthorization: true,
      vaultUri,
      provisioningState: 'Succeeded',
    },
  });
}
