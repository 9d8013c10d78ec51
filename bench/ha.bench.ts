// Two server replicas on one PostgreSQL (issue 24): an identity attached through one replica while the
// VM's agent long-polls the other -> first IMDS token (target p99 under 100 ms, as on one server);
// and tokens minted per second by one replica against two at once (on 2 cores: the overhead).
//
// Setup: `tessera server` replicas A and B as processes on a fresh schema of
// TESSERA_TEST_POSTGRES_URL (skipped without it), one agent given [A, B] (so it long-polls A), the
// VM at 127.0.0.1. Attach: identities made through A, each PATCH sent to B, IMDS asked until the
// token comes (bench/attach-samples.ts). Mints: an application with a certificate made in the
// shared store; client assertions for the installation's public URL, which both replicas accept;
// autocannon loads A alone, then A and B at once (16 connections each).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createCertificateSigningRequest } from '../src/core/keys/x509.js';
import { freePort } from '../src/server/runtime.js';
import { createServerServices, defaultServiceSettings } from '../src/server/services.js';
import { openStore } from '../src/store/index.js';
import {
  dropSchema,
  type Installation,
  type ServerReplica,
  startAgent,
  startReplica,
} from '../test/agent/replicas.js';
import { adminTokenFromFile } from '../test/fixtures/admin.js';
import { attachResult, runAttaches } from './attach-samples.js';
import {
  type Benchmark,
  type BenchResult,
  type Measurement,
  median,
  repetitionsFor,
} from './harness.js';
import { armCall, httpGet, loadAverage, VM_API } from './imds-fixture.js';
import { assertions, load, type ServerInfo } from './token-load.js';

const POSTGRES_URL = process.env.TESSERA_TEST_POSTGRES_URL;
const SKIPPED = 'TESSERA_TEST_POSTGRES_URL is not set (two replicas need PostgreSQL)';

/** Two replicas of a fresh installation; `close` stops them and drops the schema. */
async function twoReplicas(): Promise<{
  installation: Installation;
  replicas: [ServerReplica, ServerReplica];
  token: string;
  close: () => Promise<void>;
}> {
  const cleanups: (() => Promise<void>)[] = [];
  const installation: Installation = {
    postgresUrl: POSTGRES_URL ?? '',
    schema: `tessera_bench_ha_${process.pid}_${randomBytes(4).toString('hex')}`,
    masterKey: randomBytes(32).toString('base64'),
    publicUrl: 'http://tessera-ha.bench:8443',
  };
  cleanups.push(() => dropSchema(installation.postgresUrl, installation.schema));
  const close = async (): Promise<void> => {
    for (const step of cleanups.reverse()) await step().catch(() => undefined);
  };
  try {
    const a = await startReplica(installation, await freePort('127.0.0.1'), cleanups);
    const b = await startReplica(installation, await freePort('127.0.0.1'), cleanups);
    const token = await adminTokenFromFile(a.url, join(a.dataDir, 'admin.json'));
    return { installation, replicas: [a, b], token, close: () => close() };
  } catch (error) {
    await close();
    throw error;
  }
}

const crossReplicaAttach: Benchmark = {
  name: 'replicas: identity attached through B -> first IMDS token from an agent on A',
  async run(options): Promise<BenchResult> {
    if (POSTGRES_URL === undefined) return { name: this.name, skipped: SKIPPED };
    const loadBefore = loadAverage();
    const world = await twoReplicas();
    const cleanups: (() => Promise<void>)[] = [];
    try {
      const [a, b] = world.replicas;
      const armA = armCall(a.url, world.token);
      const host = (await armA('PUT', '/agent/v1/hosts/bench-ha', {})).body as {
        id: string;
        joinToken: string;
      };
      const agent = await startAgent([a.url, b.url], host.joinToken, cleanups);
      const groupPath = `/subscriptions/${a.subscriptionId}/resourceGroups/bench-ha`;
      await armA('PUT', `${groupPath}?api-version=2021-04-01`, { location: 'westeurope' });
      const vmPath = `${groupPath}/providers/Microsoft.Compute/virtualMachines/bench-vm`;
      await armA('PUT', `${vmPath}?${VM_API}`, {
        location: 'westeurope',
        identity: { type: 'SystemAssigned' },
        properties: { tessera: { hostId: host.id, privateIpAddresses: ['127.0.0.1'] } },
      });
      const info = `${agent.imdsUrl}/metadata/identity/info?api-version=2018-02-01`;
      for (let i = 0; (await httpGet(info, { Metadata: 'true' })).status !== 200; i++) {
        if (i > 1000) throw new Error('ha bench: IMDS never knew the VM');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const run = await runAttaches(
        {
          create: armA,
          attach: armCall(b.url, world.token),
          vmPath,
          groupPath,
          imdsUrl: agent.imdsUrl,
        },
        options,
      );
      return {
        name: this.name,
        ...attachResult('replicas attach', run, loadBefore, loadAverage()),
      };
    } finally {
      for (const step of cleanups.reverse()) await step().catch(() => undefined);
      await world.close();
    }
  },
};

/** An application with a certificate in the installation's store: what the load signs with. */
async function certificateClient(installation: Installation): Promise<Omit<ServerInfo, 'url'>> {
  const { store } = await openStore({
    database: {
      driver: 'postgres',
      url: installation.postgresUrl,
      schema: installation.schema,
    },
    masterKey: Buffer.from(installation.masterKey, 'base64'),
  });
  try {
    const services = createServerServices(
      store,
      { now: () => Date.now() },
      defaultServiceSettings(installation.publicUrl),
    );
    const tenant = await services.directory.ensureDefaultTenant();
    const principal = await services.directory.createPrincipal({
      tenantId: tenant.id,
      displayName: 'bench-ha',
      type: 'Application',
    });
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const csrPem = await createCertificateSigningRequest({ ...pair, commonName: 'bench-ha' });
    const issued = await services.directory.issueCertificate(principal.objectId, csrPem, {});
    return {
      tenantId: tenant.id,
      appId: principal.appId,
      sha256: issued.credential.thumbprintSha256 ?? '',
      privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
  } finally {
    await store.close();
  }
}

const mintScaling: Benchmark = {
  name: 'replicas: tokens minted per second by two replicas at once vs one (same PostgreSQL)',
  async run(options): Promise<BenchResult> {
    if (POSTGRES_URL === undefined) return { name: this.name, skipped: SKIPPED };
    const seconds = options.smoke ? 1 : 5;
    const world = await twoReplicas();
    try {
      const [a, b] = world.replicas;
      const client = await certificateClient(world.installation);
      // Signed for the public URL, which every replica accepts; sent to each replica's own.
      const signer: ServerInfo = { ...client, url: world.installation.publicUrl };
      const perLoad = options.smoke ? 2_000 : 6_000 * seconds;
      const ones: Measurement[] = [];
      const twos: Measurement[] = [];
      for (let r = 0; r < repetitionsFor(options); r++) {
        ones.push(
          await load({ ...client, url: a.url }, await assertions(signer, perLoad), seconds),
        );
        const [fromA, fromB] = await Promise.all([
          load({ ...client, url: a.url }, await assertions(signer, perLoad), seconds),
          load({ ...client, url: b.url }, await assertions(signer, perLoad), seconds),
        ]);
        twos.push({
          opsPerSec: fromA.opsPerSec + fromB.opsPerSec,
          p50Ms: Math.max(fromA.p50Ms, fromB.p50Ms),
          p99Ms: Math.max(fromA.p99Ms, fromB.p99Ms),
        });
      }
      return {
        name: this.name,
        subject: median(twos, (m) => m.opsPerSec),
        baselineName: 'one replica',
        baseline: median(ones, (m) => m.opsPerSec),
      };
    } finally {
      await world.close();
    }
  },
};

export const benchmarks: readonly Benchmark[] = [crossReplicaAttach, mintScaling];
