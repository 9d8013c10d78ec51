// First start: the administrator application operators use, with its secret written once to disk.
import { join } from 'node:path';
import { writeSecretFile } from '../config/index.js';
import type { Principal, Tenant } from '../core/model.js';
import type { Store } from '../core/ports.js';
import type { ServerServices } from './services.js';

/** The alternative name that marks the installation's administrator application. */
export const ADMIN_MARKER = 'tessera:administrator';
/** File in the data directory holding the administrator's client secret (mode 0600). */
export const ADMIN_SECRET_FILE = 'admin.secret';
/** The administrator's secret lives two years; rotate it with a new secret before then. */
const ADMIN_SECRET_LIFETIME_MS = 2 * 365 * 24 * 3_600_000;

export interface Administrator {
  readonly principal: Principal;
  /** Where the secret was written, when this start created it; undefined afterwards. */
  readonly secretFile: string | undefined;
}

/**
 * Finds the administrator application, or on first start creates it with a client secret that is
 * written once to `<dataDir>/admin.secret` (0600) and never stored in clear anywhere else.
 */
export async function ensureAdministrator(options: {
  store: Store;
  services: ServerServices;
  tenant: Tenant;
  dataDir: string;
}): Promise<Administrator> {
  const { store, services, tenant, dataDir } = options;
  const existing = await store.principals.getByAlternativeName(ADMIN_MARKER);
  if (existing !== undefined) return { principal: existing, secretFile: undefined };
  const principal = await services.directory.createPrincipal({
    tenantId: tenant.id,
    displayName: 'Tessera Administrator',
    type: 'Application',
    alternativeNames: [ADMIN_MARKER],
  });
  const { secret } = await services.directory.addClientSecret(principal.objectId, {
    lifetimeMs: ADMIN_SECRET_LIFETIME_MS,
  });
  const secretFile = join(dataDir, ADMIN_SECRET_FILE);
  await writeSecretFile(secretFile, secret);
  return { principal, secretFile };
}
