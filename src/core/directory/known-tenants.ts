// Tenants by id, remembered once found: the issuer reads one on every token, and a tenant never changes.
import type { Tenant } from '../model.js';
import type { TenantStore } from '../ports.js';

/** Looks a tenant up by id (lower-case GUID); undefined when there is none. */
export type TenantLookup = (tenantId: string) => Promise<Tenant | undefined>;

/**
 * A {@link TenantLookup} over `tenants` that keeps every tenant it finds (up to `capacity`, then
 * starts over). Safe because the store has no way to change or delete a tenant; an id not found
 * is asked again each time, so a tenant created later is seen at once.
 */
export function knownTenants(tenants: Pick<TenantStore, 'get'>, capacity = 1000): TenantLookup {
  const found = new Map<string, Tenant>();
  return async (tenantId) => {
    const hit = found.get(tenantId);
    if (hit !== undefined) return hit;
    const tenant = await tenants.get(tenantId);
    if (tenant !== undefined) {
      if (found.size >= capacity) found.clear();
      found.set(tenantId, tenant);
    }
    return tenant;
  };
}
