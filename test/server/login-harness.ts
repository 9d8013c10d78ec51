// A real login server on a real port over a real store, plus a client that signs assertions.
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { SignJWT } from 'jose';
import { createLogger } from '../../src/config/logger.js';
import { createCertificateSigningRequest } from '../../src/core/keys/x509.js';
import type { Principal, Tenant } from '../../src/core/model.js';
import type { Store } from '../../src/core/ports.js';
import { buildServer } from '../../src/server/app.js';
import { freePort } from '../../src/server/runtime.js';
import {
  createServerServices,
  defaultServiceSettings,
  type ServerServices,
} from '../../src/server/services.js';
import { openStore } from '../../src/store/index.js';
import { TEST_MASTER_KEY } from '../fixtures/keys.js';
import type { StoreTarget } from '../store/targets.js';

/** A clock the test moves by hand; starts at the real time so jose's own checks agree. */
export interface ManualClock {
  now(): number;
  advance(ms: number): void;
}

export function manualClock(start = Date.now()): ManualClock {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

export interface LoginHarness {
  readonly url: string;
  readonly store: Store;
  readonly services: ServerServices;
  readonly clock: ManualClock;
  readonly tenant: Tenant;
  close(): Promise<void>;
}

export async function startLogin(target: StoreTarget): Promise<LoginHarness> {
  const created = await target.create();
  const { store } = await openStore({ database: created.options, masterKey: TEST_MASTER_KEY });
  const clock = manualClock();
  const logger = createLogger({ level: 'silent' });
  let app: FastifyInstance | undefined;
  try {
    // The public URL must be known before the server listens (issuer, assertion audience).
    const probe = await freePort('127.0.0.1');
    const url = `http://127.0.0.1:${probe}`;
    const services = createServerServices(store, clock, defaultServiceSettings(url));
    const tenant = await services.directory.ensureDefaultTenant();
    app = await buildServer({ store, clock, logger, publicUrl: url, login: services.login });
    await app.listen({ port: probe, host: '127.0.0.1' });
    const listening = app;
    return {
      url,
      store,
      services,
      clock,
      tenant,
      close: async () => {
        await listening.close();
        await store.close();
        await created.dispose();
      },
    };
  } catch (error) {
    await app?.close();
    await store.close();
    await created.dispose();
    throw error;
  }
}

/** A principal with a certificate the directory's CA issued for a key only the test holds. */
export interface CertifiedClient {
  readonly principal: Principal;
  readonly privateKey: KeyObject;
  readonly sha1: string;
  readonly sha256: string;
  readonly credentialId: string;
}

export async function certifiedClient(
  h: LoginHarness,
  type: 'ManagedIdentity' | 'Application' = 'ManagedIdentity',
  keyType: 'rsa' | 'ec' = 'rsa',
): Promise<CertifiedClient> {
  const principal = await h.services.directory.createPrincipal({
    tenantId: h.tenant.id,
    displayName: `client-${randomUUID().slice(0, 8)}`,
    type,
    alternativeNames: [
      `/subscriptions/${randomUUID()}/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1`,
    ],
  });
  const pair =
    keyType === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const csrPem = await createCertificateSigningRequest({ ...pair, commonName: 'ignored' });
  const issued = await h.services.directory.issueCertificate(principal.objectId, csrPem, {});
  return {
    principal,
    privateKey: pair.privateKey,
    sha1: issued.credential.thumbprintSha1 ?? '',
    sha256: issued.credential.thumbprintSha256 ?? '',
    credentialId: issued.credential.id,
  };
}

export interface AssertionOptions {
  readonly alg?: 'RS256' | 'PS256' | 'ES256';
  readonly header?: Record<string, unknown>;
  readonly claims?: Record<string, unknown>;
  readonly key?: KeyObject;
  readonly audience?: string;
}

/** A client assertion as MSAL makes one: aud = token endpoint, iss = sub = client id, 10 min. */
export async function assertion(
  h: LoginHarness,
  client: CertifiedClient,
  options: AssertionOptions = {},
): Promise<string> {
  const alg = options.alg ?? 'RS256';
  const now = Math.floor(h.clock.now() / 1000);
  const header =
    alg === 'PS256' || alg === 'ES256'
      ? { alg, typ: 'JWT', 'x5t#S256': client.sha256 }
      : { alg, typ: 'JWT', x5t: client.sha1 };
  return new SignJWT({
    aud: options.audience ?? `${h.url}/${h.tenant.id}/oauth2/v2.0/token`,
    iss: client.principal.appId,
    sub: client.principal.appId,
    jti: randomUUID(),
    nbf: now,
    exp: now + 600,
    ...options.claims,
  })
    .setProtectedHeader({ ...header, ...options.header })
    .sign(options.key ?? client.privateKey);
}

/** POSTs a form to a token endpoint and returns status and parsed body. */
export async function postToken(
  h: LoginHarness,
  version: 'v1' | 'v2',
  form: Record<string, string>,
  headers: Record<string, string> = {},
  tenant = h.tenant.id,
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const path = version === 'v1' ? 'oauth2/token' : 'oauth2/v2.0/token';
  const response = await fetch(`${h.url}/${tenant}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    headers: response.headers,
  };
}
