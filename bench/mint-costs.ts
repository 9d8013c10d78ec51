// What one token mint costs, part by part, in CPU time: `npx tsx bench/mint-costs.ts` (not run by `npm run bench`).
//
// The token-mint and IMDS-mint benchmarks give a rate; this says where a mint's CPU goes, so the
// rate can be explained: raw RSA-2048 signing (the baseline), the same signature through jose and
// Web Crypto, the ES256 check of the client assertion, the store reads an issue makes, the
// issuer's whole `issue()` with 32 in flight, and the same through fastify's `inject` (the HTTP
// route without sockets). CPU is `process.cpuUsage()` over the whole process, libuv's pool
// included. Run it on a quiet machine.
import { generateKeyPairSync, type KeyObject, randomUUID, sign, webcrypto } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jwtVerify, SignJWT } from 'jose';
import { createLogger } from '../src/config/logger.js';
import { createCertificateSigningRequest } from '../src/core/keys/x509.js';
import { buildServer } from '../src/server/app.js';
import { createServerServices, defaultServiceSettings } from '../src/server/services.js';
import { openStore } from '../src/store/index.js';
import { parseTokenRequest } from '../src/wire/oauth/token-request.js';
import { signRs256 } from '../src/core/tokens/jws.js';

const N = Number(process.env.MINT_COSTS_N ?? '3000');
const CONCURRENCY = 32;
const URL_BASE = 'http://127.0.0.1:1';

/** Runs `op` `n` times, `concurrency` at a time; prints CPU and wall time per op in microseconds. */
async function cost(
  label: string,
  n: number,
  concurrency: number,
  op: (i: number) => unknown,
): Promise<void> {
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await op(next++);
    }),
  );
  const used = process.cpuUsage(cpu);
  const wall = performance.now() - started;
  const perOp = (used.user + used.system) / n;
  process.stdout.write(
    `${label.padEnd(58)} ${perOp.toFixed(0).padStart(6)} us CPU  ${((wall * 1000) / n).toFixed(0).padStart(6)} us wall\n`,
  );
}

/** RSA-SHA256 signatures made by worker threads, one per core, round robin. */
function signingPool(key: KeyObject): {
  sign(data: Buffer): Promise<Buffer>;
  close(): Promise<unknown>;
} {
  const source = `const { parentPort, workerData } = require('node:worker_threads');
    const { createPrivateKey, sign } = require('node:crypto');
    const key = createPrivateKey(workerData);
    parentPort.on('message', ({ id, data }) => parentPort.postMessage({ id, signature: sign('sha256', data, key) }));`;
  const pem = key.export({ type: 'pkcs8', format: 'pem' });
  const workers = Array.from(
    { length: availableParallelism() },
    () => new Worker(source, { eval: true, workerData: pem }),
  );
  const waiting = new Map<number, (signature: Buffer) => void>();
  for (const worker of workers) {
    worker.on('message', ({ id, signature }: { id: number; signature: Uint8Array }) => {
      waiting.get(id)?.(Buffer.from(signature));
      waiting.delete(id);
    });
  }
  let sequence = 0;
  return {
    sign: (data) =>
      new Promise((resolve) => {
        const id = sequence++;
        waiting.set(id, resolve);
        workers[id % workers.length]?.postMessage({ id, data });
      }),
    close: () => Promise.all(workers.map((worker) => worker.terminate())),
  };
}

const dir = await mkdtemp(join(tmpdir(), 'tessera-mint-costs-'));
const { store } = await openStore({
  database: { driver: 'sqlite', file: join(dir, 'costs.db') },
  masterKey: Buffer.alloc(32, 3),
});
try {
  const clock = { now: () => Date.now() };
  const services = createServerServices(store, clock, defaultServiceSettings(URL_BASE));
  const tenant = await services.directory.ensureDefaultTenant();
  const principal = await services.directory.createPrincipal({
    tenantId: tenant.id,
    displayName: 'costs',
    type: 'ManagedIdentity',
    alternativeNames: ['/subscriptions/s/resourcegroups/rg/providers/Microsoft.Compute/vm'],
  });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const csr = await createCertificateSigningRequest({ ...ec, commonName: 'costs' });
  const { credential } = await services.directory.issueCertificate(principal.objectId, csr, {});
  await services.signingKeys.signingKey();
  const thumbprint = credential.thumbprintSha256 ?? '';
  const app = await buildServer({
    store,
    clock,
    logger: createLogger({ level: 'silent' }),
    publicUrl: URL_BASE,
    login: services.login,
  });
  await app.ready();

  // Client assertions made ahead, each with its own jti, as the agent makes them.
  const now = Math.floor(Date.now() / 1000);
  const assertion = (): Promise<string> =>
    new SignJWT({
      aud: `${URL_BASE}/${tenant.id}/oauth2/v2.0/token`,
      iss: principal.appId,
      sub: principal.appId,
      jti: randomUUID(),
      nbf: now,
      exp: now + 600,
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', 'x5t#S256': thumbprint })
      .sign(ec.privateKey);
  const forms: string[] = [];
  for (let i = 0; i < 2 * N; i++) {
    forms.push(
      new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: principal.appId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await assertion(),
        scope: 'https://management.azure.com/.default',
      }).toString(),
    );
  }
  const verifyKey = await webcrypto.subtle.importKey(
    'spki',
    ec.publicKey.export({ type: 'spki', format: 'der' }),
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['verify'],
  );
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signKey = await webcrypto.subtle.importKey(
    'pkcs8',
    rsa.privateKey.export({ type: 'pkcs8', format: 'der' }),
    { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const payload = Buffer.alloc(600, 1);
  const claims = { aud: 'https://management.azure.com/', iss: URL_BASE, uti: 'x', ver: '1.0' };
  const assertionOf = (i: number): string =>
    new URLSearchParams(forms[i]).get('client_assertion') ?? '';

  await cost('raw crypto.sign RSA-2048 (the baseline), one at a time', N, 1, () =>
    sign('sha256', payload, rsa.privateKey),
  );
  await cost('jose RS256 sign, Web Crypto key', N, CONCURRENCY, () =>
    new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k' }).sign(signKey),
  );
  await cost('signRs256 (node:crypto, thread pool): what the issuer uses', N, CONCURRENCY, () =>
    signRs256({ alg: 'RS256', kid: 'k' }, claims, rsa.privateKey),
  );
  // The alternative issue 25 asked to measure: the same signatures in a worker_threads pool (one
  // worker per core, the key imported once in each). The message round trip costs more than
  // libuv's hand-off, so the issuer keeps node:crypto's callback form.
  const pool = signingPool(rsa.privateKey);
  try {
    await cost('the same, in a worker_threads pool (one per core)', N, CONCURRENCY, () =>
      pool.sign(payload),
    );
  } finally {
    await pool.close();
  }
  await cost('jose ES256 verify of a client assertion', N, CONCURRENCY, (i) =>
    jwtVerify(assertionOf(i), verifyKey),
  );
  await cost('store: principal by client id', N, 1, () =>
    store.principals.getByAppId(principal.appId),
  );
  await cost('store: certificate credential by thumbprint', N, 1, () =>
    store.credentials.getByThumbprint('sha256', principal.objectId, thumbprint),
  );
  let k = 0;
  await cost('issuer: whole issue() (checks, sign, audit)', N / 2, CONCURRENCY, () => {
    const body = Object.fromEntries(new URLSearchParams(forms[k++] ?? ''));
    return services.tokens.issue(
      tenant.id,
      parseTokenRequest({ version: 'v2', body, authorization: undefined }),
      {},
    );
  });
  await cost('HTTP route through fastify inject (no sockets)', N, CONCURRENCY, async () => {
    const answer = await app.inject({
      method: 'POST',
      url: `/${tenant.id}/oauth2/v2.0/token`,
      payload: forms[k++] ?? '',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    if (answer.statusCode !== 200) throw new Error(answer.body);
  });
  await app.close();
} finally {
  await store.close();
  await rm(dir, { recursive: true, force: true });
}
