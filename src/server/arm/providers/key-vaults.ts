// Microsoft.KeyVault/vaults: RBAC-only vaults with their data-plane URI, names unique everywhere.
import type { Resource } from '../../../core/model.js';
import {
  putVault,
  requireFreeVaultName,
  VaultNameTakenError,
} from '../../../core/resources/vault-names.js';
import {
  DEFAULT_SKU,
  defaultVaultUri,
  OWN_TYPES,
  rbacProperties,
  refuseMove,
  renderVault,
  requiredLocation,
  storedVaultProperties,
  tagsOf,
  vaultAlreadyExists,
  VAULTS,
  vaultPropertiesOf,
  validateVaultName,
} from '../../../wire/arm/index.js';
import type { ArmResponse } from '../context.js';
import type { OperationContext, ResourceTypeDeclaration } from '../provider.js';
import { groupNotFound } from '../scope.js';
import { findTracked, notFoundOf, putVersion, trackedDeclaration } from '../tracked-operations.js';

/** The vault body, with the data-plane URI the services give (Azure's public one by default). */
const render = (context: OperationContext, vault: Resource): unknown =>
  renderVault(vault, context.services.vaultUriFor?.(vault.name) ?? defaultVaultUri(vault.name));

/**
 * PUT: creates the vault (201) or replaces its tags, tenant and sku (200). The name must follow
 * Key Vault's rules (`VaultNameNotValid`) and, for a new vault, be free in every subscription
 * (`VaultAlreadyExists`).
 */
async function put(context: OperationContext): Promise<ArmResponse> {
  const { services, where, request, name } = context;
  validateVaultName(name);
  const body = context.body();
  const location = requiredLocation(body);
  const tags = tagsOf(body) ?? {};
  const given = rbacProperties(body);
  const write = (existing: Resource | undefined): Promise<ArmResponse> =>
    services.store.transaction(async (tx) => {
      // The group may have gone since the pipeline looked: no vault is left without one.
      if ((await tx.resources.get(where.groupId))?.type !== OWN_TYPES.resourceGroups) {
        throw groupNotFound(where.groupName);
      }
      refuseMove(existing, location, where.groupName);
      if (existing === undefined) await requireFreeVaultName(tx, name);
      const kept =
        existing === undefined
          ? { tenantId: request.caller.tenantId, sku: DEFAULT_SKU }
          : storedVaultProperties(existing);
      const properties = { ...vaultPropertiesOf(given, kept) };
      const vault = putVersion(context, VAULTS, existing, { location, tags, properties });
      const { created } = await putVault(tx, vault, existing);
      return { status: created ? 201 : 200, body: render(context, vault) };
    });
  return context.writing(
    () => findTracked(context, VAULTS),
    (existing) =>
      write(existing).catch((error: unknown) => {
        if (error instanceof VaultNameTakenError) throw vaultAlreadyExists(error.vaultName);
        throw error;
      }),
  );
}

/** PATCH: replaces the tags, tenant and sku the body gives. */
async function patch(context: OperationContext): Promise<ArmResponse> {
  const { services } = context;
  const body = context.body();
  const tags = tagsOf(body);
  const given = rbacProperties(body);
  return context.writing(
    () => findTracked(context, VAULTS),
    async (existing) => {
      if (existing === undefined) throw notFoundOf(context, VAULTS);
      const vault: Resource = {
        ...existing,
        tags: tags ?? existing.tags,
        properties: { ...vaultPropertiesOf(given, storedVaultProperties(existing)) },
        updatedAt: services.clock.now(),
      };
      await services.store.resources.put(vault, { ifMatch: existing.etag ?? null });
      return { status: 200, body: render(context, vault) };
    },
  );
}

/**
 * `/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.KeyVault/vaults[/{name}]` and the
 * subscription's list: GET, PUT, PATCH, DELETE (200, or 204 when there was none). Vaults always
 * use Azure RBAC (docs/compatibility.md). Fails with ARM's codes: `ResourceGroupNotFound`,
 * `ResourceNotFound`, `VaultNameNotValid`, `VaultAlreadyExists`, `LocationRequired`,
 * `InvalidResourceLocation`, `InvalidParameter`, `InvalidRequestContent`, `AuthorizationFailed`.
 */
export const keyVaults: ResourceTypeDeclaration = trackedDeclaration({
  type: VAULTS,
  render,
  put: { run: put },
  patch: { run: patch },
});
