// `npm start` as a new user meets it: the printed IMDS curl line and SDK environment lines work as printed.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, ROOT } from '../cli/cli-harness.js';

const exec = promisify(execFile);
/** The repository's `@azure/identity` (ESM entry), imported by absolute URL from a temp script. */
const IDENTITY = pathToFileURL(join(ROOT, 'node_modules/@azure/identity/dist/esm/index.js')).href;
/** The ports `tessera up` listens on by default (server, HTTPS, IMDS, metrics). */
const DEFAULT_PORTS = [8443, 8444, 8080, 9464];

/** True when nothing listens on 127.0.0.1:`port`. */
async function free(port: number): Promise<boolean> {
  const server = createServer();
  try {
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    server.close();
  }
}

/** The commands of the README's tour: its first `sh` block after the heading, one per line. */
function readmeTour(readme: string): string[] {
  const block = /## A five-minute tour[^\n]*\n+```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  if (block === undefined) throw new Error('README.md has no tour block');
  return block.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
}

let dir: string;
let npm: ChildProcess | undefined;
const output = { stdout: '', stderr: '' };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-npm-start-'));
});
afterAll(async () => {
  // npm runs sh, tsx and node: the whole process group goes, whatever happened (ESRCH if gone).
  if (npm?.pid !== undefined) {
    try {
      process.kill(-npm.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await rm(dir, { recursive: true, force: true });
});

/** Waits for `text` on npm's stdout; fails with what it printed if it exits or takes 90 s. */
async function until(text: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (!output.stdout.includes(text)) {
    if (npm?.exitCode !== null) throw new Error(`npm start exited: ${output.stderr}`);
    if (Date.now() > deadline) throw new Error(`no '${text}' in: ${output.stdout.slice(-2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('npm start, as in the quick start', { timeout: 180_000 }, () => {
  it('serves the printed curl line and the Azure SDK with the printed environment', async () => {
    // Default ports, as a new user gets them; only if another program holds one, ports from the OS.
    const busy = [];
    for (const port of DEFAULT_PORTS) if (!(await free(port))) busy.push(port);
    const osPorts =
      busy.length === 0
        ? []
        : ['server.port', 'server.httpsPort', 'agent.imds.port', 'agent.metrics.port'].flatMap(
            (key) => ['--set', `${key}=0`],
          );
    if (busy.length > 0) console.warn(`ports ${busy.join(', ')} are taken: using OS ports`);

    // The data directory through the environment, so the README's commands below find it as
    // they would find `./.tessera`, run exactly as written.
    const userEnv = { TESSERA_DATA_DIR: join(dir, 'data') };
    npm = spawn('npm', ['start', '--', ...osPorts], {
      cwd: ROOT,
      env: cleanEnv(userEnv),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    npm.stdout?.setEncoding('utf8').on('data', (d: string) => (output.stdout += d));
    npm.stderr?.setEncoding('utf8').on('data', (d: string) => (output.stderr += d));
    await until('tessera up: ready at');

    // What a new user reads before "ready": npm's lines and the banner, no log lines, fewer than
    // 25 lines in all (stdout and stderr alike).
    const beforeReady = output.stdout.slice(0, output.stdout.indexOf('tessera up: ready at'));
    const terminalLines =
      beforeReady.split('\n').length + output.stderr.split('\n').filter((l) => l !== '').length;
    expect(terminalLines, `${output.stdout}${output.stderr}`).toBeLessThan(25);
    expect(output.stdout).not.toContain('"level"');
    expect(output.stdout).toMatch(/^ {2}master key: {2}\S+, NEW: back it up/m);
    expect(output.stdout).toMatch(/^Tessera is running: /m);

    // The IMDS curl line, run exactly as printed.
    const curl =
      /^\s+(curl -s 'http:\/\/[^']*\/metadata\/identity\/oauth2\/token[^']*' -H Metadata:true)$/m.exec(
        output.stdout,
      )?.[1];
    expect(curl).toBeDefined();
    const { stdout: answer } = await exec('sh', ['-c', curl ?? 'false'], { env: cleanEnv() });
    const token = (JSON.parse(answer) as { access_token: string }).access_token;
    expect(decodeJwt(token)).toMatchObject({ aud: 'https://management.azure.com/' });

    // ManagedIdentityCredential with exactly the `export X=Y` lines up printed for SDKs.
    const exported = Object.fromEntries(
      [...output.stdout.matchAll(/export ([A-Z_]+)=([^\s)]+)/g)].map((m) => [m[1], m[2]]),
    ) as Record<string, string>;
    expect(Object.keys(exported).sort()).toEqual([
      'AZURE_POD_IDENTITY_AUTHORITY_HOST',
      'NODE_EXTRA_CA_CERTS',
    ]);
    const script = join(dir, 'sdk.mjs');
    await writeFile(
      script,
      [
        `import { ManagedIdentityCredential } from ${JSON.stringify(IDENTITY)};`,
        'const credential = new ManagedIdentityCredential();',
        "const token = await credential.getToken('https://management.azure.com/.default');",
        'process.stdout.write(JSON.stringify({ token: token.token, expires: token.expiresOnTimestamp }));',
        '',
      ].join('\n'),
    );
    const sdk = await exec(process.execPath, [script], {
      cwd: ROOT,
      env: cleanEnv(exported),
      timeout: 60_000,
    }).catch((error: unknown) => error as { stdout: string; stderr: string });
    const got = JSON.parse(sdk.stdout || '{}') as { token?: string; expires?: number };
    expect(got.token, sdk.stderr).toBeDefined();
    expect(decodeJwt(got.token ?? '')).toMatchObject({ aud: 'https://management.azure.com' });
    expect(got.expires).toBeGreaterThan(Date.now());

    // The README's tour, each line exactly as written (its ports are the defaults).
    if (busy.length === 0) {
      for (const line of readmeTour(await readFile(join(ROOT, 'README.md'), 'utf8'))) {
        const ran = await exec('sh', ['-c', line], {
          cwd: ROOT,
          env: cleanEnv(userEnv),
          timeout: 60_000,
        }).catch((error: unknown) => error as { code: number; stdout: string; stderr: string });
        expect('code' in ran ? ran.code : 0, `${line}\n${ran.stdout}${ran.stderr}`).toBe(0);
        if (!line.startsWith('export ')) expect(ran.stdout.trim(), line).not.toBe('');
      }
    }

    // Ctrl-C, as a terminal sends it: to the whole process group. Tessera stops cleanly and
    // exits 0; npm runs the script through sh (dash), which re-raises SIGINT once its child has
    // exited, and npm then ends itself by that signal, as it does for any script stopped by Ctrl-C.
    // 'close' waits for every process holding npm's pipes (tsx and node) to be gone as well.
    const closed = once(npm, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
    process.kill(-(npm.pid ?? 0), 'SIGINT');
    const [code, signal] = await closed;
    expect(() => process.kill(-(npm?.pid ?? 0), 0)).toThrow(/ESRCH/);
    expect(output.stdout).toContain('tessera up: stopped');
    expect(output.stderr).not.toMatch(/Error|ERR!/);
    expect(code === 0 || (code === null && signal === 'SIGINT')).toBe(true);
  });
});
