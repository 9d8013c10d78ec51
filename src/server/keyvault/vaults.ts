// Finding the vault a data-plane request is for: `{vault}.{dnsSuffix}` in the Host header, then the ARM resource.
import { AppError } from '../../core/errors.js';
import type { Resource } from '../../core/model.js';
import type { Clock, Store } from '../../core/ports.js';
import { RESOURCE_TYPES } from '../../core/resource-types.js';

/** The ARM type of key vaults. */
export const VAULT_TYPE = RESOURCE_TYPES.keyVaults;
/** A full listing of vaults is made again at most this often when a name is not found. */
const RELOAD_INTERVAL_MS = 1_000;
const PAGE = 500;

/** What the data plane needs of a vault. */
export interface VaultRef {
  /** The ARM id (the RBAC scope and the secrets' key). */
  readonly id: string;
  readonly name: string;
  readonly tenantId: string;
  readonly location: string;
}

/**
 * The vault name in `host` (a Host header: `name.suffix` or `name.suffix:port`, any case) when it
 * is one label directly under `suffix`; undefined otherwise.
 */
export function vaultNameFromHost(host: string | undefined, suffix: string): string | undefined {
  if (host === undefined) return undefined;
  const match = /^([^:[\]]+)(?::\d{1,5})?$/.exec(host);
  const hostname = match?.[1]?.toLowerCase().replace(/\.$/, '');
  if (hostname === undefined || !hostname.endsWith(`.${suffix}`)) return undefined;
  const name = hostname.slice(0, -suffix.length - 1);
  return /^[a-z0-9-]{1,24}$/.test(name) ? name : undefined;
}

/** Looks vaults up by name (names are unique, case-insensitively). */
export interface VaultDirectory {
  find(name: string): Promise<VaultRef | undefined>;
  /** Lets the next unknown name list the vaults again at once (after an ARM write here). */
  invalidate(): void;
}

const tenantOf = (properties: Readonly<Record<string, unknown>>): string =>
  typeof properties.tenantId === 'string' ? properties.tenantId : '';

const toRef = (resource: Resource): VaultRef => ({
  id: resource.id,
  name: resource.name,
  tenantId: tenantOf(resource.properties),
  location: resource.location ?? '',
});

/**
 * Makes the directory. It keeps name → id in memory, and reads the vault by id on every request
 * (a point read), so a deleted vault stops answering at once. A name it does not know makes it
 * list every vault again: at most once a second (a flood of unknown names costs little), and at
 * once after {@link VaultDirectory.invalidate} (a vault created through this server answers as
 * soon as the PUT returns; one created through another replica, within a second).
 */
export function createVaultDirectory(deps: { store: Store; clock: Clock }): VaultDirectory {
  const { store, clock } = deps;
  let ids = new Map<string, string>();
  let loadedAt = -Infinity;
  let loading: Promise<void> | undefined;

  const reload = async (): Promise<void> => {
    const next = new Map<string, string>();
    let cursor: string | undefined;
    do {
      const page = await store.resources.list({ type: VAULT_TYPE }, { limit: PAGE, cursor });
      for (const vault of page.items) next.set(vault.name.toLowerCase(), vault.id);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    ids = next;
    loadedAt = clock.now();
  };

  const lookup = async (name: string): Promise<VaultRef | undefined> => {
    const id = ids.get(name);
    if (id === undefined) return undefined;
    const resource = await store.resources.get(id);
    return resource?.type.toLowerCase() === VAULT_TYPE.toLowerCase() &&
      resource.name.toLowerCase() === name
      ? toRef(resource)
      : undefined;
  };

  return {
    async find(rawName) {
      const name = rawName.toLowerCase();
      const known = await lookup(name);
      if (known !== undefined) return known;
      if (clock.now() - loadedAt >= RELOAD_INTERVAL_MS) {
        loading ??= reload().finally(() => {
          loading = undefined;
        });
        await loading;
      }
      return lookup(name);
    },
    invalidate() {
      loadedAt = -Infinity;
    },
  };
}

/** 404 for a Host that names no vault (Azure's DNS would not resolve it at all). */
export function vaultNotFound(host: string): AppError {
  return new AppError('NotFound', `The vault '${host}' was not found.`, {
    status: 404,
    wire: { keyvault: 'VaultNotFound' },
  });
}
