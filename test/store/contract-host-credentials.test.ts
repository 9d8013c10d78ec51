// The store contract (a host's certificates live as long as their attachment): every backend passes it.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Credential, Resource } from '../../src/core/model.js';
import type { Store } from '../../src/core/ports.js';
import { noteComputeChanged } from '../../src/core/resources/change-feed.js';
import {
  migratedBefore,
  openTarget,
  type OpenedTarget,
  principal,
  resource,
  SUB,
  T0,
  vmId,
} from './contract-fixtures.js';
import { storeTargets } from './targets.js';
import { sql } from 'kysely';

const SCALE_SET_TYPE = 'Microsoft.Compute/virtualMachineScaleSets';

const placedOn = (id: string, hostId: string | undefined, type?: string): Resource =>
  resource(id, {
    ...(type === undefined ? {} : { type }),
    properties: hostId === undefined ? {} : { tessera: { hostId } },
  });

const hostCertificate = (principalId: string, hostId: string): Credential => ({
  id: randomUUID(),
  principalId,
  kind: 'certificate',
  thumbprintSha1: randomUUID(),
  thumbprintSha256: randomUUID(),
  certificate: 'AA==',
  secretHash: null,
  hint: null,
  hostId,
  notBefore: T0,
  notAfter: T0 + 7 * 86_400_000,
  revoked: false,
  createdAt: T0,
});

describe.each(storeTargets())('store contract (host credentials) on $name', (target) => {
  let t: OpenedTarget;
  let store: Store;
  let hostA: string;
  let hostB: string;

  beforeAll(async () => {
    t = await openTarget(target);
    store = t.store;
    hostA = randomUUID();
    hostB = randomUUID();
    for (const id of [hostA, hostB]) {
      await store.hosts.create({
        id,
        name: `host-${id.slice(0, 8)}`,
        joinTokenHash: null,
        certificateThumbprint: null,
        registeredAt: null,
        lastSeenAt: null,
        createdAt: T0,
      });
    }
  });
  afterAll(async () => {
    await t.close();
  });

  /** A principal attached to `holder`, with a certificate issued on `hostId`. */
  async function attachedWithCertificate(holder: Resource, hostId: string) {
    const p = principal();
    await store.principals.create(p);
    await store.attachments.attach({
      resourceId: holder.id,
      principalId: p.objectId,
      kind: 'UserAssigned',
      identityResourceId: `/x/${p.objectId}`,
      createdAt: T0,
    });
    const credential = hostCertificate(p.objectId, hostId);
    await store.credentials.add(credential);
    return { principalId: p.objectId, credentialId: credential.id };
  }

  const revoked = async (id: string) => (await store.credentials.get(id))?.revoked;

  it('answers whether an identity is attached on a host, through a VM or a scale-set instance', async () => {
    const vm = placedOn(vmId('hc', `vm-${randomUUID()}`), hostA);
    await store.resources.put(vm);
    const { principalId } = await attachedWithCertificate(vm, hostA);
    expect(await store.attachments.isAttachedOnHost(principalId, hostA)).toBe(true);
    expect(await store.attachments.isAttachedOnHost(principalId, hostB)).toBe(false);

    const scaleSetId = `/subscriptions/${SUB}/resourceGroups/hc/providers/${SCALE_SET_TYPE}/ss-${randomUUID()}`;
    const scaleSet = placedOn(scaleSetId, undefined, SCALE_SET_TYPE);
    await store.resources.put(scaleSet);
    const onSet = await attachedWithCertificate(scaleSet, hostB);
    expect(await store.attachments.isAttachedOnHost(onSet.principalId, hostB)).toBe(false);
    await store.resources.put(
      placedOn(`${scaleSetId}/virtualMachines/0`, hostB, `${SCALE_SET_TYPE}/virtualMachines`),
    );
    expect(await store.attachments.isAttachedOnHost(onSet.principalId, hostB)).toBe(true);
  });

  it('lists the VMs and instances placed on a host, a page at a time', async () => {
    const hostId = randomUUID();
    const ids = ['c', 'a', 'b'].map((n) => vmId('placed', `${n}-${randomUUID()}`));
    for (const id of ids) await store.resources.put(placedOn(id, hostId));
    await store.resources.put(placedOn(vmId('placed', 'elsewhere'), randomUUID()));
    await store.resources.put(placedOn(vmId('placed', 'nowhere'), undefined));
    const first = await store.resources.listPlacedOn(hostId, { limit: 2 });
    expect(first.items).toHaveLength(2);
    const rest = await store.resources.listPlacedOn(hostId, { limit: 2, cursor: first.nextCursor });
    expect([...first.items, ...rest.items].map((r) => r.id)).toEqual(
      [...ids].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())),
    );
    expect(rest.nextCursor).toBeUndefined();
    // Moved away: no longer listed.
    await store.resources.put(placedOn(ids[0] ?? '', randomUUID()));
    expect((await store.resources.listPlacedOn(hostId, { limit: 10 })).items).toHaveLength(2);
  });

  it('reads an assertion’s credential with whether it still stands for an attachment', async () => {
    const vm = placedOn(vmId('hc', `vm-${randomUUID()}`), hostA);
    await store.resources.put(vm);
    const pair = await attachedWithCertificate(vm, hostA);
    const thumbprint = (await store.credentials.get(pair.credentialId))?.thumbprintSha256 ?? '';
    const read = () => store.credentials.getForAssertion('sha256', pair.principalId, thumbprint);
    expect(await read()).toMatchObject({ credential: { id: pair.credentialId }, attached: true });
    await store.attachments.detach(vm.id, pair.principalId);
    expect(await read()).toMatchObject({ credential: { id: pair.credentialId }, attached: false });

    const application = hostCertificate(pair.principalId, hostA);
    await store.credentials.add({ ...application, hostId: null });
    expect(
      await store.credentials.getForAssertion(
        'sha1',
        pair.principalId,
        application.thumbprintSha1 ?? '',
      ),
    ).toMatchObject({ credential: { id: application.id }, attached: true });
    expect(
      await store.credentials.getForAssertion('sha1', pair.principalId, 'none'),
    ).toBeUndefined();
  });

  it('revokes at commit the certificates of a pair the transaction detached, and no others', async () => {
    const vm = placedOn(vmId('hc', `vm-${randomUUID()}`), hostA);
    await store.resources.put(vm);
    const gone = await attachedWithCertificate(vm, hostA);
    const stays = await attachedWithCertificate(vm, hostA);
    await store.transaction(async (tx) => {
      await noteComputeChanged(tx, T0, [vm]);
      await tx.attachments.detach(vm.id, gone.principalId);
      // Not yet: the rule runs as the transaction commits, after every write in it.
      expect(await tx.credentials.get(gone.credentialId)).toMatchObject({ revoked: false });
    });
    expect(await revoked(gone.credentialId)).toBe(true);
    expect(await revoked(stays.credentialId)).toBe(false);
  });

  it('revokes nothing when the transaction rolls back', async () => {
    const vm = placedOn(vmId('hc', `vm-${randomUUID()}`), hostA);
    await store.resources.put(vm);
    const pair = await attachedWithCertificate(vm, hostA);
    await expect(
      store.transaction(async (tx) => {
        await noteComputeChanged(tx, T0, [vm]);
        await tx.attachments.detach(vm.id, pair.principalId);
        throw new Error('abandoned');
      }),
    ).rejects.toThrow('abandoned');
    expect(await revoked(pair.credentialId)).toBe(false);
    expect(await store.attachments.isAttachedOnHost(pair.principalId, hostA)).toBe(true);
  });

  it('revokes the old host’s certificates when a VM moves, and all of them when its host goes', async () => {
    const vm = placedOn(vmId('hc', `vm-${randomUUID()}`), hostA);
    await store.resources.put(vm);
    const pair = await attachedWithCertificate(vm, hostA);
    const onB = hostCertificate(pair.principalId, hostB);
    await store.credentials.add(onB);
    const moved = placedOn(vm.id, hostB);
    await store.transaction(async (tx) => {
      await tx.resources.put(moved);
      await noteComputeChanged(tx, T0, [vm, moved]);
    });
    expect(await revoked(pair.credentialId)).toBe(true);
    expect(await revoked(onB.id)).toBe(false);
    expect(await store.attachments.isAttachedOnHost(pair.principalId, hostB)).toBe(true);

    expect(await store.hosts.delete(hostB)).toBe(true);
    expect(await revoked(onB.id)).toBe(true);
    expect(await store.attachments.isAttachedOnHost(pair.principalId, hostB)).toBe(false);
  });

  it('revokes the certificates of a deleted VM’s identities', async () => {
    const vm = placedOn(vmId('hc', `vm-${randomUUID()}`), hostA);
    await store.resources.put(vm);
    const pair = await attachedWithCertificate(vm, hostA);
    await store.transaction(async (tx) => {
      await noteComputeChanged(tx, T0, [vm]);
      await tx.resources.delete(vm.id);
    });
    expect(await revoked(pair.credentialId)).toBe(true);
  });

  it('fills the placement of VMs written before migration 0008', async () => {
    const old = await migratedBefore(target, '0008');
    try {
      const { db } = old;
      const hostId = randomUUID();
      const p = principal();
      const id = vmId('old', 'vm');
      await sql`insert into tenants (id, display_name, is_default, created_at)
        values ('tenant-a', 'A', 1, ${T0})`.execute(db);
      await sql`insert into hosts (id, name, created_at) values (${hostId}, 'old', ${T0})`.execute(
        db,
      );
      await sql`insert into principals (object_id, app_id, tenant_id, display_name, type,
        alternative_names, alternative_keys, enabled, created_at, updated_at)
        values (${p.objectId}, ${p.appId}, 'tenant-a', 'p', 'ManagedIdentity', '[]', '[]', 1,
        ${T0}, ${T0})`.execute(db);
      await sql`insert into resources (id_key, id, type_key, type, name, subscription_key,
        subscription_id, tags, properties, created_at, updated_at)
        values (${id.toLowerCase()}, ${id}, 'microsoft.compute/virtualmachines',
        'Microsoft.Compute/virtualMachines', 'vm', ${SUB.toLowerCase()}, ${SUB}, '{}',
        ${JSON.stringify({ tessera: { hostId } })}, ${T0}, ${T0})`.execute(db);
      await sql`insert into identity_attachments (resource_key, resource_id, principal_id, kind,
        identity_resource_id, created_at)
        values (${id.toLowerCase()}, ${id}, ${p.objectId}, 'SystemAssigned', ${id}, ${T0})`.execute(
        db,
      );

      const latest = await old.upgrade();
      try {
        expect(latest.applied[0]).toBe('0008-placement-and-host-credentials');
        expect(await latest.store.attachments.isAttachedOnHost(p.objectId, hostId)).toBe(true);
      } finally {
        await latest.store.close();
      }
    } finally {
      await old.close();
    }
  });
});
