// Tests for the directory (tenants, principals, credentials) on a real SQLite store.
import { generateKeyPairSync, type KeyObject, X509Certificate } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTempStore, type TempStore } from '../../../test/fixtures/temp-store.js';
import { AppError } from '../errors.js';
import type { Principal, Tenant } from '../model.js';
import type { Store } from '../ports.js';
import {
  createCertificateSigningRequest,
  createSelfSignedCertificate,
  issueCertificateFromCsr,
  thumbprintsOf,
  verifyIssuedBy,
} from '../keys/x509.js';
import {
  type CertificateAuthorityService,
  createCertificateAuthorityService,
} from './certificate-authority.js';
import { verifyClientSecret } from './client-secret.js';
import { createDirectory, type Directory } from './directory.js';

const T0 = Date.UTC(2025, 0, 1);
const DAY = 86_400_000;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let tmp: TempStore;
let store: Store;
let ca: CertificateAuthorityService;
let directory: Directory;
let tenant: Tenant;
const clock = {
  t: T0,
  now(): number {
    return this.t;
  },
};

beforeEach(async () => {
  tmp = await openTempStore('tessera-directory-');
  store = tmp.store;
  clock.t = T0;
  ca = createCertificateAuthorityService({ store, clock });
  directory = createDirectory({ store, clock, ca });
  tenant = await directory.ensureDefaultTenant();
});
afterEach(async () => {
  await tmp.close();
});

async function expectAppError(promise: Promise<unknown>, code: string, message?: RegExp) {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe(code);
  if (message) expect((error as AppError).message).toMatch(message);
}

const ec = (): { privateKey: KeyObject; publicKey: KeyObject } =>
  generateKeyPairSync('ec', { namedCurve: 'P-256' });
const csr = (): Promise<string> => createCertificateSigningRequest({ ...ec(), commonName: 'h' });
const identity = (): Promise<Principal> =>
  directory.createPrincipal({
    tenantId: tenant.id,
    displayName: 'id1',
    type: 'ManagedIdentity',
    alternativeNames: ['/subscriptions/s/resourceGroups/rg/providers/x/y/id1'],
  });
const application = (): Promise<Principal> =>
  directory.createPrincipal({ tenantId: tenant.id, displayName: 'app', type: 'Application' });

async function selfSigned(bits = 2048, notAfter = T0 + 365 * DAY) {
  const keys = generateKeyPairSync('rsa', { modulusLength: bits });
  return createSelfSignedCertificate({
    ...keys,
    commonName: 'external',
    notBefore: T0 - DAY,
    notAfter,
    isCa: false,
  });
}

describe('tenants and principals', () => {
  it('creates the default tenant once; another directory on the store finds the same one', async () => {
    expect(tenant).toMatchObject({
      displayName: 'Default Directory',
      isDefault: true,
      createdAt: T0,
    });
    expect(tenant.id).toMatch(GUID);
    expect(await directory.ensureDefaultTenant()).toEqual(tenant);
    const other = createDirectory({ store, clock, ca });
    const [x, y] = await Promise.all([other.ensureDefaultTenant(), other.ensureDefaultTenant()]);
    expect(x.id).toBe(tenant.id);
    expect(y.id).toBe(tenant.id);
    expect(await store.tenants.list()).toHaveLength(1);
  });

  it('creates principals with new GUIDs, and refuses an unknown tenant or an empty name', async () => {
    const p = await identity();
    expect(p.objectId).toMatch(GUID);
    expect(p.appId).toMatch(GUID);
    expect(p.appId).not.toBe(p.objectId);
    expect(p).toMatchObject({ tenantId: tenant.id, type: 'ManagedIdentity', enabled: true });
    expect(await directory.getPrincipal(p.objectId)).toEqual(p);
    await expectAppError(
      directory.createPrincipal({ tenantId: 'nope', displayName: 'x', type: 'Application' }),
      'NotFound',
      /tenant 'nope'/,
    );
    await expectAppError(
      directory.createPrincipal({ tenantId: tenant.id, displayName: '  ', type: 'Application' }),
      'InvalidParameter',
    );
    await expectAppError(directory.getPrincipal('missing'), 'NotFound');
  });

  it('disables and enables a principal', async () => {
    const p = await application();
    clock.t += 1_000;
    expect(await directory.setEnabled(p.objectId, false)).toMatchObject({
      enabled: false,
      updatedAt: T0 + 1_000,
    });
    expect((await directory.setEnabled(p.objectId, true)).enabled).toBe(true);
    await expectAppError(directory.setEnabled('missing', false), 'NotFound');
  });
});

describe('client secrets', () => {
  it('returns the secret once and stores only its hash and hint', async () => {
    const app = await application();
    const { credential, secret } = await directory.addClientSecret(app.objectId);
    expect(secret).toHaveLength(40);
    const stored = await store.credentials.get(credential.id);
    expect(stored).toEqual(credential);
    expect(stored).toMatchObject({
      kind: 'secret',
      hint: secret.slice(0, 3),
      certificate: null,
      notBefore: T0,
      notAfter: T0 + 180 * DAY,
    });
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect(await verifyClientSecret(secret, stored!.secretHash!)).toBe(true);
    expect(await verifyClientSecret(`${secret}x`, stored!.secretHash!)).toBe(false);
    const short = await directory.addClientSecret(app.objectId, { lifetimeMs: DAY });
    expect(short.credential.notAfter).toBe(T0 + DAY);
  });

  it('refuses a managed identity, an unknown principal and a bad lifetime', async () => {
    const mi = await identity();
    await expectAppError(
      directory.addClientSecret(mi.objectId),
      'InvalidRequest',
      /^Client secrets cannot be added to a managed identity\.$/,
    );
    expect(await store.credentials.listForPrincipal(mi.objectId)).toEqual([]);
    await expectAppError(directory.addClientSecret('missing'), 'NotFound');
    const app = await application();
    await expectAppError(
      directory.addClientSecret(app.objectId, { lifetimeMs: 0 }),
      'InvalidParameter',
    );
  });
});

describe('issued certificates', () => {
  it('issues a CA-signed certificate bound to the identity and host, and records it', async () => {
    const mi = await identity();
    await store.hosts.create({
      id: 'host-1',
      name: 'h1',
      joinTokenHash: null,
      certificateThumbprint: null,
      registeredAt: null,
      lastSeenAt: null,
      createdAt: T0,
    });
    const issued = await directory.issueCertificate(mi.objectId, await csr(), { hostId: 'host-1' });
    const cert = new X509Certificate(issued.certificateDer);
    expect(cert.subject).toBe(`DC=${mi.tenantId}\nCN=${mi.appId}`);
    expect(new X509Certificate(issued.certificatePem).raw.equals(issued.certificateDer)).toBe(true);
    const [anchor] = await ca.trustAnchors();
    expect(await verifyIssuedBy(issued.certificateDer, anchor!)).toBe(true);
    const thumbs = thumbprintsOf(issued.certificateDer);
    expect(issued.credential).toMatchObject({
      principalId: mi.objectId,
      kind: 'certificate',
      thumbprintSha1: thumbs.sha1,
      thumbprintSha256: thumbs.sha256,
      certificate: issued.certificateDer.toString('base64'),
      hostId: 'host-1',
      notBefore: T0 - 5 * 60_000,
      notAfter: T0 + 7 * DAY,
      revoked: false,
    });
    expect(await store.credentials.getByThumbprint('sha1', mi.objectId, thumbs.sha1)).toEqual(
      issued.credential,
    );
    const noHost = await directory.issueCertificate(mi.objectId, await csr(), { lifetimeMs: DAY });
    expect(noHost.credential).toMatchObject({ hostId: null, notAfter: T0 + DAY });
  });

  it('refuses a bad CSR, a disabled or unknown principal and an unknown host, writing nothing', async () => {
    const mi = await identity();
    await expectAppError(
      directory.issueCertificate(mi.objectId, 'not a csr', {}),
      'InvalidParameter',
      /certificate signing request is not valid/,
    );
    await expectAppError(
      directory.issueCertificate(mi.objectId, await csr(), { hostId: 'ghost' }),
      'NotFound',
      /host 'ghost'/,
    );
    await directory.setEnabled(mi.objectId, false);
    await expectAppError(directory.issueCertificate(mi.objectId, await csr(), {}), 'Forbidden');
    await expectAppError(directory.issueCertificate('missing', await csr(), {}), 'NotFound');
    expect(await store.credentials.listForPrincipal(mi.objectId)).toEqual([]);
  });

  it('re-checks the principal when writing: disabled while signing means nothing is written', async () => {
    const mi = await identity();
    const request = await csr();
    const issuing = directory.issueCertificate(mi.objectId, request, {});
    await directory.setEnabled(mi.objectId, false);
    await expectAppError(issuing, 'Forbidden', /is disabled/);
    expect(await store.credentials.listForPrincipal(mi.objectId)).toEqual([]);
  });

  it('issues several in one go: each refusal is its item alone; an unknown host refuses them all', async () => {
    const [one, disabled, two] = [await identity(), await identity(), await identity()];
    await directory.setEnabled(disabled.objectId, false);
    const requests = [
      { objectId: one.objectId, csrPem: await csr() },
      { objectId: disabled.objectId, csrPem: await csr() },
      { objectId: two.objectId, csrPem: 'not a csr' },
      { objectId: 'missing', csrPem: await csr() },
      { objectId: two.objectId, csrPem: await csr() },
    ];
    const results = await directory.issueCertificates(requests, {});
    expect(results.map((r) => (r instanceof AppError ? r.code : r.credential.principalId))).toEqual(
      [one.objectId, 'Forbidden', 'InvalidParameter', 'NotFound', two.objectId],
    );
    expect(await store.credentials.listForPrincipal(one.objectId)).toHaveLength(1);
    expect(await store.credentials.listForPrincipal(disabled.objectId)).toEqual([]);
    expect(await store.credentials.listForPrincipal(two.objectId)).toHaveLength(1);

    await expectAppError(
      directory.issueCertificates([{ objectId: one.objectId, csrPem: await csr() }], {
        hostId: 'ghost',
      }),
      'NotFound',
      /host 'ghost'/,
    );
    expect(await store.credentials.listForPrincipal(one.objectId)).toHaveLength(1);
  });
});

describe('registered certificates', () => {
  it('registers an external certificate on an application, once', async () => {
    const app = await application();
    const cert = await selfSigned();
    const credential = await directory.addCertificate(app.objectId, cert.pem);
    expect(credential).toMatchObject({
      kind: 'certificate',
      ...{ thumbprintSha1: thumbprintsOf(cert.der).sha1 },
      certificate: cert.der.toString('base64'),
      notBefore: T0 - DAY,
      notAfter: T0 + 365 * DAY,
      hostId: null,
    });
    expect(await store.credentials.get(credential.id)).toEqual(credential);
    await expectAppError(directory.addCertificate(app.objectId, cert.der), 'Conflict');
  });

  it('refuses weak, expired and unreadable certificates', async () => {
    const app = await application();
    await expectAppError(
      directory.addCertificate(app.objectId, (await selfSigned(1024)).der),
      'InvalidParameter',
      /at least 2048 bits/,
    );
    await expectAppError(
      directory.addCertificate(app.objectId, (await selfSigned(2048, T0)).der),
      'InvalidParameter',
      /expired/,
    );
    await expectAppError(directory.addCertificate(app.objectId, 'junk'), 'InvalidParameter');
    await expectAppError(directory.addCertificate('missing', (await selfSigned()).der), 'NotFound');
  });

  it('takes a certificate for a managed identity only from our CA and for that identity', async () => {
    const mi = await identity();
    const other = await identity();
    const authority = await ca.current();
    const issueFor = async (p: Principal, signer = authority) =>
      issueCertificateFromCsr({
        csrPem: await csr(),
        ca: signer,
        clientId: p.appId,
        tenantId: p.tenantId,
        notBefore: T0,
        notAfter: T0 + DAY,
      });

    const foreignKeys = ec();
    const foreignCa = await createSelfSignedCertificate({
      ...foreignKeys,
      commonName: 'Tessera Directory CA',
      notBefore: T0 - DAY,
      notAfter: T0 + 365 * DAY,
      isCa: true,
    });
    const fromForeign = await issueFor(mi, {
      ...authority,
      certificateDer: foreignCa.der,
      privateKey: foreignKeys.privateKey,
    });
    await expectAppError(
      directory.addCertificate(mi.objectId, fromForeign.der),
      'InvalidRequest',
      /must be issued by the directory's certificate authority/,
    );
    await expectAppError(
      directory.addCertificate(mi.objectId, (await selfSigned()).der),
      'InvalidRequest',
    );
    await expectAppError(
      directory.addCertificate(mi.objectId, (await issueFor(other)).der),
      'InvalidRequest',
      /issued to another identity/,
    );
    const ours = await issueFor(mi);
    const credential = await directory.addCertificate(mi.objectId, ours.pem);
    expect(credential.thumbprintSha256).toBe(thumbprintsOf(ours.der).sha256);
    expect(await store.credentials.listForPrincipal(mi.objectId)).toEqual([credential]);
  });
});

describe('revocation', () => {
  it('revokes a credential, and NotFound for an unknown one', async () => {
    const app = await application();
    const { credential } = await directory.addClientSecret(app.objectId);
    await directory.revokeCredential(credential.id);
    expect((await store.credentials.get(credential.id))?.revoked).toBe(true);
    await expectAppError(directory.revokeCredential('missing'), 'NotFound');
  });
});
