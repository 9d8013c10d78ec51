// Child process of the token-mint benchmark: a login server on a fresh SQLite store, one client.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../src/config/logger.js';
import { createCertificateSigningRequest } from '../src/core/keys/x509.js';
import { buildServer } from '../src/server/app.js';
import { createServerServices, defaultServiceSettings } from '../src/server/services.js';
import { openStore } from '../src/store/index.js';

const dir = await mkdtemp(join(tmpdir(), 'tessera-bench-token-'));
const { store } = await openStore({
  database: { driver: 'sqlite', file: join(dir, 'bench.db') },
  masterKey: Buffer.alloc(32, 3),
});
const clock = { now: () => Date.now() };
const VM_ID = '/subscriptions/s/resourcegroups/rg/providers/Microsoft.Compute/virtualMachines/vm';
const port = Number(process.argv[2] ?? '0');
const url = `http://127.0.0.1:${port}`;
const services = createServerServices(store, clock, defaultServiceSettings(url));
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
  })}\n`,
);

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
  void app.close().then(() => store.close());
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
