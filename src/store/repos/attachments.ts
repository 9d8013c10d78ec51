// Identities attached to compute resources, in SQL.

import type { AttachmentKind, IdentityAttachment } from '../../core/model.js';
import type { AttachmentStore } from '../../core/ports.js';
import type { IdentityAttachmentsTable } from '../schema.js';
import { affected, chunked, type Executor, keyOf } from './shared.js';
import { prepared } from '../prepared.js';

const toAttachment = (row: IdentityAttachmentsTable): IdentityAttachment => ({
  resourceId: row.resource_id,
  principalId: row.principal_id,
  kind: row.kind as AttachmentKind,
  identityResourceId: row.identity_resource_id,
  createdAt: row.created_at,
});

const ofPrincipal = prepared((db, principalId: string) =>
  db
    .selectFrom('identity_attachments')
    .selectAll()
    .where('principal_id', '=', principalId)
    .orderBy('resource_key'),
);

const attachedTo = prepared((db, resourceKey: string, principalId: string) =>
  db
    .selectFrom('identity_attachments')
    .select('principal_id')
    .where('resource_key', '=', resourceKey)
    .where('principal_id', '=', principalId)
    .limit(1),
);

export class SqlAttachmentStore implements AttachmentStore {
  constructor(private readonly db: Executor) {}

  async attach(a: IdentityAttachment): Promise<void> {
    await this.db
      .insertInto('identity_attachments')
      .values({
        resource_key: keyOf(a.resourceId),
        resource_id: a.resourceId,
        principal_id: a.principalId,
        kind: a.kind,
        identity_resource_id: a.identityResourceId,
        created_at: a.createdAt,
      })
      .onConflict((oc) => oc.columns(['resource_key', 'principal_id']).doNothing())
      .execute();
  }

  async detach(resourceId: string, principalId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('identity_attachments')
      .where('resource_key', '=', keyOf(resourceId))
      .where('principal_id', '=', principalId)
      .executeTakeFirst();
    return affected(result) > 0;
  }

  async listForResource(resourceId: string): Promise<readonly IdentityAttachment[]> {
    const rows = await this.db
      .selectFrom('identity_attachments')
      .selectAll()
      .where('resource_key', '=', keyOf(resourceId))
      .orderBy('created_at')
      .orderBy('principal_id')
      .execute();
    return rows.map(toAttachment);
  }

  async listForResources(resourceIds: readonly string[]): Promise<readonly IdentityAttachment[]> {
    const keys = [...new Set(resourceIds.map(keyOf))];
    const found: IdentityAttachment[] = [];
    for (const chunk of chunked(keys)) {
      const rows = await this.db
        .selectFrom('identity_attachments')
        .selectAll()
        .where('resource_key', 'in', chunk)
        .orderBy('resource_key')
        .orderBy('created_at')
        .orderBy('principal_id')
        .execute();
      found.push(...rows.map(toAttachment));
    }
    return found;
  }

  async isAttachedOnHost(principalId: string, hostId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('identity_attachments as a')
      .innerJoin('resources as r', 'r.holder_key', 'a.resource_key')
      .innerJoin('hosts as h', 'h.id', 'r.host_id')
      .select('a.principal_id')
      .where('a.principal_id', '=', principalId)
      .where('r.host_id', '=', hostId)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  async isAttached(resourceId: string, principalId: string): Promise<boolean> {
    const { rows } = await attachedTo(this.db, keyOf(resourceId), principalId);
    return rows.length > 0;
  }

  async listForPrincipal(principalId: string): Promise<readonly IdentityAttachment[]> {
    const { rows } = await ofPrincipal(this.db, principalId);
    return rows.map(toAttachment);
  }
}
