// Child process of the token benchmarks: a login server on a fresh SQLite store, one client.
// argv: port, `host-bound` | `application`, and optionally a foreign issuer's URL and CA file,
// which add a user-assigned identity federated with that issuer.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOidcIssuerKeys, type OidcIssuerKeys } from '../src/client/oidc-issuer-keys.js';
import { createLogger } from '../src/config/logger.js';
import { createCertificateSigningRequest } from '../src/core/keys/x509.js';
import type { Principal } from '../src/core/model.js';
import { RESOURCE_TYPES } from '../src/core/resource-types.js';
import { buildServer } from '../src/server/app.js';
import { createServerServices, defaultServiceSettings } from '../src/server/services.js';
import { openStore } from '../src/store/index.js';
import { FEDERATED_AUDIENCE, FEDERATED_SUBJECT } from './token-load.js';

const dir = await mkdtemp(join(tmpdir(), 'tessera-bench-token-'));
const { store } = await openStore({
  database: { driver: 'sqlite', file: join(dir, 'bench.db') },
  masterKey: Buffer.alloc(32, 3),
});
const clock = { now: () => Date.now() };
const VM_ID = '/subscriptions/s/resourcegroups/rg/providers/Microsoft.Compute/virtualMachines/vm';
const IDENTITY_ID =
  '/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/bench';
const port = Number(process.argv[2] ?? '0');
const url = `http://127.0.0.1:${port}`;
const [issuerUrl, caFile] = process.argv.slice(4);
// Loopback is allowed as in development: the bench's issuer listens on 127.0.0.1.
const federatedKeys: OidcIssuerKeys | undefined =
  issuerUrl === undefined || caFile === undefined
    ? undefined
    : createOidcIssuerKeys({
        allowLoopback: true,
        allowPrivate: false,
        caPem: await readFile(caFile, 'utf8'),
      });
const services = createServerServices(store, clock, {
  ...defaultServiceSettings(url),
  ...(federatedKeys === undefined ? {} : { federatedKeys }),
});
const tenant = await services.directory.ensureDefaultTenant();
const principal = await services.directory.createPrincipal({
  tenantId: tenant.id,
  displayName: 'bench',
  type: 'ManagedIdentity',
  alternativeNames: [VM_ID],
});
const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const csrPem = await createCertificateSigningRequest({ ...pair, commonName: 'bench' });
// `host-bound`: the certificate is issued to a host running a VM with the identity, as an agent's
// are, so every mint also checks the attachment; otherwise a plain application certificate.
const hostId = process.argv[3] === 'host-bound' ? await placeOnHost(principal.objectId) : undefined;
const issued = await services.directory.issueCertificate(
  principal.objectId,
  csrPem,
  hostId === undefined ? {} : { hostId },
);
const federated =
  issuerUrl === undefined ? undefined : await federatedIdentity(tenant.id, issuerUrl);
await services.signingKeys.signingKey(); // make the first signing key before the clock starts
const app = await buildServer({
  store,
  clock,
  logger: createLogger({ level: 'silent' }),
  publicUrl: url,
  login: services.login,
});
await app.listen({ port, host: '127.0.0.1' });
process.stdout.write(
  `${JSON.stringify({
    url,
    tenantId: tenant.id,
    appId: principal.appId,
    sha256: issued.credential.thumbprintSha256,
    // A throwaway key of a throwaway store, handed to the load generator in the parent.
    privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }),
    ...(federated === undefined ? {} : { federatedClientId: federated.appId }),
  })}\n`,
);

/**
 * A user-assigned identity (its resource and principal, as ARM makes them) with a federated
 * credential trusting `issuer`'s tokens for {@link FEDERATED_SUBJECT}; its principal.
 */
async function federatedIdentity(tenantId: string, issuer: string): Promise<Principal> {
  const now = clock.now();
  const identity = await services.directory.createPrincipal({
    tenantId,
    displayName: 'bench',
    type: 'ManagedIdentity',
    alternativeNames: [IDENTITY_ID],
  });
  const placement = { subscriptionId: 's', resourceGroup: 'rg', tags: {}, createdAt: now };
  await store.resources.put({
    ...placement,
    id: IDENTITY_ID,
    type: RESOURCE_TYPES.userAssignedIdentities,
    name: 'bench',
    location: 'westeurope',
    properties: {
      tenantId,
      principalId: identity.objectId,
      clientId: identity.appId,
      isolationScope: 'None',
    },
    updatedAt: now,
  });
  await store.resources.put({
    ...placement,
    id: `${IDENTITY_ID}/federatedIdentityCredentials/bench-web`,
    type: RESOURCE_TYPES.federatedCredentials,
    name: 'bench-web',
    location: null,
    properties: {
      issuer,
      subject: FEDERATED_SUBJECT,
      audiences: [FEDERATED_AUDIENCE],
    },
    updatedAt: now,
  });
  return identity;
}

/** A host and a VM placed on it with `principalId` attached; the host's id. */
async function placeOnHost(principalId: string): Promise<string> {
  const now = clock.now();
  const id = randomUUID();
  await store.hosts.create({
    id,
    name: 'bench-host',
    joinTokenHash: null,
    certificateThumbprint: null,
    registeredAt: now,
    lastSeenAt: now,
    createdAt: now,
  });
  await store.resources.put({
    id: VM_ID,
    type: 'Microsoft.Compute/virtualMachines',
    name: 'vm',
    subscriptionId: 's',
    resourceGroup: 'rg',
    location: 'westeurope',
    tags: {},
    properties: { tessera: { hostId: id } },
    createdAt: now,
    updatedAt: now,
  });
  await store.attachments.attach({
    resourceId: VM_ID,
    principalId,
    kind: 'SystemAssigned',
    identityResourceId: VM_ID,
    createdAt: now,
  });
  return id;
}

const stop = (): void => {
  federatedKeys?.close();
  void app
    .close()
    .then(() => store.close())
    .then(() => rm(dir, { recursive: true, force: true }));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
