// Federated identity credentials on user-assigned identities: the ARM resource, Azure's
// validation (each bad input its error, nothing changed), the 20-per-identity limit, RBAC, and
// their going with their identity.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_ROLE_IDS } from '../../src/core/rbac/index.js';
import { type ArmHarness, errorCode, startArm } from './arm-harness.js';
import { assignRole, storeSnapshot } from './arm-store-fixtures.js';

const V = 'api-version=2023-01-31';
const UAI = 'Microsoft.ManagedIdentity/userAssignedIdentities';
const FIC = `${UAI}/federatedIdentityCredentials`;
const AKS = 'https://oidc.prod-aks.azure.com/tenant/issuer';
const body = (subject: string, over: Record<string, unknown> = {}): unknown => ({
  properties: { issuer: AKS, subject, audiences: ['api://AzureADTokenExchange'], ...over },
});

describe('ARM surface: federated identity credentials', () => {
  let h: ArmHarness;
  const identity = (name: string): string =>
    `/subscriptions/${h.sub}/resourceGroups/Fic-RG/providers/${UAI}/${name}`;
  const fic = (owner: string, name: string, version = V): string =>
    `${identity(owner)}/federatedIdentityCredentials/${name}?${version}`;

  beforeAll(async () => {
    h = await startArm();
    const group = await h.arm(
      'PUT',
      `/subscriptions/${h.sub}/resourceGroups/Fic-RG?api-version=2021-04-01`,
      {
        token: h.admin,
        body: { location: 'westeurope' },
      },
    );
    expect(group.status).toBe(201);
    for (const name of ['workload', 'full', 'doomed']) {
      const made = await h.arm('PUT', `${identity(name)}?${V}`, {
        token: h.admin,
        body: { location: 'westeurope' },
      });
      expect(made.status).toBe(201);
    }
  });

  afterAll(async () => {
    await h.close();
  });

  it('creates, replaces, reads, lists and deletes a credential as Azure answers', async () => {
    const created = await h.arm('PUT', fic('workload', 'ns-sa'), {
      token: h.admin,
      body: body('system:serviceaccount:ns:sa'),
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: `${identity('workload')}/federatedIdentityCredentials/ns-sa`,
      name: 'ns-sa',
      type: FIC,
      properties: {
        issuer: AKS,
        subject: 'system:serviceaccount:ns:sa',
        audiences: ['api://AzureADTokenExchange'],
      },
    });
    // az 2.45 sends the first preview version; Microsoft's templates write it in upper case.
    const replaced = await h.arm(
      'PUT',
      fic('workload', 'NS-SA', 'api-version=2022-01-31-PREVIEW'),
      {
        token: h.admin,
        body: body('system:serviceaccount:ns:other'),
      },
    );
    expect([replaced.status, replaced.body?.name]).toEqual([200, 'ns-sa']);
    const read = await h.arm('GET', fic('workload', 'ns-sa'), { token: h.admin });
    expect((read.body?.properties as { subject: string }).subject).toBe(
      'system:serviceaccount:ns:other',
    );
    const listed = await h.arm('GET', `${identity('workload')}/federatedIdentityCredentials?${V}`, {
      token: h.admin,
    });
    expect((listed.body?.value as { name: string }[]).map((c) => c.name)).toEqual(['ns-sa']);
    expect((await h.arm('DELETE', fic('workload', 'ns-sa'), { token: h.admin })).status).toBe(200);
    expect((await h.arm('DELETE', fic('workload', 'ns-sa'), { token: h.admin })).status).toBe(204);
    const gone = await h.arm('GET', fic('workload', 'ns-sa'), { token: h.admin });
    expect([gone.status, errorCode(gone.body)]).toEqual([404, 'ResourceNotFound']);
  });

  it.each([
    ['no properties', 'bad1', { properties: {} }, 400, 'BadRequest', 'has empty properties'],
    ['no issuer', 'bad2', body('s', { issuer: '' }), 400, 'BadRequest', "must specify 'issuer'"],
    ['no subject', 'bad3', body('s', { subject: undefined }), 400, 'BadRequest', "'subject'"],
    ['no audience', 'bad4', body('s', { audiences: [] }), 400, 'BadRequest', "'audience'"],
    [
      'two audiences',
      'bad5',
      body('s', { audiences: ['a', 'b'] }),
      400,
      'BadRequest',
      'exactly one audience',
    ],
    [
      'an http issuer',
      'bad6',
      body('s', { issuer: 'http://issuer' }),
      400,
      'BadRequest',
      'not a valid https URL',
    ],
    ['a subject over 600', 'bad7', body('x'.repeat(601)), 400, 'BadRequest', 'longer than 600'],
    ['a name of two', 'ab', body('s'), 400, 'BadRequest', "name 'ab' is invalid"],
    ['a name starting with -', '-abc', body('s'), 400, 'BadRequest', "name '-abc' is invalid"],
  ])(
    'refuses %s with Azure’s error and changes nothing',
    async (_, name, sent, status, code, text) => {
      const before = await storeSnapshot(h);
      const refused = await h.arm('PUT', fic('workload', name), { token: h.admin, body: sent });
      expect([refused.status, errorCode(refused.body)]).toEqual([status, code]);
      expect((refused.body?.error as { message: string }).message).toContain(text);
      expect(await storeSnapshot(h)).toEqual(before);
    },
  );

  it('refuses a credential on an identity that does not exist, and a PATCH', async () => {
    const orphan = await h.arm('PUT', fic('nobody', 'fic1'), { token: h.admin, body: body('s') });
    expect([orphan.status, errorCode(orphan.body)]).toEqual([404, 'ParentResourceNotFound']);
    const patch = await h.arm('PATCH', fic('workload', 'fic1'), {
      token: h.admin,
      body: body('s'),
    });
    expect(patch.status).toBe(405);
    const old = await h.arm('PUT', fic('workload', 'fic1', 'api-version=2018-11-30'), {
      token: h.admin,
      body: body('s'),
    });
    expect([old.status, errorCode(old.body)]).toEqual([400, 'NoRegisteredProviderFound']);
  });

  it('holds 20 credentials on an identity, refuses a 21st and a second of one issuer and subject', async () => {
    for (let i = 0; i < 20; i++) {
      const made = await h.arm('PUT', fic('full', `fic-${i}`), {
        token: h.admin,
        body: body(`s${i}`),
      });
      expect(made.status).toBe(201);
    }
    const before = await storeSnapshot(h);
    const extra = await h.arm('PUT', fic('full', 'fic-20'), { token: h.admin, body: body('s20') });
    expect([extra.status, errorCode(extra.body)]).toEqual([400, 'BadRequest']);
    const twin = await h.arm('PUT', fic('full', 'twin'), { token: h.admin, body: body('s3') });
    expect((twin.body?.error as { message: string }).message).toBe(
      'Issuer and subject combination already exists for this Managed Identity.',
    );
    expect(await storeSnapshot(h)).toEqual(before);
    // A re-PUT of one of them is a replacement, not a 21st.
    expect(
      (await h.arm('PUT', fic('full', 'fic-3'), { token: h.admin, body: body('s3') })).status,
    ).toBe(200);
  });

  it('lets a Reader read and list, not write; names the actions as Azure does', async () => {
    const { principal, token } = await h.newClient('fic reader');
    await assignRole(h, principal.objectId, BUILT_IN_ROLE_IDS.reader, identity('full'));
    expect((await h.arm('GET', fic('full', 'fic-1'), { token })).status).toBe(200);
    const listed = await h.arm(
      'GET',
      `${identity('full')}/federatedIdentityCredentials?${V}&$top=5`,
      {
        token,
      },
    );
    expect((listed.body?.value as unknown[]).length).toBe(5);
    expect(listed.body?.nextLink).toContain('$skipToken=');
    const denied = await h.arm('PUT', fic('full', 'fic-1'), { token, body: body('s1') });
    expect((denied.body?.error as { message: string }).message).toContain(`'${FIC}/write'`);
  });

  it('goes with its identity', async () => {
    expect(
      (await h.arm('PUT', fic('doomed', 'fic1'), { token: h.admin, body: body('s') })).status,
    ).toBe(201);
    expect((await h.arm('DELETE', `${identity('doomed')}?${V}`, { token: h.admin })).status).toBe(
      200,
    );
    const after = await h.arm('GET', fic('doomed', 'fic1'), { token: h.admin });
    expect([after.status, errorCode(after.body)]).toEqual([404, 'ParentResourceNotFound']);
    const left = await h.store.resources.listUnder(identity('doomed'), { limit: 10 });
    expect(left.items).toEqual([]);
  });
});
