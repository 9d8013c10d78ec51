// Tokens minted per second through the HTTP token endpoint vs raw RSA-2048 signatures on one core,
// in interleaved repetitions: each runs the signing loop here (the server idle), then the load.
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { createPrivateKey, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { SignJWT } from 'jose';
import { freePort } from '../src/server/runtime.js';
import {
  type Benchmark,
  type Measurement,
  median,
  measureOnce,
  repetitionsFor,
} from './harness.js';

interface ServerInfo {
  url: string;
  tenantId: string;
  appId: string;
  sha256: string;
  privateKeyPem: string;
}

/** `host-bound`: the client's certificate is a host's, so each mint checks the attachment. */
type Credential = 'host-bound' | 'application';

async function startServer(credential: Credential): Promise<{
  child: ChildProcessByStdio<null, Readable, null>;
  info: ServerInfo;
}> {
  const script = fileURLToPath(new URL('./token-server.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    [
      // `BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'` profiles the server, as elsewhere.
      ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== ''),
      '--import',
      'tsx',
      script,
      String(await freePort('127.0.0.1')),
      credential,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.setEncoding('utf8');
  while (!out.includes('\n')) {
    const [chunk] = (await once(child.stdout, 'data')) as [string];
    out += chunk;
  }
  return { child, info: JSON.parse(out.split('\n')[0] ?? '') as ServerInfo };
}

/** Client assertions made ahead of time, each with its own jti, so the load generator only sends. */
async function assertions(info: ServerInfo, count: number): Promise<string[]> {
  const key = createPrivateKey(info.privateKeyPem);
  const aud = `${info.url}/${info.tenantId}/oauth2/v2.0/token`;
  const now = Math.floor(Date.now() / 1000);
  const forms: string[] = [];
  for (let i = 0; i < count; i++) {
    const jwt = await new SignJWT({
      aud,
      iss: info.appId,
      sub: info.appId,
      jti: randomUUID(),
      nbf: now,
      exp: now + 600,
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', 'x5t#S256': info.sha256 })
      .sign(key);
    forms.push(
      new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: info.appId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: jwt,
        scope: 'https://management.azure.com/.default',
      }).toString(),
    );
  }
  return forms;
}

async function load(info: ServerInfo, forms: string[], seconds: number): Promise<Measurement> {
  let i = 0;
  const result = await autocannon({
    url: `${info.url}/${info.tenantId}/oauth2/v2.0/token`,
    connections: 16,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        setupRequest: (request) => ({ ...request, body: forms[i++ % forms.length] ?? '' }),
      },
    ],
  });
  if (result.non2xx > 0 || i > forms.length) {
    throw new Error(
      `token bench: ${result.non2xx} non-2xx answers (${i} requests, ${forms.length} assertions)`,
    );
  }
  return {
    opsPerSec: result['2xx'] / seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
  };
}

export const benchmark: Benchmark = {
  name: 'token minted via HTTP (assertion check, RS256, audit)',
  async run(options) {
    const seconds = options.smoke ? 1 : 5;
    const repetitions = repetitionsFor(options);
    const runs: Measurement[] = [];
    const unbound: Measurement[] = [];
    const signs: Measurement[] = [];
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const payload = Buffer.alloc(600, 1);
    const mints = async (credential: Credential): Promise<Measurement> => {
      // A fresh server per run: no replay-cache rows from the previous run.
      const { child, info } = await startServer(credential);
      try {
        const forms = await assertions(info, options.smoke ? 2_000 : 6_000 * seconds);
        return await load(info, forms, seconds);
      } finally {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    };
    for (let r = 0; r < repetitions; r++) {
      const signing = async (): Promise<void> => {
        signs.push(
          await measureOnce(() => Promise.resolve(sign('sha256', payload, privateKey)), options),
        );
      };
      if (r % 2 === 0) await signing();
      // Alternating which goes first, so drift in the machine's load favours neither.
      if (r % 2 === 0) runs.push(await mints('host-bound'));
      unbound.push(await mints('application'));
      if (r % 2 === 1) runs.push(await mints('host-bound'));
      if (r % 2 === 1) await signing();
    }
    process.stderr.write(
      `token-mint: host-bound ${runs.map((m) => m.opsPerSec.toFixed(0)).join(', ')}/s; application ${unbound.map((m) => m.opsPerSec.toFixed(0)).join(', ')}/s\n`,
    );
    const subject = median(runs, (m) => m.opsPerSec);
    const baseline = median(signs, (m) => m.opsPerSec);
    const withoutCheck = median(unbound, (m) => m.opsPerSec);
    return {
      name: this.name,
      subject,
      baselineName: 'crypto.sign RSA-2048, one core',
      baseline,
      targetRatio: 0.7,
      absoluteTargets: [
        {
          // A host's certificate costs one indexed read more per mint than an application's.
          name: 'attachment check, share of a mint (host-bound vs application certificate)',
          value: Math.max(0, (1 - subject.opsPerSec / withoutCheck.opsPerSec) * 100),
          unit: '%',
          below: 5,
        },
      ],
    };
  },
};
