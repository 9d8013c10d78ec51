// Key Vault secrets: versions, attributes, soft delete, recovery and purge, over the store.
import { randomBytes } from 'node:crypto';
import {
  deletedSecretNotFound,
  secretDeletedButRecoverable,
  secretDisabled,
  secretNotFound,
} from './secret-errors.js';
import type { EpochMs, VaultSecretVersion } from '../model.js';
import type { Clock, Page, PageRequest, Store } from '../ports.js';

const DAY_MS = 86_400_000;

/** Attributes a caller may set; absent members keep their value (or the default on create). */
export interface SecretAttributesInput {
  readonly enabled?: boolean | undefined;
  readonly notBefore?: EpochMs | null | undefined;
  readonly expiresAt?: EpochMs | null | undefined;
}

/** A new version's value and properties. */
export interface SetSecretInput {
  readonly value: string;
  readonly contentType?: string | null | undefined;
  readonly tags?: Readonly<Record<string, string>> | undefined;
  readonly attributes?: SecretAttributesInput | undefined;
}

/** A change to a version's properties (never its value). */
export interface UpdateSecretInput {
  readonly contentType?: string | null | undefined;
  readonly tags?: Readonly<Record<string, string>> | undefined;
  readonly attributes?: SecretAttributesInput | undefined;
}

/** The secrets of every vault. Vaults are named by their ARM id. */
export interface SecretService {
  /** Adds a new version; 409 while the name is held by a deleted, recoverable secret. */
  set(vaultId: string, name: string, input: SetSecretInput): Promise<VaultSecretVersion>;
  /** A version (the latest when `version` is empty) of a secret that is not deleted; else 404. */
  get(vaultId: string, name: string, version: string): Promise<VaultSecretVersion>;
  /** Changes a version's properties (the latest when `version` is empty); 404 like `get`. */
  update(
    vaultId: string,
    name: string,
    version: string,
    input: UpdateSecretInput,
  ): Promise<VaultSecretVersion>;
  /** The latest version of every secret that is not deleted, by name. */
  list(vaultId: string, page: PageRequest): Promise<Page<VaultSecretVersion>>;
  /** Every version of a secret that is not deleted, oldest first (empty for an unknown name). */
  listVersions(vaultId: string, name: string, page: PageRequest): Promise<Page<VaultSecretVersion>>;
  /** Soft-deletes every version; returns the latest, with its deletion and purge times. */
  delete(vaultId: string, name: string): Promise<VaultSecretVersion>;
  /** The latest version of a deleted secret; 404 when the name is not deleted. */
  getDeleted(vaultId: string, name: string): Promise<VaultSecretVersion>;
  listDeleted(vaultId: string, page: PageRequest): Promise<Page<VaultSecretVersion>>;
  /** Undeletes a deleted secret; returns its latest version. */
  recover(vaultId: string, name: string): Promise<VaultSecretVersion>;
  /** Removes a deleted secret for good. */
  purge(vaultId: string, name: string): Promise<void>;
}

/**
 * Fails with a 403 `secret_disabled` problem when the value of `secret` may not be read: it is
 * disabled. As in Key Vault, a secret outside its `nbf`/`exp` window is still served ("get
 * operation will work for not-yet-valid and expired secrets"); those attributes are for the
 * application to honour.
 */
export function assertReadable(secret: VaultSecretVersion): void {
  if (!secret.enabled) throw secretDisabled();
}

/** A new version id: 32 lower-case hex characters, as Key Vault's. */
export const newSecretVersion = (): string => randomBytes(16).toString('hex');

/**
 * Makes the secret service. Deleting keeps every version for `retentionDays` (recoverable, the
 * name reserved), after which `store.vaultSecrets.purgeDue` removes it.
 */
export function createSecretService(deps: {
  readonly store: Store;
  readonly clock: Clock;
  readonly retentionDays: number;
}): SecretService {
  const { store, clock } = deps;

  const live = async (
    tx: Store,
    vaultId: string,
    name: string,
    version: string,
  ): Promise<VaultSecretVersion> => {
    const found =
      version === ''
        ? await tx.vaultSecrets.getLatest(vaultId, name)
        : await tx.vaultSecrets.getVersion(vaultId, name, version.toLowerCase());
    if (found === undefined || found.deletedAt !== null) {
      throw secretNotFound(version === '' ? name : `${name}/${version}`);
    }
    return found;
  };

  const deleted = async (tx: Store, vaultId: string, name: string) => {
    const latest = await tx.vaultSecrets.getLatest(vaultId, name);
    if (latest?.deletedAt == null) throw deletedSecretNotFound(name);
    return latest;
  };

  return {
    set: (vaultId, name, input) =>
      store.transaction(async (tx) => {
        const latest = await tx.vaultSecrets.getLatest(vaultId, name);
        if (latest !== undefined && latest.deletedAt !== null) {
          throw secretDeletedButRecoverable(name);
        }
        const now = clock.now();
        const secret: VaultSecretVersion = {
          vaultId,
          name,
          version: newSecretVersion(),
          value: input.value,
          contentType: input.contentType ?? null,
          tags: input.tags ?? {},
          enabled: input.attributes?.enabled ?? true,
          notBefore: input.attributes?.notBefore ?? null,
          expiresAt: input.attributes?.expiresAt ?? null,
          createdAt: now,
          updatedAt: now,
          deletedAt: null,
          scheduledPurgeAt: null,
        };
        await tx.vaultSecrets.addVersion(secret);
        return secret;
      }),

    get: (vaultId, name, version) => live(store, vaultId, name, version),

    update: (vaultId, name, version, input) =>
      store.transaction(async (tx) => {
        const found = await live(tx, vaultId, name, version);
        const { attributes } = input;
        const updated = await tx.vaultSecrets.updateVersion(vaultId, found.name, found.version, {
          updatedAt: clock.now(),
          ...(input.contentType === undefined ? {} : { contentType: input.contentType }),
          ...(input.tags === undefined ? {} : { tags: input.tags }),
          ...(attributes?.enabled === undefined ? {} : { enabled: attributes.enabled }),
          ...(attributes?.notBefore === undefined ? {} : { notBefore: attributes.notBefore }),
          ...(attributes?.expiresAt === undefined ? {} : { expiresAt: attributes.expiresAt }),
        });
        if (updated === undefined) throw secretNotFound(`${name}/${found.version}`);
        return updated;
      }),

    list: (vaultId, page) => store.vaultSecrets.listLatest(vaultId, { deleted: false }, page),

    async listVersions(vaultId, name, page) {
      const latest = await store.vaultSecrets.getLatest(vaultId, name);
      if (latest === undefined || latest.deletedAt !== null) return { items: [] };
      return store.vaultSecrets.listVersions(vaultId, name, page);
    },

    delete: (vaultId, name) =>
      store.transaction(async (tx) => {
        const latest = await live(tx, vaultId, name, '');
        const deletedAt = clock.now();
        const scheduledPurgeAt = deletedAt + deps.retentionDays * DAY_MS;
        await tx.vaultSecrets.setDeleted(vaultId, name, { deletedAt, scheduledPurgeAt });
        return { ...latest, deletedAt, scheduledPurgeAt };
      }),

    getDeleted: (vaultId, name) => deleted(store, vaultId, name),

    listDeleted: (vaultId, page) => store.vaultSecrets.listLatest(vaultId, { deleted: true }, page),

    recover: (vaultId, name) =>
      store.transaction(async (tx) => {
        const latest = await tx.vaultSecrets.getLatest(vaultId, name);
        if (latest?.deletedAt == null) throw secretNotFound(name);
        await tx.vaultSecrets.setDeleted(vaultId, name, null);
        return { ...latest, deletedAt: null, scheduledPurgeAt: null };
      }),

    purge: (vaultId, name) =>
      store.transaction(async (tx) => {
        await deleted(tx, vaultId, name);
        await tx.vaultSecrets.purge(vaultId, name);
      }),
  };
}
