// VM extensions recorded and removed (never run), and the audit record of the deprecated identity extension.
import type { AuditEvent, EpochMs, Resource } from '../model.js';
import type { Store } from '../ports.js';
import { noteComputeChanged } from '../resources/change-feed.js';
import { deleteResourceTree } from '../resources/identity-lifecycle.js';
import { LEGACY_EXTENSION_AUDIT_KIND } from '../resources/legacy-extension.js';
import type { ComputeSources } from './services.js';

/** The deprecated managed-identity extension, as one write installs or changes it. */
export interface LegacyExtensionUse {
  readonly publisher: string;
  readonly type: string;
  readonly port: number;
}

/** Who wrote what, for {@link legacyExtensionAudit}. */
export interface LegacyExtensionWrite {
  /** The caller's object id. */
  readonly principalId: string;
  /** The extension's id, or the scale set's whose profile lists it. */
  readonly resourceId: string;
  readonly extension: LegacyExtensionUse;
  readonly at: EpochMs;
}

/** The audit record of a write of the deprecated extension (who, which, which port). */
export function legacyExtensionAudit(
  sources: Pick<ComputeSources, 'newId'>,
  write: LegacyExtensionWrite,
): AuditEvent {
  const { publisher, type, port } = write.extension;
  return {
    id: sources.newId(),
    at: write.at,
    kind: LEGACY_EXTENSION_AUDIT_KIND,
    outcome: 'recorded',
    tenantId: null,
    principalId: write.principalId,
    resource: write.resourceId,
    vmId: null,
    hostId: null,
    tokenId: null,
    reason: null,
    details: { publisher, type, port },
  };
}

/** One extension write, read and checked by the surface. */
export interface ExtensionRecord {
  /** The VM it belongs to, as read in the transaction. */
  readonly vm: Resource;
  /** The new version. */
  readonly extension: Resource;
  /** The version read, whose etag the write must still find (none: it must not exist). */
  readonly existing: Resource | undefined;
  /** Set when it is the deprecated managed-identity extension. */
  readonly legacyPort: number | undefined;
  /** The caller's object id, for the audit record. */
  readonly principalId: string;
}

/**
 * Writes an extension with `tx` (the write's transaction) under `If-Match` on the version read,
 * records the change for the VM's host (the agent serves the legacy shim from it) and, for the
 * deprecated managed-identity extension, an audit event. Returns whether it was created.
 */
export async function recordExtension(
  tx: Store,
  sources: ComputeSources,
  record: ExtensionRecord,
): Promise<boolean> {
  const { extension, existing, legacyPort } = record;
  const { created } = await tx.resources.put(extension, { ifMatch: existing?.etag ?? null });
  if (legacyPort !== undefined) {
    const { publisher, type } = extension.properties;
    const use = { publisher: String(publisher), type: String(type), port: legacyPort };
    await tx.audit.append(
      legacyExtensionAudit(sources, {
        principalId: record.principalId,
        resourceId: extension.id,
        extension: use,
        at: extension.updatedAt,
      }),
    );
  }
  await noteComputeChanged(tx, extension.updatedAt, [record.vm]);
  return created;
}

/** Deletes `extension` of `vm` with `tx` and records the change for the VM's host. */
export async function removeExtension(
  tx: Store,
  sources: ComputeSources,
  vm: Resource,
  extension: Resource,
): Promise<void> {
  const now = sources.clock.now();
  await deleteResourceTree(tx, extension.id, now);
  await noteComputeChanged(tx, now, [vm]);
}
