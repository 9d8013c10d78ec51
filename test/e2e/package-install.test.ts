// The packed package as a CI job meets it: `npm pack`, `npm install <tgz>` in an empty directory, `npx tessera up`.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import {
  cp,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  realpath,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, ROOT, upArgs } from '../cli/cli-harness.js';

const exec = promisify(execFile);
/** Each step's limit: the pack compiles src/ and the portal, the install may compile SQLite. */
const STEP_MS = 240_000;
/** Packages only the build or the tests use: an installed Tessera must run without any of them. */
const DEV_ONLY = [
  'tsx',
  'esbuild',
  'typescript',
  'vite',
  'vitest',
  '@vitejs/plugin-react',
  'react',
];
/** What `up.json` holds that this suite reads (docs/reference/up-json.md). */
interface UpJson {
  readonly serverHttp: string;
  readonly portal: string;
  readonly ca: string;
  readonly tenantId: string;
}

/**
 * A user's shell: no TESSERA_* or Azure settings (cleanEnv), none of the npm_* variables `npm test`
 * gives its script, and no directory of the checkout on PATH, so nothing can reach its code.
 */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(cleanEnv()).filter(
      ([key]) => !/^npm_/i.test(key) && key !== 'INIT_CWD' && key !== 'NODE_OPTIONS',
    ),
  );
  const path = (env.PATH ?? '').split(delimiter).filter((dir) => !dir.startsWith(ROOT));
  return { ...env, PATH: path.join(delimiter), ...extra };
}

/** Runs `command` to its end in `cwd`; rejects with its output when it fails. */
async function run(
  command: string,
  args: readonly string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<string> {
  try {
    const options = { cwd, env: userEnv(env), timeout: STEP_MS, maxBuffer: 64 * 1024 * 1024 };
    return (await exec(command, args, options)).stdout;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')}: ${stderr.slice(-4000)}${stdout.slice(-2000)}`, {
      cause: error,
    });
  }
}

/** Whether the npm registry answers: outside CI an offline machine skips this suite. */
async function registryReachable(): Promise<boolean> {
  try {
    await exec('npm', ['ping'], { env: userEnv(), timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

/** The copy of the checkout `npm pack` runs in: what git tracks or would track, as in a clone. */
async function copyCheckout(into: string): Promise<void> {
  const listed = await run(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    ROOT,
  );
  for (const file of listed.split('\0')) {
    // A file deleted in the working tree is still in the index.
    if (file === '' || !existsSync(join(ROOT, file))) continue;
    await cp(join(ROOT, file), join(into, file), { recursive: true });
  }
  // The build tools come from the checkout's install; the build writes only into the copy.
  await symlink(join(ROOT, 'node_modules'), join(into, 'node_modules'), 'dir');
}

/** The version of package `name` installed under `dir`. */
async function installedVersion(dir: string, name: string): Promise<string> {
  const manifest = join(dir, 'node_modules', name, 'package.json');
  return (JSON.parse(await readFile(manifest, 'utf8')) as { version: string }).version;
}

/**
 * better-sqlite3's binary as a local prebuild, under the name prebuild-install would download
 * from GitHub: where GitHub answers the install fetches it, where it does not (here) it compiles
 * SQLite, a minute of CPU that a loaded machine turns into several. The binary is the checkout's
 * build of the same version for this Node; for another version the install compiles as usual.
 * Resolves with the environment that points prebuild-install at it, empty when there is none.
 */
async function localPrebuild(into: string): Promise<Record<string, string>> {
  const module = join(ROOT, 'node_modules', 'better-sqlite3');
  const binary = join('build', 'Release', 'better_sqlite3.node');
  if (!existsSync(join(module, binary))) return {};
  const version = await installedVersion(ROOT, 'better-sqlite3');
  const abi = process.versions.modules;
  const name = `better-sqlite3-v${version}-node-v${abi}-${process.platform}-${process.arch}.tar.gz`;
  await run('tar', ['-czf', join(into, name), '-C', module, binary], ROOT);
  return { npm_config_better_sqlite3_local_prebuilds: into };
}

/** GET `url` over HTTPS trusting `ca`; resolves with the status, content type and body. */
function httpsGet(
  url: string,
  ca: Buffer,
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        const type = response.headers['content-type'] ?? '';
        resolve({ status: response.statusCode ?? 0, type, body });
      });
    }).on('error', reject);
  });
}

/**
 * Verifies `token` with the installed package's own library (`import 'tessera'` from the project),
 * against the running server's signing keys. Resolves with where `tessera` resolved and the token's
 * tenant.
 */
async function verifyWithInstalledLibrary(
  project: string,
  token: string,
  up: UpJson,
): Promise<{ from: string; tenantId: string }> {
  // v1 discovery: IMDS tokens are v1 tokens, with its issuer.
  const discovery = `${up.serverHttp}/${up.tenantId}/.well-known/openid-configuration`;
  const { issuer, jwks_uri: jwks } = (await (await fetch(discovery)).json()) as {
    issuer: string;
    jwks_uri: string;
  };
  const script = join(project, 'verify.mjs');
  await writeFile(
    script,
    [
      "import { createAccessTokenVerifier, remoteJwksResolver } from 'tessera';",
      'const [token, jwks, issuer] = process.argv.slice(2);',
      'const verifier = createAccessTokenVerifier({',
      '  issuers: [issuer],',
      "  audiences: ['https://management.azure.com/'],",
      '  clock: { now: () => Date.now() },',
      '  keys: remoteJwksResolver(new URL(jwks)),',
      '});',
      'const { tenantId } = await verifier.verify(token);',
      "process.stdout.write(JSON.stringify({ from: import.meta.resolve('tessera'), tenantId }));",
      '',
    ].join('\n'),
  );
  const stdout = await run(process.execPath, [script, token, jwks, issuer], project);
  return JSON.parse(stdout) as { from: string; tenantId: string };
}

const online = process.env.CI === 'true' || (await registryReachable());
if (!online) console.warn('package-install: the npm registry is unreachable, suite skipped');

let work: string | undefined;
let project: string;
let dataDir: string;
let packed: string[];
let up: ChildProcess | undefined;
const output = { stdout: '', stderr: '' };

/** Signals what `npx tessera up` started (npx, sh, node: one process group); ESRCH if gone. */
function signalUp(signal: NodeJS.Signals): void {
  if (up?.pid === undefined) return;
  try {
    process.kill(-up.pid, signal);
  } catch {
    // already gone
  }
}

/** The processes of group `pgid`, from /proc: one line each, pid, state and command line. */
async function groupMembers(pgid: number): Promise<string> {
  const lines = [];
  for (const pid of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
    try {
      // After the command name, which may hold spaces and parentheses: state, ppid, pgrp.
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (group !== String(pgid)) continue;
      const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ');
      lines.push(`${pid} ${state ?? ''} ${args.trim()}`);
    } catch {
      // gone meanwhile
    }
  }
  return lines.join('\n');
}

/** Waits up to 10 s for group `pgid` to be empty; resolves with what is left of it. */
async function groupGone(pgid: number): Promise<string> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && (await groupMembers(pgid)) !== '') {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return groupMembers(pgid);
}

/** Starts `npx tessera up` in the project; resolves with up.json and the IMDS curl line it printed. */
async function startUp(): Promise<{ upJson: UpJson; curl: string }> {
  up = spawn('npx', ['tessera', ...upArgs(dataDir)], {
    cwd: project,
    env: userEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  up.stdout?.setEncoding('utf8').on('data', (d: string) => (output.stdout += d));
  up.stderr?.setEncoding('utf8').on('data', (d: string) => (output.stderr += d));
  const imdsCurl =
    /^\s+(curl -s 'http:\/\/[^']*\/metadata\/identity\/oauth2\/token[^']*' -H Metadata:true)$/m;
  const upFile = join(dataDir, 'up.json');
  const deadline = Date.now() + 90_000;
  // up.json appears once every surface answers; the curl line is printed by then.
  while (!existsSync(upFile) || !imdsCurl.test(output.stdout)) {
    if (up.exitCode !== null) throw new Error(`npx tessera up exited: ${output.stderr}`);
    if (Date.now() > deadline) throw new Error(`not ready: ${output.stdout.slice(-2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const upJson = JSON.parse(await readFile(upFile, 'utf8')) as UpJson;
  return { upJson, curl: imdsCurl.exec(output.stdout)?.[1] ?? '' };
}

describe.skipIf(!online)(
  'the packed package, installed from a tarball',
  { timeout: STEP_MS },
  () => {
    beforeAll(async () => {
      const root = await mkdtemp(join(tmpdir(), 'tessera-package-'));
      work = root;
      const checkout = join(root, 'checkout');
      const out = join(root, 'out');
      const prebuilds = join(root, 'prebuilds');
      project = join(root, 'project');
      dataDir = join(root, 'data');
      for (const dir of [checkout, out, prebuilds, project]) await mkdir(dir);

      // Packed in a copy: prepack and prepare rebuild dist/, which other suites serve meanwhile.
      await copyCheckout(checkout);
      // With --json npm writes the scripts' output to stderr, and only the JSON to stdout.
      const [result] = JSON.parse(
        await run('npm', ['pack', '--json', '--pack-destination', out], checkout),
      ) as { filename: string; files: { path: string }[] }[];
      if (result === undefined) throw new Error('npm pack made nothing');
      packed = result.files.map((file) => file.path);

      // An empty project, as `npm init -y` makes it, so that npm installs here and not above.
      const manifest = { name: 'uses-tessera', version: '1.0.0', private: true };
      await writeFile(join(project, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      const tarball = join(out, result.filename);
      const env = await localPrebuild(prebuilds);
      await run('npm', ['install', '--no-audit', '--no-fund', tarball], project, env);
      const sqlite = await installedVersion(project, 'better-sqlite3');
      if (sqlite !== (await installedVersion(ROOT, 'better-sqlite3'))) {
        console.warn(`package-install: better-sqlite3 ${sqlite} was compiled, not prebuilt`);
      }
    }, 2 * STEP_MS);

    afterAll(async () => {
      if (up !== undefined) {
        // The whole group, even when npx itself has gone: sh or node may have outlived it.
        const running = up.exitCode === null && up.signalCode === null;
        const closed = running ? once(up, 'close') : undefined;
        signalUp('SIGKILL');
        await closed;
      }
      if (work !== undefined) await rm(work, { recursive: true, force: true });
    });

    it('ships the compiled CLI, library, types and portal, and no sources', () => {
      expect(packed).toEqual(
        expect.arrayContaining([
          'bin/tessera.js',
          'dist/main.js',
          'dist/index.js',
          'dist/index.d.ts',
          'dist/portal/index.html',
          'package.json',
          'README.md',
        ]),
      );
      const unwanted = packed.filter(
        (path) =>
          /^(src|test|bench|portal|scripts|dist\/bundle)\//.test(path) ||
          (/\.(tsx?|map)$/.test(path) && !path.endsWith('.d.ts')) ||
          path.includes('.test.'),
      );
      expect(unwanted).toEqual([]);
    });

    it('installs a copy of its own, without the build and test tools', async () => {
      const installed = join(project, 'node_modules', 'tessera');
      // Under the temp dir, not a link back to the checkout.
      expect((await lstat(installed)).isSymbolicLink()).toBe(false);
      expect(await realpath(installed)).toBe(
        join(await realpath(project), 'node_modules', 'tessera'),
      );
      expect(existsSync(join(installed, 'src'))).toBe(false);
      const present = DEV_ONLY.filter((name) => existsSync(join(project, 'node_modules', name)));
      expect(present).toEqual([]);
    });

    it('answers `npx tessera --help`', async () => {
      const help = await run('npx', ['tessera', '--help'], project);
      expect(help).toMatch(/^Usage: tessera \[options\] \[command\]/);
      expect(help).toMatch(/^ {2}up \[options\]/m);
    });

    it('runs `npx tessera up`: the printed curl line gets a token, the portal is served', async () => {
      const { upJson, curl } = await startUp();

      // The process serving is the installed bin, run by node: nothing of the checkout.
      const group = await groupMembers(up?.pid ?? 0);
      expect(group).toContain(`${join(project, 'node_modules', '.bin', 'tessera')} up`);
      expect(group).not.toContain(ROOT);

      // The IMDS curl line, run exactly as printed.
      const { stdout: answer } = await exec('sh', ['-c', curl], { env: userEnv() });
      const token = (JSON.parse(answer) as { access_token?: string }).access_token ?? '';
      expect(decodeJwt(token)).toMatchObject({ aud: 'https://management.azure.com/' });

      // The library the package exports, from the install, accepts it.
      const verified = await verifyWithInstalledLibrary(project, token, upJson);
      const installed = join(await realpath(project), 'node_modules', 'tessera');
      expect(verified).toEqual({
        from: pathToFileURL(join(installed, 'dist', 'index.js')).href,
        tenantId: upJson.tenantId,
      });

      // The portal: the installed package's dist/portal/index.html.
      const page = await httpsGet(upJson.portal, await readFile(upJson.ca));
      expect([page.status, page.type]).toEqual([200, 'text/html; charset=utf-8']);
      expect(page.body).toContain('<title>Tessera portal</title>');
      expect(page.body).toBe(
        await readFile(join(installed, 'dist', 'portal', 'index.html'), 'utf8'),
      );

      // SIGTERM, as a CI job ends a background service: to the group npx, sh and node share.
      const closed = once(up as ChildProcess, 'close');
      signalUp('SIGTERM');
      await closed;
      expect(output.stdout).toContain('tessera up: stopped');
      // A clean stop removes up.json; npx and everything it started are gone.
      expect(existsSync(join(dataDir, 'up.json'))).toBe(false);
      expect(await groupGone(up?.pid ?? 0)).toEqual('');
    });
  },
);
