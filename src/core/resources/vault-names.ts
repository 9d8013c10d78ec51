// Key vault names are global: one vault per name, whatever its case, across every subscription.
import { AppError, isAppError } from '../errors.js';
import type { Resource } from '../model.js';
import type { Store } from '../ports.js';
import { RESOURCE_TYPES } from '../resource-types.js';

const VAULTS = RESOURCE_TYPES.keyVaults;

/** 409: a vault named `vaultName` exists already, in this subscription or another. */
export class VaultNameTakenError extends AppError {
  readonly vaultName: string;

  constructor(vaultName: string, cause?: unknown) {
    super('Conflict', `The vault name '${vaultName}' is taken.`, { status: 409, cause });
    this.vaultName = vaultName;
  }
}

/**
 * Refuses a new vault's name when any vault has it, in any subscription and any case (vault
 * names are DNS names under the data plane's suffix): {@link VaultNameTakenError}. One indexed
 * seek; the store's unique index on the name settles a race between replicas, which
 * {@link putVault} reports the same way.
 */
export async function requireFreeVaultName(store: Store, name: string): Promise<void> {
  const taken = await store.resources.list({ type: VAULTS, name }, { limit: 1 });
  if (taken.items.length > 0) throw new VaultNameTakenError(name);
}

/**
 * Writes `vault` over `existing` (under `If-Match` on its etag) or as a new vault, whose name
 * another writer may have taken meanwhile: {@link VaultNameTakenError}.
 */
export async function putVault(
  store: Store,
  vault: Resource,
  existing: Resource | undefined,
): Promise<{ created: boolean }> {
  const etag = existing?.etag ?? null;
  try {
    return await store.resources.put(vault, { ifMatch: etag });
  } catch (error) {
    if (etag === null && isAppError(error) && error.code === 'Conflict') {
      throw new VaultNameTakenError(vault.name, error);
    }
    throw error;
  }
}
