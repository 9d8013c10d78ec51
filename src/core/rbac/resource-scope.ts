// Whether a resource scope exists: an ARM resource, or a vault's secret, key or certificate.
import type { Store } from '../ports.js';
import { RESOURCE_TYPES } from '../resource-types.js';

const VAULTS = RESOURCE_TYPES.keyVaults;
/** A vault's secret, key or certificate: a scope, though not an ARM resource. */
const VAULT_OBJECT =
  /^(.*\/providers\/Microsoft\.KeyVault\/vaults\/[^/]+)\/(secrets|keys|certificates)\/([^/]+)$/i;

/**
 * The resource scope `id` in the store's case: a stored resource's id, or, for a secret, key or
 * certificate of a vault that exists, `{vault id}/{secrets|keys|certificates}/{name}` (the
 * collection in lower case, the name as given). Undefined when there is no such scope.
 */
export async function findResourceScope(store: Store, id: string): Promise<string | undefined> {
  const resource = await store.resources.get(id);
  if (resource !== undefined) return resource.id;
  const object = VAULT_OBJECT.exec(id);
  const vault = object?.[1] === undefined ? undefined : await store.resources.get(object[1]);
  if (vault?.type !== VAULTS) return undefined;
  return `${vault.id}/${object?.[2]?.toLowerCase() ?? ''}/${object?.[3] ?? ''}`;
}
