// Running the `tessera` command line as a user does, for the CLI suites: real processes, their output, their exit.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'vitest';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'src/main.ts');

/**
 * The environment without the test run's own TESSERA_* settings, Azure credentials or extra CA:
 * what a user's shell would give, plus `extra`.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith('TESSERA_') && !k.startsWith('AZURE_') && k !== 'NODE_EXTRA_CA_CERTS',
    ),
  );
  return { ...env, ...extra };
}

/** A running `tessera` process and what it has printed so far. */
export type Child = ChildProcess & { output: { stdout: string; stderr: string } };

/** What a finished `tessera` command printed, and its exit status. */
export interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The one line a failed command wrote, checked to be exactly one. */
export function oneLine(result: Result): string {
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0] ?? '';
}

/** stdout as JSON, after checking the command succeeded quietly. */
export function json(result: Result): Record<string, unknown> {
  expect([result.code, result.stderr]).toEqual([0, '']);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

/** tsx's loader by absolute URL, so that a command run in another directory finds it. */
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

/** Starts `tessera ...args`, in the repository or in `cwd`. */
export function start(args: string[], env: Record<string, string> = {}, cwd = ROOT): Child {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
    cwd,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output.stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output.stderr += d));
  return Object.assign(child, { output });
}

/** Runs `tessera ...args` to its end, in the repository or in `cwd`. */
export async function run(
  args: string[],
  env: Record<string, string> = {},
  cwd = ROOT,
): Promise<Result> {
  const child = start(args, env, cwd);
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, ...child.output };
}

/**
 * Sends `signal` and resolves with the exit code. Safe when the child has already exited: a
 * plain `once(child, 'exit')` registered after the exit would wait forever.
 */
export async function stop(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<number | null> {
  const exited =
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve([child.exitCode])
      : once(child, 'exit');
  child.kill(signal);
  const [code] = (await exited) as [number | null];
  return code;
}

/** Waits for `text` on the child's stdout; fails with what it printed if it exits or takes 60 s. */
export async function until(child: Child, text: string | RegExp): Promise<void> {
  const deadline = Date.now() + 60_000;
  const seen = (): boolean =>
    typeof text === 'string' ? child.output.stdout.includes(text) : text.test(child.output.stdout);
  while (!seen()) {
    if (child.exitCode !== null) throw new Error(`exited early: ${child.output.stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `no '${String(text)}' within 60 s; stdout: ${child.output.stdout.slice(-2000)}; stderr: ${child.output.stderr.slice(-2000)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `tessera up` on a data dir, with ports chosen by the OS. */
export const upArgs = (dataDir: string): string[] => [
  'up',
  '--data-dir',
  dataDir,
  '--set',
  'server.port=0',
  '--set',
  'server.httpsPort=0',
  '--set',
  'agent.imds.port=0',
  '--set',
  'agent.metrics.port=0',
];

/** A running `tessera server` on OS ports, and the flags that point client commands at it. */
export interface ServerUnderTest {
  readonly child: Child;
  readonly dataDir: string;
  /** Its plain-HTTP base URL. */
  readonly url: string;
  /** Its HTTPS base URL (certificate from `<dataDir>/tls/ca.pem`). */
  readonly httpsUrl: string;
  /** `--data-dir DIR --server URL`: the administrator's login and this server. */
  readonly flags: readonly string[];
}

/** Starts `tessera server` on `dataDir` and waits until it is ready; stop it with {@link stop}. */
export async function startServer(dataDir: string): Promise<ServerUnderTest> {
  const child = start([
    'server',
    '--data-dir',
    dataDir,
    '--set',
    'server.port=0',
    '--set',
    'server.httpsPort=0',
  ]);
  await until(child, 'ready at');
  const url = /ready at (\S+)/.exec(child.output.stdout)?.[1];
  const httpsUrl = /HTTPS:\s+(\S+)/.exec(child.output.stdout)?.[1];
  if (url === undefined || httpsUrl === undefined) {
    child.kill('SIGKILL');
    throw new Error(`no URLs in: ${child.output.stdout}`);
  }
  return { child, dataDir, url, httpsUrl, flags: ['--data-dir', dataDir, '--server', url] };
}
