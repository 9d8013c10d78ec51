// IMDS on 169.254.169.254 for network-namespace VMs on a host bridge: identity by source address, isolation, anti-spoofing, the legacy shim.
import { IP, NFT, skipForMissingTools } from '../fixtures/system-tools.js';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { allowPorts, networkDown, networkUp } from '../../src/agent/network.js';
import { startAgentRuntime } from '../../src/agent/runtime.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/config/logger.js';
import {
  BRIDGE,
  claimsOf,
  createWorld,
  type HostSnapshot,
  inNamespace,
  type Json,
  type NetnsVm,
  readdress,
  removeLeftovers,
  requireNamespaces,
  run,
  snapshotHost,
  TABLE,
  type World,
} from './harness.js';

const execFileAsync = promisify(execFile);
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SEED_URL =
  'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F';
const LOAD_VMS = 50;
const LOAD_SECONDS = 10;

/** The seed's curl, from inside `vm`, with a short timeout; `extra` is appended to the query. */
async function seedCurl(
  vm: NetnsVm,
  extra = '',
): Promise<{ code: number; status: number; body: Json }> {
  const result = await inNamespace(vm.ns, 'curl', [
    '-sS',
    '-m',
    '2',
    '-w',
    '\n%{http_code}',
    `${SEED_URL}${extra}`,
    '-H',
    'Metadata:true',
  ]);
  const cut = result.stdout.lastIndexOf('\n');
  const text = result.stdout.slice(0, Math.max(cut, 0));
  return {
    code: result.code,
    status: Number(result.stdout.slice(cut + 1)),
    body: text === '' ? {} : (JSON.parse(text) as Json),
  };
}

const sameId = (a: unknown, b: string | undefined): boolean =>
  typeof a === 'string' && b !== undefined && a.toLowerCase() === b.toLowerCase();

describe.skipIf(skipForMissingTools('test/netns', [IP, NFT]))(
  'IMDS on a host bridge, called from network namespaces',
  () => {
    let before: HostSnapshot;
    let world: World | undefined;
    let vmA: NetnsVm;
    let vmB: NetnsVm;
    let stranger: NetnsVm;
    let uaiB: { id: string; clientId: string };

    const theWorld = (): World => {
      if (world === undefined) throw new Error('no world');
      return world;
    };

    beforeAll(async () => {
      await requireNamespaces();
      await removeLeftovers();
      before = await snapshotHost();
      world = await createWorld();
      const uai = await world.arm(
        'PUT',
        `${world.groupPath}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uai-b?api-version=2023-01-31`,
        { location: 'westeurope' },
      );
      expect(uai.status).toBe(201);
      uaiB = {
        id: uai.body.id as string,
        clientId: (uai.body.properties as { clientId: string }).clientId,
      };
      [vmA] = (await world.addVms(['va'], 0)) as [NetnsVm];
      [vmB] = (await world.addVms(['vb'], 1, {
        type: 'SystemAssigned, UserAssigned',
        userAssignedIdentities: { [uaiB.id]: {} },
      })) as [NetnsVm];
      stranger = await world.addStranger('x', 2);
      await world.startAgent();
    });

    afterAll(async () => {
      await world?.close();
    });

    it("answers the seed's curl with a token for the calling VM, and only that VM", async () => {
      for (const vm of [vmA, vmB]) {
        const answer = await seedCurl(vm);
        expect(answer.status).toBe(200);
        expect(answer.body.token_type).toBe('Bearer');
        expect(answer.body.resource).toBe('https://management.azure.com/');
        const claims = claimsOf(answer.body.access_token as string);
        expect(sameId(claims.xms_mirid, vm.id)).toBe(true);
        expect(claims.aud).toBe('https://management.azure.com/');
      }
    });

    it('serves ManagedIdentityCredential of @azure/identity with no environment at all', async () => {
      const script = [
        "import { ManagedIdentityCredential } from '@azure/identity';",
        'const token = await new ManagedIdentityCredential().getToken(',
        "  'https://management.azure.com/.default',",
        ');',
        'process.stdout.write(JSON.stringify({ token: token.token }));',
      ].join('\n');
      const result = await inNamespace(
        vmB.ns,
        process.execPath,
        ['--input-type=module', '-e', script],
        { env: {}, cwd: REPO, timeoutMs: 30_000 },
      );
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const claims = claimsOf((JSON.parse(result.stdout) as { token: string }).token);
      expect(sameId(claims.xms_mirid, vmB.id)).toBe(true);
    });

    it("refuses VM A another VM's user-assigned identity, and gives VM B its own", async () => {
      const theirs = await seedCurl(vmA, `&client_id=${uaiB.clientId}`);
      expect(theirs.status).toBe(400);
      expect(theirs.body).toEqual({
        error: 'invalid_request',
        error_description: 'Identity not found',
      });
      const own = await seedCurl(vmB, `&client_id=${uaiB.clientId}`);
      expect(own.status).toBe(200);
      expect(sameId(claimsOf(own.body.access_token as string).xms_mirid, uaiB.id)).toBe(true);
    });

    it('refuses a namespace that is no VM, in the IMDS error form', async () => {
      const answer = await seedCurl(stranger);
      expect(answer.status).toBe(400);
      expect(answer.body.error).toBe('unauthorized_client');
      expect(typeof answer.body.error_description).toBe('string');
      expect(answer.body).not.toHaveProperty('access_token');
    });

    it("drops a namespace that takes another VM's address once anti-spoofing is on", async () => {
      // Without the rules the address alone names the caller: the stranger gets VM A's token.
      await readdress(stranger, vmA.address);
      try {
        const spoofed = await seedCurl(stranger);
        expect(spoofed.status).toBe(200);
        expect(sameId(claimsOf(spoofed.body.access_token as string).xms_mirid, vmA.id)).toBe(true);
      } finally {
        await readdress(stranger, stranger.address);
        await run('ip', ['neigh', 'flush', 'dev', BRIDGE]);
      }

      await networkUp({ bridge: BRIDGE, table: TABLE, antiSpoofing: true });
      await allowPorts(theWorld().namespaces, { table: TABLE });
      await run('ip', ['neigh', 'flush', 'dev', BRIDGE]);
      // Legitimate callers are untouched by the rules; the stranger is still only refused.
      expect((await seedCurl(vmA)).status).toBe(200);
      expect((await seedCurl(stranger)).status).toBe(400);

      await readdress(stranger, vmA.address);
      try {
        const dropped = await seedCurl(stranger);
        expect(dropped.code).toBe(28); // curl: operation timed out
        expect(dropped.body).toEqual({});
      } finally {
        await readdress(stranger, stranger.address);
        await run('ip', ['neigh', 'flush', 'dev', BRIDGE]);
      }
      // VM A's own traffic still flows after the attempt.
      const own = await seedCurl(vmA);
      expect(sameId(claimsOf(own.body.access_token as string).xms_mirid, vmA.id)).toBe(true);
      // And 169.254.169.254 is unreachable except over the bridge: the host itself is dropped.
      const fromHost = await run('curl', ['-sS', '-m', '1', SEED_URL, '-H', 'Metadata:true']);
      expect(fromHost.code).toBe(28);
    });

    it('serves the legacy extension endpoint from a shim inside the VM, which keeps no credential', async () => {
      const workDir = await mkdtemp(join(tmpdir(), 'tessera-netns-shim-'));
      const tsx = join(REPO, 'node_modules/tsx/dist/loader.mjs');
      const shim = spawn(
        'ip',
        [
          'netns',
          'exec',
          vmA.ns,
          process.execPath,
          '--import',
          tsx,
          join(REPO, 'src/main.ts'),
          'extension',
          '--host',
          '127.0.0.1',
          '--port',
          '50342',
        ],
        {
          cwd: workDir,
          // Anything the shim writes to its home or temp dir lands in workDir; tsx's own
          // compile cache is switched off so that only the shim's files could be there.
          env: { HOME: workDir, TMPDIR: workDir, TSX_DISABLE_CACHE: '1' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let output = '';
      shim.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      shim.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      try {
        const deadline = Date.now() + 20_000;
        while (!output.includes('ready')) {
          if (shim.exitCode !== null || Date.now() > deadline) {
            throw new Error(`the shim did not start: ${output}`);
          }
          await new Promise((r) => setTimeout(r, 50));
        }
        const result = await inNamespace(vmA.ns, 'curl', [
          '-sS',
          '-m',
          '5',
          'http://localhost:50342/oauth2/token?resource=https://management.azure.com/',
          '-H',
          'Metadata:true',
        ]);
        expect(result.code).toBe(0);
        const body = JSON.parse(result.stdout) as Json;
        expect(sameId(claimsOf(body.access_token as string).xms_mirid, vmA.id)).toBe(true);
      } finally {
        const exited = new Promise((r) => shim.once('exit', r));
        if (shim.exitCode === null) shim.kill('SIGTERM');
        await exited;
      }
      // Nothing at all, so no key, certificate or token either.
      expect(await readdir(workDir, { recursive: true })).toEqual([]);
      await rm(workDir, { recursive: true, force: true });
    });

    it(`answers ${LOAD_VMS} VMs fetching tokens for ${LOAD_SECONDS} s each with their own identity`, async () => {
      const w = theWorld();
      const vms = await w.addVms(
        Array.from({ length: LOAD_VMS }, (_, i) => `l${String(i)}`),
        100,
      );
      await allowPorts(vms, { table: TABLE });
      await w.agentKnowsAll();
      // Each VM's shell loop: one JSON answer (or curl error) per line until time is up.
      // One curl per 20 requests (on one kept-alive connection): forking per request would
      // measure the fork rate of a 2-core machine, not IMDS.
      const urls = Array.from({ length: 20 }, () => `'${SEED_URL}'`).join(' ');
      // A generous curl limit: this checks whose tokens come back, not how fast, and CI runs other
      // suites beside this one on two cores.
      const loop = `end=$(( $(date +%s) + ${String(LOAD_SECONDS)} )); while [ "$(date +%s)" -lt "$end" ]; do curl -sS -m 40 -H Metadata:true -w '\\n' ${urls}; done`;
      const started = Date.now();
      const results = await Promise.all(
        vms.map((vm) => inNamespace(vm.ns, 'sh', ['-c', loop], { timeoutMs: 100_000 })),
      );
      expect(Date.now() - started).toBeLessThan((LOAD_SECONDS + 60) * 1000);
      let total = 0;
      results.forEach((result, i) => {
        const vm = vms[i]!;
        expect(result.stderr).toBe('');
        const lines = result.stdout.split('\n').filter((l) => l !== '');
        expect(lines.length).toBeGreaterThanOrEqual(5);
        const mirids = new Set<string>();
        for (const token of new Set(lines.map((l) => (JSON.parse(l) as Json).access_token))) {
          mirids.add(String(claimsOf(token as string).xms_mirid).toLowerCase());
        }
        expect([...mirids]).toEqual([vm.id?.toLowerCase()]);
        total += lines.length;
      });
      expect(total).toBeGreaterThan(LOAD_VMS * 5);
    }, 150_000);

    it('brings the bridge up from the agent configuration before it reaches the server', async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'tsr-agent-cfg-'));
      try {
        const config = loadConfig({
          env: {},
          cwd: dataDir,
          flags: {
            dataDir,
            'agent.network.bridge': 'tsr-cfg0',
            'agent.serverUrl': 'http://127.0.0.1:9',
          },
        });
        // With no join token it cannot register: it fails, after making the network.
        await expect(
          startAgentRuntime({ config, logger: createLogger({ level: 'silent' }) }),
        ).rejects.toMatchObject({ code: 'ConfigInvalid' });
        const { stdout } = await execFileAsync('ip', ['-o', 'addr', 'show', 'dev', 'tsr-cfg0']);
        expect(stdout).toContain('169.254.169.254/32');
      } finally {
        await networkDown({ bridge: 'tsr-cfg0' });
        await rm(dataDir, { recursive: true, force: true });
      }
    });

    it('leaves no namespace, link or nftables rule behind', async () => {
      await theWorld().close();
      world = undefined;
      expect(await snapshotHost()).toEqual(before);
    });
  },
);
