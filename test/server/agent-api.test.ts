// The agent API end to end on a real server: join tokens, host auth, VM sync and long-poll, identity certificates, tokens.
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRemoteJWKSet, decodeJwt, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCertificateSigningRequest,
  createSelfSignedCertificate,
  parseCertificate,
  verifyIssuedBy,
} from '../../src/core/keys/x509.js';
import {
  type AgentTokenResponse,
  type AgentVm,
  type CertificateBatchResponse,
  type CertificateResponse,
  MAX_CERTIFICATE_BATCH,
  type CreatedHost,
  type RegisterResponse,
  type VmSync,
} from '../../src/wire/agent-api.js';
import { storeTargets } from '../store/targets.js';
import {
  type AgentHarness,
  type Answer,
  csrFor,
  ecKeys,
  errorCode,
  type KeyPair,
  type RegisteredHost,
  startAgentServer,
} from './agent-harness.js';

const VM_V = 'api-version=2024-07-01';
const UAI_V = 'api-version=2023-01-31';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DAY_MS = 86_400_000;

interface Uai {
  readonly id: string;
  readonly principalId: string;
  readonly clientId: string;
}

describe.each(storeTargets())('agent API on $name', (target) => {
  let h: AgentHarness;
  let group: string;
  const vmPath = (name: string): string =>
    `${group}/providers/Microsoft.Compute/virtualMachines/${name}`;
  const ssPath = (name: string): string =>
    `${group}/providers/Microsoft.Compute/virtualMachineScaleSets/${name}`;
  const placement = (hostId: string, ip: string) => ({
    tessera: { hostId, privateIpAddresses: [ip] },
  });

  async function createUai(name: string): Promise<Uai> {
    const path = `${group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
    const created = await h.arm('PUT', `${path}?${UAI_V}`, { location: 'westeurope' });
    expect(created.status).toBe(201);
    const properties = created.body?.properties as { principalId: string; clientId: string };
    return { id: created.body?.id as string, ...properties };
  }

  async function putVm(name: string, body: Record<string, unknown>): Promise<Answer> {
    const answer = await h.arm('PUT', `${vmPath(name)}?${VM_V}`, {
      location: 'westeurope',
      ...body,
    });
    expect(answer.status).toBeLessThan(300);
    return answer;
  }

  const sync = async (host: RegisteredHost, query = 'after=0'): Promise<VmSync> => {
    const answer = await host.call('GET', `/vms?${query}`);
    expect(answer.status).toBe(200);
    return answer.body as unknown as VmSync;
  };
  const ids = (vms: readonly AgentVm[]): string[] => vms.map((vm) => vm.id).sort();

  beforeAll(async () => {
    h = await startAgentServer(target);
    group = `/subscriptions/${h.sub}/resourceGroups/agents`;
    const created = await h.arm('PUT', `${group}?api-version=2021-04-01`, {
      location: 'westeurope',
    });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await h.close();
  });

  describe('join tokens and registration', () => {
    it('needs an operator allowed Tessera.Agent/hosts/write at / and a valid name', async () => {
      const anonymous = await h.agent('PUT', '/hosts/nobody');
      expect(anonymous.status).toBe(401);
      expect(errorCode(anonymous)).toBe('AuthenticationFailed');
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer authorization_uri=/);

      const principal = await h.server.services.directory.createPrincipal({
        tenantId: h.tenantId,
        displayName: 'no-roles',
        type: 'Application',
      });
      const { secret } = await h.server.services.directory.addClientSecret(principal.objectId);
      const bearer = await h.token(principal.appId, secret);
      const denied = await h.agent('PUT', '/hosts/nobody', {
        headers: { authorization: `Bearer ${bearer}` },
      });
      expect(denied.status).toBe(403);
      expect(errorCode(denied)).toBe('AuthorizationFailed');
      expect(await h.store.hosts.getByName('nobody')).toBeUndefined();

      for (const name of ['bad%20name', 'x'.repeat(64), 'semi%3Bcolon']) {
        const bad = await h.agent('PUT', `/hosts/${name}`, {
          headers: { authorization: `Bearer ${h.admin}` },
        });
        expect(bad.status, name).toBe(400);
        expect(errorCode(bad)).toBe('InvalidParameter');
      }
    });

    it('gives a token that works once; a new token replaces the old; the CA issues the host certificate', async () => {
      const put = (): Promise<Answer> =>
        h.agent('PUT', '/hosts/joiner.example_1', {
          headers: { authorization: `Bearer ${h.admin}` },
        });
      const first = await put();
      expect(first.status).toBe(201);
      const host = first.body as unknown as CreatedHost;
      expect(host.id).toMatch(GUID);
      expect(host.name).toBe('joiner.example_1');
      expect(host.joinToken).toMatch(new RegExp(`^${host.id}\\.[A-Za-z0-9_-]{43}$`));
      const stored = await h.store.hosts.get(host.id);
      expect(stored?.joinTokenHash).toMatch(/^scrypt\$/);
      expect(stored?.joinTokenHash).not.toContain(host.joinToken.split('.')[1]);

      const second = await put();
      expect(second.status).toBe(200);
      const renewed = second.body as unknown as CreatedHost;
      expect(renewed.id).toBe(host.id);
      expect(renewed.joinToken).not.toBe(host.joinToken);

      const keys = ecKeys();
      const register = (joinToken: string, csr: string): Promise<Answer> =>
        h.agent('POST', '/register', { body: { joinToken, csr } });
      const csr = await csrFor(keys);

      const old = await register(host.joinToken, csr);
      expect(old.status).toBe(401);
      expect(errorCode(old)).toBe('AuthenticationFailed');
      const wrong = await register(`${host.id}.${'A'.repeat(43)}`, csr);
      expect(wrong.status).toBe(401);
      expect((await register(`${randomUUID()}.${'A'.repeat(43)}`, csr)).status).toBe(401);
      expect((await register('not-a-token-at-all', csr)).status).toBe(401);

      // A bad CSR is refused before the token is looked at: the token stays usable.
      const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const rsaCsr = await createCertificateSigningRequest({ ...rsa, commonName: 'agent' });
      const refused = await register(renewed.joinToken, rsaCsr);
      expect(refused.status).toBe(400);
      expect(errorCode(refused)).toBe('InvalidParameter');
      const garbage = await register(renewed.joinToken, 'not a csr');
      expect(garbage.status).toBe(400);

      const ok = await register(renewed.joinToken, csr);
      expect(ok.status).toBe(200);
      const registration = ok.body as unknown as RegisterResponse;
      expect(registration.hostId).toBe(host.id);
      expect(registration.hostName).toBe('joiner.example_1');
      const certificate = parseCertificate(registration.certificate);
      expect(certificate.subject).toBe(`CN=tessera-host:${host.id}, DC=tessera`);
      const spki = (k: typeof keys.publicKey): string =>
        k.export({ type: 'spki', format: 'der' }).toString('base64');
      expect(spki(certificate.publicKey)).toBe(spki(keys.publicKey));
      const anchors = registration.caCertificates.map((pem) => parseCertificate(pem).der);
      expect(anchors.length).toBeGreaterThan(0);
      const verified = await Promise.all(anchors.map((ca) => verifyIssuedBy(certificate.der, ca)));
      expect(verified).toContain(true);
      expect(registration.certificateNotAfter).toBe(certificate.notAfter);
      expect(Math.abs(registration.certificateNotAfter - (Date.now() + 30 * DAY_MS))).toBeLessThan(
        60_000,
      );
      const after = await h.store.hosts.get(host.id);
      expect(after?.joinTokenHash).toBeNull();
      expect(after?.certificateThumbprint).toBe(
        createHash('sha256').update(certificate.der).digest('base64url'),
      );
      expect(after?.registeredAt).not.toBeNull();

      const replay = await register(renewed.joinToken, await csrFor(ecKeys()));
      expect(replay.status).toBe(401);
      expect(errorCode(replay)).toBe('AuthenticationFailed');
      expect((await h.store.hosts.get(host.id))?.certificateThumbprint).toBe(
        after?.certificateThumbprint,
      );
    });

    it('lets only one of two racing registrations with the same token through', async () => {
      const created = await h.agent('PUT', '/hosts/racer', {
        headers: { authorization: `Bearer ${h.admin}` },
      });
      const { id, joinToken } = created.body as unknown as CreatedHost;
      const attempts = await Promise.all(
        [ecKeys(), ecKeys()].map(async (keys) =>
          h.agent('POST', '/register', { body: { joinToken, csr: await csrFor(keys) } }),
        ),
      );
      expect(attempts.map((a) => a.status).sort()).toEqual([200, 401]);
      const winner = attempts.find((a) => a.status === 200)?.body as unknown as RegisterResponse;
      expect((await h.store.hosts.get(id))?.certificateThumbprint).toBe(
        parseCertificate(winner.certificate).sha256,
      );
    });

    it('renews the host certificate: the new one authenticates, the old one no longer does', async () => {
      const host = await h.newHost('renewer');
      const keys = ecKeys();
      const renewed = await host.call('POST', '/renew', { csr: await csrFor(keys) });
      expect(renewed.status).toBe(200);
      const registration = renewed.body as unknown as RegisterResponse;
      expect(registration.hostId).toBe(host.id);
      const der = parseCertificate(registration.certificate).der;

      const old = await host.call('GET', '/vms');
      expect(old.status).toBe(401);
      const fresh = await host.assertion({ key: keys.privateKey, der });
      const now = await h.agent('GET', '/vms', {
        headers: { authorization: `TesseraHost ${fresh}` },
      });
      expect(now.status).toBe(200);
    });
  });

  describe('host authentication', () => {
    let a: RegisteredHost;
    let b: RegisteredHost;
    beforeAll(async () => {
      a = await h.newHost('auth-a');
      b = await h.newHost('auth-b');
    });

    const as = (authorization?: string): Promise<Answer> =>
      h.agent('GET', '/vms', authorization === undefined ? {} : { headers: { authorization } });
    const refusedWith = async (authorization: string | undefined): Promise<Answer> => {
      const answer = await as(authorization);
      expect(answer.status).toBe(401);
      expect(errorCode(answer)).toBe('AuthenticationFailed');
      // The assertion is never echoed.
      if (authorization !== undefined) {
        expect(JSON.stringify(answer.body)).not.toContain(authorization.split(' ')[1]);
      }
      return answer;
    };

    it('accepts a good assertion and records when the host was last seen', async () => {
      expect((await as(`TesseraHost ${await a.assertion()}`)).status).toBe(200);
      expect((await as(`tesserahost ${await a.assertion()}`)).status).toBe(200);
      const seen = (await h.store.hosts.get(a.id))?.lastSeenAt;
      expect(seen).toBeGreaterThan(Date.now() - 60_000);
    });

    it('answers unknown operations in its own error shape', async () => {
      for (const [method, path] of [
        ['GET', '/nothing'],
        ['GET', '/register'],
      ] as const) {
        const answer = await h.agent(method, path);
        expect(answer.status).toBe(404);
        expect(errorCode(answer)).toBe('ResourceNotFound');
      }
    });

    it('refuses a missing header, another scheme and a malformed JWS', async () => {
      await refusedWith(undefined);
      await refusedWith(`Bearer ${h.admin}`);
      await refusedWith('TesseraHost not-a-jws');
      await refusedWith(`TesseraHost ${await a.assertion()}x`);
    });

    it("refuses a bad signature, another host's certificate and a certificate not from the CA", async () => {
      await refusedWith(`TesseraHost ${await a.assertion({ key: ecKeys().privateKey })}`);
      // Host B's own certificate and key, claiming to be host A.
      await refusedWith(
        `TesseraHost ${await a.assertion({ key: b.keys.privateKey, der: b.der, sub: a.id })}`,
      );
      // Host A's certificate with host B's id.
      await refusedWith(`TesseraHost ${await a.assertion({ sub: b.id })}`);
      const now = Date.now();
      const selfSigned = await createSelfSignedCertificate({
        ...a.keys,
        commonName: `tessera-host:${a.id}`,
        notBefore: now - 60_000,
        notAfter: now + DAY_MS,
        isCa: false,
      });
      await refusedWith(`TesseraHost ${await a.assertion({ der: selfSigned.der })}`);
    });

    it('refuses an expired, future, too long-lived or wrongly addressed assertion', async () => {
      const now = Math.floor(Date.now() / 1000);
      await refusedWith(`TesseraHost ${await a.assertion({ iat: now - 700, exp: now - 100 })}`);
      await refusedWith(`TesseraHost ${await a.assertion({ iat: now + 300, exp: now + 600 })}`);
      await refusedWith(`TesseraHost ${await a.assertion({ iat: now, exp: now + 601 })}`);
      await refusedWith(
        `TesseraHost ${await a.assertion({ aud: 'https://elsewhere.example/agent/v1' })}`,
      );
      // Within the 60 s skew both ways is fine.
      expect(
        (await as(`TesseraHost ${await a.assertion({ iat: now + 30, exp: now + 300 })}`)).status,
      ).toBe(200);
    });
  });

  describe('VM sync', () => {
    let a: RegisteredHost;
    let b: RegisteredHost;
    let uai1: Uai;
    let uai2: Uai;
    let vmA: Record<string, unknown>;
    let instance: Record<string, unknown>;

    beforeAll(async () => {
      a = await h.newHost('sync-a');
      b = await h.newHost('sync-b');
      uai1 = await createUai('sync-one');
      uai2 = await createUai('sync-two');
      vmA = (
        await putVm('sync-vm-a', {
          tags: { role: 'web' },
          identity: {
            type: 'SystemAssigned, UserAssigned',
            userAssignedIdentities: { [uai1.id]: {} },
          },
          properties: {
            hardwareProfile: { vmSize: 'Standard_B2s' },
            storageProfile: { osDisk: { osType: 'Linux' } },
            ...placement(a.id, '10.0.0.4'),
          },
        })
      ).body as Record<string, unknown>;
      const extension = await h.arm('PUT', `${vmPath('sync-vm-a')}/extensions/msi?${VM_V}`, {
        location: 'westeurope',
        properties: {
          publisher: 'Microsoft.ManagedIdentity',
          type: 'ManagedIdentityExtensionForLinux',
          typeHandlerVersion: '1.0',
          settings: { port: 50343 },
        },
      });
      expect(extension.status).toBe(201);
      await putVm('sync-vm-b', {
        identity: { type: 'UserAssigned', userAssignedIdentities: { [uai2.id]: {} } },
        properties: placement(b.id, '10.0.0.5'),
      });
      const scaleSet = await h.arm('PUT', `${ssPath('sync-ss')}?${VM_V}`, {
        location: 'westeurope',
        sku: { name: 'Standard_D2s_v3', capacity: 2 },
        identity: {
          type: 'SystemAssigned, UserAssigned',
          userAssignedIdentities: { [uai2.id]: {} },
        },
        properties: {
          virtualMachineProfile: { storageProfile: { osDisk: { osType: 'Windows' } } },
        },
      });
      expect(scaleSet.status).toBe(201);
      const placed = await h.arm('PUT', `${ssPath('sync-ss')}/virtualMachines/1?${VM_V}`, {
        properties: placement(a.id, '10.0.1.5'),
      });
      expect(placed.status).toBe(200);
      instance = placed.body as Record<string, unknown>;
    });

    it('answers a full sync with every VM and instance on the host, both identity kinds', async () => {
      const full = await sync(a);
      expect(full.full).toBe(true);
      expect(full.removed).toEqual([]);
      expect(full.position).toBe((await h.store.changes.bounds()).latest);
      expect(ids(full.vms)).toEqual([vmA.id, instance.id].map(String).sort());

      const system = await h.store.principals.get(
        (vmA.identity as { principalId: string }).principalId,
      );
      const vm = full.vms.find((v) => v.id === vmA.id);
      expect(vm).toEqual({
        id: vmA.id,
        vmId: (vmA.properties as { vmId: string }).vmId,
        kind: 'vm',
        name: 'sync-vm-a',
        subscriptionId: h.sub,
        resourceGroup: 'agents',
        location: 'westeurope',
        tags: { role: 'web' },
        scaleSetName: '',
        vmSize: 'Standard_B2s',
        osType: 'Linux',
        addresses: ['10.0.0.4'],
        identities: [
          {
            kind: 'SystemAssigned',
            principalId: system?.objectId,
            clientId: system?.appId,
            tenantId: h.tenantId,
            resourceId: vmA.id,
          },
          {
            kind: 'UserAssigned',
            principalId: uai1.principalId,
            clientId: uai1.clientId,
            tenantId: h.tenantId,
            resourceId: uai1.id,
          },
        ],
        legacyShimPort: 50343,
      });

      const member = full.vms.find((v) => v.id === instance.id);
      expect(member).toMatchObject({
        kind: 'scaleSetInstance',
        name: 'sync-ss_1',
        scaleSetName: 'sync-ss',
        vmId: (instance.properties as { vmId: string }).vmId,
        vmSize: 'Standard_D2s_v3',
        osType: 'Windows',
        addresses: ['10.0.1.5'],
      });
      expect(member?.legacyShimPort).toBeUndefined();
      expect(member?.identities.map((i) => [i.kind, i.resourceId])).toEqual([
        ['SystemAssigned', ssPath('sync-ss')],
        ['UserAssigned', uai2.id],
      ]);

      const other = await sync(b);
      expect(other.vms.map((v) => v.name)).toEqual(['sync-vm-b']);

      // A scale set's identity may be certified by the host of one of its instances only.
      const scaleSetSystem = member?.identities[0]?.principalId ?? '';
      const certify = (host: RegisteredHost): Promise<Answer> =>
        csrFor(ecKeys()).then((csr) =>
          host.call('POST', `/identities/${scaleSetSystem}/certificate`, { csr }),
        );
      expect((await certify(a)).status).toBe(200);
      expect((await certify(b)).status).toBe(403);
    });

    it('answers an incremental sync with what changed, and what left the host as removed', async () => {
      const start = (await sync(a)).position;
      const idle = await sync(a, `after=${start}`);
      expect(idle).toEqual({ position: start, full: false, vms: [], removed: [] });

      const attached = await h.arm('PATCH', `${vmPath('sync-vm-a')}?${VM_V}`, {
        identity: {
          type: 'SystemAssigned, UserAssigned',
          userAssignedIdentities: { [uai1.id]: {}, [uai2.id]: {} },
        },
      });
      expect(attached.status).toBe(200);
      const changed = await sync(a, `after=${start}`);
      expect(changed.full).toBe(false);
      expect(changed.removed).toEqual([]);
      expect(ids(changed.vms)).toEqual([vmA.id]);
      expect(changed.vms[0]?.identities.map((i) => i.principalId)).toEqual([
        (vmA.identity as { principalId: string }).principalId,
        uai1.principalId,
        uai2.principalId,
      ]);
      expect(changed.position).toBeGreaterThan(start);

      const positionB = (await sync(b)).position;
      const moved = await h.arm('PATCH', `${vmPath('sync-vm-a')}?${VM_V}`, {
        properties: placement(b.id, '10.0.2.4'),
      });
      expect(moved.status).toBe(200);
      const left = await sync(a, `after=${changed.position}`);
      expect(left).toMatchObject({ full: false, vms: [], removed: [vmA.id] });
      const arrived = await sync(b, `after=${positionB}`);
      expect(ids(arrived.vms)).toEqual([vmA.id]);
      expect(arrived.vms[0]?.addresses).toEqual(['10.0.2.4']);

      const deleted = await h.arm('DELETE', `${ssPath('sync-ss')}/virtualMachines/1?${VM_V}`);
      expect(deleted.status).toBeLessThan(300);
      const gone = await sync(a, `after=${left.position}`);
      expect(gone.removed).toEqual([instance.id]);
      expect((await sync(a)).vms).toEqual([]);
    });

    it('falls back to a full sync beyond the feed, and checks its query', async () => {
      const beyond = await sync(b, `after=${(await h.store.changes.bounds()).latest + 100}`);
      expect(beyond.full).toBe(true);
      expect(beyond.vms.map((v) => v.name).sort()).toEqual(['sync-vm-a', 'sync-vm-b']);
      for (const query of ['after=-1', 'after=x', 'wait=61', 'wait=1.5']) {
        const bad = await b.call('GET', `/vms?${query}`);
        expect(bad.status, query).toBe(400);
        expect(errorCode(bad)).toBe('InvalidParameter');
      }
    });
  });

  describe('long-poll', () => {
    let a: RegisteredHost;
    let b: RegisteredHost;
    beforeAll(async () => {
      a = await h.newHost('poll-a');
      b = await h.newHost('poll-b');
    });

    it('wakes within well under a second after an ARM write that places a VM on the host', async () => {
      const position = (await sync(a)).position;
      let settledAt: number | undefined;
      const polling = sync(a, `after=${position}&wait=30`).then((answer) => {
        settledAt = Date.now();
        return answer;
      });
      await sleep(300);
      expect(settledAt).toBeUndefined();
      const vm = await putVm('poll-vm', { properties: placement(a.id, '10.9.0.4') });
      const written = Date.now();
      const woke = await polling;
      expect(woke.full).toBe(false);
      expect(woke.vms.map((v) => v.id)).toEqual([vm.body?.id]);
      // A correctness check of the wake-up, not a benchmark: the fallback poll alone takes ~1 s.
      expect((settledAt ?? Infinity) - written).toBeLessThan(1000);
    });

    it('keeps waiting through changes on other hosts and answers empty when the wait ends', async () => {
      const position = (await sync(a)).position;
      const started = Date.now();
      const polling = sync(a, `after=${position}&wait=2`);
      await sleep(200);
      await putVm('poll-elsewhere', { properties: placement(b.id, '10.9.0.5') });
      const answer = await polling;
      expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
      expect(answer.full).toBe(false);
      expect(answer.vms).toEqual([]);
      expect(answer.removed).toEqual([]);
      // The position still moves on, so an idle host stays inside the retained feed.
      expect(answer.position).toBeGreaterThan(position);
    });
  });

  describe('identity certificates and tokens', () => {
    let a: RegisteredHost;
    let b: RegisteredHost;
    let uai: Uai;
    let elsewhere: Uai;
    let vm: Record<string, unknown>;
    let otherVm: Record<string, unknown>;

    beforeAll(async () => {
      a = await h.newHost('id-a');
      b = await h.newHost('id-b');
      uai = await createUai('id-one');
      elsewhere = await createUai('id-elsewhere');
      vm = (
        await putVm('id-vm', {
          identity: {
            type: 'SystemAssigned, UserAssigned',
            userAssignedIdentities: { [uai.id]: {} },
          },
          properties: placement(a.id, '10.3.0.4'),
        })
      ).body as Record<string, unknown>;
      otherVm = (
        await putVm('id-vm-b', {
          identity: {
            type: 'SystemAssigned, UserAssigned',
            userAssignedIdentities: { [uai.id]: {}, [elsewhere.id]: {} },
          },
          properties: placement(b.id, '10.3.0.5'),
        })
      ).body as Record<string, unknown>;
    });

    const certify = (host: RegisteredHost, principalId: string, csr: string): Promise<Answer> =>
      host.call('POST', `/identities/${principalId}/certificate`, { csr });

    async function identityKey(
      host: RegisteredHost,
      principalId: string,
    ): Promise<{ keys: KeyPair; thumbprint: string }> {
      const keys = ecKeys();
      const answer = await certify(host, principalId, await csrFor(keys));
      expect(answer.status).toBe(200);
      const { certificate } = answer.body as unknown as CertificateResponse;
      return { keys, thumbprint: parseCertificate(certificate).sha256 };
    }

    const clientAssertion = (
      keys: KeyPair,
      thumbprint: string,
      clientId: string,
    ): Promise<string> =>
      new SignJWT({ jti: randomUUID() })
        .setProtectedHeader({ alg: 'ES256', 'x5t#S256': thumbprint })
        .setIssuer(clientId)
        .setSubject(clientId)
        .setAudience(`${h.server.url}/${h.tenantId}/oauth2/token`)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(keys.privateKey);

    it('certifies a key for an identity attached to a VM on the host, bound to the host', async () => {
      const answer = await certify(a, uai.principalId, await csrFor(ecKeys()));
      expect(answer.status).toBe(200);
      const issued = answer.body as unknown as CertificateResponse;
      const certificate = parseCertificate(issued.certificate);
      expect(certificate.subject).toBe(`CN=${uai.clientId}, DC=${h.tenantId}`);
      expect(issued.notBefore).toBe(certificate.notBefore);
      expect(issued.notAfter).toBe(certificate.notAfter);
      const anchors = a.registration.caCertificates.map((pem) => parseCertificate(pem).der);
      const verified = await Promise.all(anchors.map((ca) => verifyIssuedBy(certificate.der, ca)));
      expect(verified).toContain(true);
      const credential = await h.store.credentials.getByThumbprint(
        'sha256',
        uai.principalId,
        certificate.sha256,
      );
      expect(credential?.hostId).toBe(a.id);
    });

    it('refuses identities that are not on the host, and keys that are not P-256', async () => {
      const csr = await csrFor(ecKeys());
      for (const principalId of [elsewhere.principalId, randomUUID()]) {
        const refused = await certify(a, principalId, csr);
        expect(refused.status).toBe(403);
        expect(errorCode(refused)).toBe('AuthorizationFailed');
      }
      const systemB = (otherVm.identity as { principalId: string }).principalId;
      expect((await certify(a, systemB, csr)).status).toBe(403);
      expect((await certify(b, systemB, csr)).status).toBe(200);
      const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const rsaCsr = await createCertificateSigningRequest({ ...rsa, commonName: 'x' });
      const badKey = await certify(a, uai.principalId, rsaCsr);
      expect(badKey.status).toBe(400);
      expect(errorCode(badKey)).toBe('InvalidParameter');
    });

    it('refuses a disabled identity a certificate as Entra refuses its tokens (AADSTS7000112)', async () => {
      const off = await createUai('id-off');
      await putVm('id-vm-off', {
        identity: { type: 'UserAssigned', userAssignedIdentities: { [off.id]: {} } },
        properties: placement(a.id, '10.3.0.9'),
      });
      const csr = await csrFor(ecKeys());
      await h.store.principals.update(off.principalId, { enabled: false }, Date.now());
      const refused = await certify(a, off.principalId, csr);
      expect({ status: refused.status, body: refused.body }).toEqual({
        status: 400,
        body: {
          error: {
            code: 'unauthorized_client',
            message: `AADSTS7000112: Application '${off.clientId}'(id-off) is disabled.`,
          },
        },
      });
      await h.store.principals.update(off.principalId, { enabled: true }, Date.now());
      expect((await certify(a, off.principalId, csr)).status).toBe(200);
    });

    it('certifies several identities in one request, each checked and answered on its own', async () => {
      const [first, second] = [await csrFor(ecKeys()), await csrFor(ecKeys())];
      const systemA = (vm.identity as { principalId: string }).principalId;
      const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const answer = await a.call('POST', '/identities/certificates', {
        requests: [
          { principalId: uai.principalId, csr: first },
          { principalId: elsewhere.principalId, csr: second },
          {
            principalId: systemA,
            csr: await createCertificateSigningRequest({ ...rsa, commonName: 'x' }),
          },
          { principalId: randomUUID() },
          { principalId: systemA.toUpperCase(), csr: second },
        ],
      });
      expect(answer.status).toBe(200);
      const [issued, ...refused] = (answer.body as unknown as CertificateBatchResponse).results;
      const certificate = parseCertificate((issued as CertificateResponse).certificate);
      expect(issued?.principalId).toBe(uai.principalId);
      expect(certificate.subject).toBe(`CN=${uai.clientId}, DC=${h.tenantId}`);
      expect(certificate.spki).toEqual(parseCertificate(certificate.der).spki);
      const stored = await h.store.credentials.getByThumbprint(
        'sha256',
        uai.principalId,
        certificate.sha256,
      );
      expect(stored?.hostId).toBe(a.id);
      expect(
        refused.map((r) => ('error' in r ? [r.principalId, r.status, r.error.code] : r)),
      ).toEqual([
        [elsewhere.principalId, 403, 'AuthorizationFailed'],
        [systemA, 400, 'InvalidParameter'],
        [expect.any(String), 400, 'InvalidParameter'],
        [systemA.toUpperCase(), 403, 'AuthorizationFailed'],
      ]);
      // The same identity on its host, through the batch: issued as by the single route.
      const b2 = await b.call('POST', '/identities/certificates', {
        requests: [{ principalId: elsewhere.principalId, csr: second }],
      });
      const [onB] = (b2.body as unknown as CertificateBatchResponse).results;
      expect(onB?.principalId).toBe(elsewhere.principalId);
      const issuedOnB = parseCertificate((onB as CertificateResponse).certificate);
      expect(issuedOnB.subject).toBe(`CN=${elsewhere.clientId}, DC=${h.tenantId}`);
    });

    it('refuses a malformed or oversized batch whole, and anyone but a host', async () => {
      const csr = await csrFor(ecKeys());
      const item = { principalId: uai.principalId, csr };
      const many = Array.from({ length: MAX_CERTIFICATE_BATCH + 1 }, () => ({
        principalId: randomUUID(),
        csr,
      }));
      for (const body of [
        {},
        { requests: [] },
        { requests: many },
        { requests: 'x' },
        { requests: [item, item] },
        { requests: [{ csr }] },
        { requests: [item, 7] },
      ]) {
        const refused = await a.call('POST', '/identities/certificates', body);
        expect(refused.status).toBe(400);
        expect(errorCode(refused)).toMatch(/^Invalid/);
      }
      const full = await a.call('POST', '/identities/certificates', {
        requests: many.slice(1),
      });
      expect(full.status).toBe(200);
      expect((full.body as unknown as CertificateBatchResponse).results).toHaveLength(
        MAX_CERTIFICATE_BATCH,
      );
      const anonymous = await h.agent('POST', '/identities/certificates', {
        body: { requests: [item] },
      });
      expect(anonymous.status).toBe(401);
    });

    it('issues tokens end to end that verify against the JWKS with the identity and the VM', async () => {
      const jwks = createRemoteJWKSet(new URL(`${h.server.url}/${h.tenantId}/discovery/v2.0/keys`));
      const verify = async (token: string, resource: string) =>
        (
          await jwtVerify(token, jwks, {
            issuer: `${h.server.url}/${h.tenantId}/`,
            audience: resource,
          })
        ).payload;

      const { keys, thumbprint } = await identityKey(a, uai.principalId);
      const resource = 'https://vault.azure.net';
      const request = {
        vmId: vm.id,
        clientAssertion: await clientAssertion(keys, thumbprint, uai.clientId),
        resource,
        peer: '10.3.0.4',
      };
      const answer = await a.call('POST', '/token', request);
      expect(answer.status).toBe(200);
      const token = answer.body as unknown as AgentTokenResponse;
      expect(token).toMatchObject({ clientId: uai.clientId, resource });
      expect(token.expiresOn - token.notBefore).toBe(86_700);
      const claims = await verify(token.accessToken, resource);
      expect(claims).toMatchObject({
        oid: uai.principalId,
        appid: uai.clientId,
        tid: h.tenantId,
        xms_mirid: uai.id,
        xms_az_rid: vm.id,
      });
      const audit = (await h.store.audit.list({ principalId: uai.principalId }, { limit: 1 }))
        .items[0];
      expect(audit).toMatchObject({ outcome: 'issued', vmId: vm.id, hostId: a.id });
      expect(audit?.details).toMatchObject({ peer: '10.3.0.4' });

      // The same assertion again is a replay.
      const replay = await a.call('POST', '/token', request);
      expect(replay.status).toBe(401);
      expect(errorCode(replay)).toBe('invalid_client');
      expect((replay.body?.error as { message: string }).message).toMatch(/^AADSTS50013: /);

      const system = (vm.identity as { principalId: string }).principalId;
      const principal = await h.store.principals.get(system);
      const own = await identityKey(a, system);
      const systemAnswer = await a.call('POST', '/token', {
        vmId: vm.id,
        clientAssertion: await clientAssertion(own.keys, own.thumbprint, principal?.appId ?? ''),
        resource: 'https://management.azure.com/',
      });
      expect(systemAnswer.status).toBe(200);
      const systemClaims = await verify(
        (systemAnswer.body as unknown as AgentTokenResponse).accessToken,
        'https://management.azure.com/',
      );
      expect(systemClaims).toMatchObject({ oid: system, appid: principal?.appId });
      expect(systemClaims.xms_mirid).toBe(vm.id);
      expect(systemClaims.xms_az_rid).toBeUndefined();
    });

    it('refuses a VM on another host, an identity the VM lacks and a bad assertion', async () => {
      const { keys, thumbprint } = await identityKey(a, uai.principalId);
      const token = async (host: RegisteredHost, vmId: unknown, assertion?: string) =>
        host.call('POST', '/token', {
          vmId,
          clientAssertion: assertion ?? (await clientAssertion(keys, thumbprint, uai.clientId)),
          resource: 'https://vault.azure.net',
        });

      // uai is attached to both VMs, but each VM is only its own host's to ask for.
      for (const refused of [await token(a, otherVm.id), await token(b, vm.id)]) {
        expect(refused.status).toBe(403);
        expect(errorCode(refused)).toBe('AuthorizationFailed');
      }
      expect(
        (await token(a, `${group}/providers/Microsoft.Compute/virtualMachines/none`)).status,
      ).toBe(403);
      const lacking = await token(
        a,
        vm.id,
        await clientAssertion(ecKeys(), thumbprint, elsewhere.clientId),
      );
      expect(lacking.status).toBe(403);

      const forged = await token(
        a,
        vm.id,
        await clientAssertion(ecKeys(), thumbprint, uai.clientId),
      );
      expect(forged.status).toBe(401);
      expect(errorCode(forged)).toBe('invalid_client');
      expect((forged.body?.error as { message: string }).message).toMatch(/^AADSTS700027: /);

      const malformed = await token(a, vm.id, 'not.a.jwt');
      expect(malformed.status).toBe(400);
      expect(errorCode(malformed)).toBe('invalid_request');

      const missing = await a.call('POST', '/token', { vmId: vm.id });
      expect(missing.status).toBe(400);
      expect(errorCode(missing)).toBe('InvalidParameter');
    });

    it('issues for a client id on the host session while the host holds a current certificate for it', async () => {
      const token = (host: RegisteredHost, vmId: unknown, clientId: string) =>
        host.call('POST', '/token', { vmId, clientId, resource: 'https://vault.azure.net' });
      const since = Date.now() - 1000;
      // Host B holds a certificate for uai (its VM has it); host A none yet: B's does not count.
      await identityKey(b, uai.principalId);
      for (const credential of await h.store.credentials.listForPrincipal(uai.principalId)) {
        if (credential.hostId === a.id) await h.store.credentials.revoke(credential.id);
      }
      const uncertified = await token(a, vm.id, uai.clientId);
      expect(uncertified.status).toBe(401);
      expect(errorCode(uncertified)).toBe('invalid_client');
      expect((uncertified.body?.error as { message: string }).message).toMatch(/^AADSTS700027: /);

      const { thumbprint } = await identityKey(a, uai.principalId);
      const first = await token(a, vm.id, uai.clientId.toUpperCase());
      expect(first.status).toBe(200);
      // No assertion, so nothing to replay: the same request mints again.
      const second = await token(a, vm.id, uai.clientId);
      expect(second.status).toBe(200);
      const issued = second.body as unknown as AgentTokenResponse;
      expect(issued.clientId).toBe(uai.clientId);
      expect(decodeJwt(issued.accessToken)).toMatchObject({
        oid: uai.principalId,
        appid: uai.clientId,
        appidacr: '2',
        xms_mirid: uai.id,
        xms_az_rid: vm.id,
      });
      const audit = await h.store.audit.list({ principalId: uai.principalId, since }, { limit: 5 });
      expect(audit.items.filter((e) => e.outcome === 'issued')).toHaveLength(2);
      expect(audit.items[0]).toMatchObject({ hostId: a.id, vmId: vm.id });
      expect(audit.items[0]?.details).toMatchObject({ auth: 'host', clientId: uai.clientId });

      // The same refusals as with an assertion: another host's VM, an identity the VM lacks.
      for (const refused of [
        await token(a, otherVm.id, uai.clientId),
        await token(b, vm.id, uai.clientId),
      ]) {
        expect(refused.status).toBe(403);
        expect(errorCode(refused)).toBe('AuthorizationFailed');
      }
      const lacking = await token(a, vm.id, elsewhere.clientId);
      expect(lacking.status).toBe(403);
      expect((lacking.body?.error as { target?: string }).target).toBe('clientId');

      // A revoked certificate stands for nothing.
      const held = await h.store.credentials.getByThumbprint('sha256', uai.principalId, thumbprint);
      await h.store.credentials.revoke(held?.id ?? '');
      expect((await token(a, vm.id, uai.clientId)).status).toBe(401);

      const both = await a.call('POST', '/token', {
        vmId: vm.id,
        clientId: uai.clientId,
        clientAssertion: 'a.b.c',
        resource: 'https://vault.azure.net',
      });
      expect(both.status).toBe(400);
      expect(errorCode(both)).toBe('InvalidParameter');
      const neither = await a.call('POST', '/token', { vmId: vm.id, resource: 'r' });
      expect(neither.status).toBe(400);
      expect(errorCode(neither)).toBe('InvalidParameter');
      expect((neither.body?.error as { target?: string }).target).toBe('clientId');
    });
  });

  describe('attested documents', () => {
    it('signs the document of a VM on the host (CMS, OpenSSL verifies) and refuses other hosts', async () => {
      const a = await h.newHost('attest-a');
      const b = await h.newHost('attest-b');
      const vm = (await putVm('attest-vm', { properties: placement(a.id, '10.4.0.4') })).body as {
        id: string;
        properties: { vmId: string };
      };
      const answer = await a.call('POST', '/attest', { vmId: vm.id, nonce: '1234567890' });
      expect(answer.status).toBe(200);
      const der = Buffer.from(String(answer.body?.signature), 'base64');
      const dir = mkdtempSync(join(tmpdir(), 'tessera-attest-'));
      try {
        const file = join(dir, 'doc.p7');
        writeFileSync(file, der);
        const opensslArgs = ['cms', '-verify', '-inform', 'DER', '-noverify', '-in', file];
        const content = execFileSync('openssl', opensslArgs, {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const document = JSON.parse(content) as Record<string, unknown>;
        expect(document).toMatchObject({
          nonce: '1234567890',
          vmId: vm.properties.vmId,
          subscriptionId: h.sub,
          sku: '',
          licenseType: '',
          plan: { name: '', product: '', publisher: '' },
        });
        const stamp = /^\d\d\/\d\d\/\d\d \d\d:\d\d:\d\d -0000$/;
        const timeStamp = document.timeStamp as { createdOn: string; expiresOn: string };
        expect(timeStamp.createdOn).toMatch(stamp);
        expect(timeStamp.expiresOn).toMatch(stamp);
        const signers = execFileSync('openssl', [...opensslArgs, '-signer', join(dir, 's.pem')], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        expect(signers).toBe(content);
        const signerText = execFileSync(
          'openssl',
          ['x509', '-in', join(dir, 's.pem'), '-noout', '-subject'],
          {
            encoding: 'utf8',
          },
        );
        expect(signerText).toContain('metadata.tessera');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }

      const refused = await b.call('POST', '/attest', { vmId: vm.id });
      expect(refused.status).toBe(403);
      expect(errorCode(refused)).toBe('AuthorizationFailed');
    });
  });

  describe('IMDS refusals', () => {
    const refusalEvents = async (hostId: string) =>
      (await h.store.audit.list({ outcome: 'refused' }, { limit: 1000 })).items.filter(
        (e) => e.kind === 'imds.refused' && e.hostId === hostId,
      );

    it('writes one audit event per reported address and reason, stamped by the server', async () => {
      const a = await h.newHost('refusals-a');
      const before = Date.now();
      const answer = await a.call('POST', '/refusals', {
        refusals: [
          {
            address: '10.7.0.9',
            reason: 'no VM has this address',
            count: 3,
            firstAt: before - 2_000,
            lastAt: before - 1_000,
          },
          {
            address: '::1',
            reason: 'two VMs claim this address',
            count: 1,
            firstAt: before,
            lastAt: before,
          },
        ],
      });
      expect(answer.status).toBe(204);
      const events = await refusalEvents(a.id);
      expect(events).toHaveLength(2);
      const byAddress = new Map(events.map((e) => [e.details.address, e]));
      expect(byAddress.get('10.7.0.9')).toMatchObject({
        outcome: 'refused',
        hostId: a.id,
        vmId: null,
        principalId: null,
        reason: 'no VM has this address',
        details: {
          count: 3,
          firstAt: new Date(before - 2_000).toISOString(),
          lastAt: new Date(before - 1_000).toISOString(),
        },
      });
      expect(byAddress.get('10.7.0.9')?.at).toBeGreaterThanOrEqual(before);
      expect(byAddress.get('::1')?.reason).toBe('two VMs claim this address');
    });

    it('refuses a malformed report whole, and anyone but a host', async () => {
      const a = await h.newHost('refusals-bad');
      const now = Date.now();
      const good = {
        address: '10.7.0.1',
        reason: 'no VM has this address',
        count: 1,
        firstAt: now,
        lastAt: now,
      };
      const cases: [unknown, string][] = [
        [{}, 'refusals'],
        [{ refusals: [] }, 'refusals'],
        [{ refusals: Array.from({ length: 257 }, () => good) }, 'refusals'],
        [{ refusals: [good, 'x'] }, 'refusals[1]'],
        [{ refusals: [good, { ...good, address: 'not-an-ip' }] }, 'refusals[1].address'],
        [{ refusals: [{ ...good, count: 0 }] }, 'refusals[0].count'],
        [{ refusals: [{ ...good, count: 1.5 }] }, 'refusals[0].count'],
        [{ refusals: [{ ...good, lastAt: now - 1 }] }, 'refusals[0].lastAt'],
        [
          { refusals: [{ ...good, firstAt: now + 3_600_000, lastAt: now + 3_600_000 }] },
          'refusals[0].firstAt',
        ],
        [{ refusals: [{ ...good, reason: 'r'.repeat(257) }] }, 'reason'],
      ];
      for (const [body, target] of cases) {
        const answer = await a.call('POST', '/refusals', body);
        expect(answer.status, JSON.stringify(body).slice(0, 80)).toBe(400);
        expect((answer.body?.error as { target?: string }).target).toBe(target);
      }
      expect(await refusalEvents(a.id)).toEqual([]);

      const anonymous = await h.agent('POST', '/refusals', { body: { refusals: [good] } });
      expect(anonymous.status).toBe(401);
      const operator = await h.agent('POST', '/refusals', {
        body: { refusals: [good] },
        headers: { authorization: `Bearer ${h.admin}` },
      });
      expect(operator.status).toBe(401);
    });
  });
});

describe('agent API: closing the server', () => {
  it('answers waiting long-polls at once instead of holding the close', async () => {
    const [sqlite] = storeTargets();
    const h = await startAgentServer(sqlite!);
    let closed = false;
    try {
      const host = await h.newHost('closing');
      const position = ((await host.call('GET', '/vms')).body as unknown as VmSync).position;
      expect(position).toBe(0);
      // An empty feed and no VM: nothing the agent does not know, so even a full sync waits.
      let settled = false;
      const polling = host.call('GET', `/vms?after=${position}&wait=60`).then((answer) => {
        settled = true;
        return answer;
      });
      await sleep(300);
      expect(settled).toBe(false);
      const started = Date.now();
      await h.close();
      closed = true;
      const answer = await polling;
      expect(answer.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      if (!closed) await h.close();
    }
  });
});
