// Running the `tessera` command line as child processes for the compatibility suites: start,
// wait for the ready line, run to the end, stop.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'src/main.ts');
/** How long a process gets to print its ready line (tsx compiles on a cold start). */
const READY_TIMEOUT_MS = 45_000;
/** How long a process gets to exit after SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 5_000;

/** A `tessera` child process and what it printed so far. */
export interface TesseraProcess {
  readonly child: ChildProcess;
  readonly name: string;
  stdout: string;
  stderr: string;
}

/** The environment without the test run's own TESSERA_* settings, which the config would read. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('TESSERA_')),
  );
}

/** How a process is started beyond its arguments. */
export interface SpawnOptions {
  /** The process's open-file limit (`ulimit -n`), e.g. lower than the test's own. */
  readonly fileLimit?: number;
}

/** Starts `tessera <args>` (through tsx, as `npm run tessera` does). */
export function spawnTessera(
  name: string,
  args: readonly string[],
  options: SpawnOptions = {},
): TesseraProcess {
  const node = [process.execPath, '--import', 'tsx', MAIN, ...args];
  const [command, ...argv] =
    options.fileLimit === undefined
      ? node
      : ['sh', '-c', 'ulimit -n "$0" && exec "$@"', String(options.fileLimit), ...node];
  const child = spawn(command ?? process.execPath, argv, {
    cwd: ROOT,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc: TesseraProcess = { child, name, stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (proc.stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (proc.stderr += chunk));
  return proc;
}

/** Resolves with what `proc` printed once its stdout matches `ready`; fails if it exits first. */
export async function untilReady(proc: TesseraProcess, ready: RegExp): Promise<string> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!ready.test(proc.stdout)) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(`${proc.name} exited before it was ready:\n${proc.stdout}${proc.stderr}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`${proc.name} not ready after ${READY_TIMEOUT_MS} ms:\n${proc.stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return proc.stdout;
}

/** Runs `tessera <args>` to its end; fails unless it exits 0. */
export async function runTessera(name: string, args: readonly string[]): Promise<string> {
  const proc = spawnTessera(name, args);
  const [code] = (await once(proc.child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${name} exited ${String(code)}: ${proc.stderr}`);
  return proc.stdout;
}

/** SIGTERM, then SIGKILL if it has not exited after {@link STOP_TIMEOUT_MS}; waits for the exit. */
export async function stopTessera(proc: TesseraProcess): Promise<void> {
  const { child } = proc;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** The first group of `pattern` in `text`; fails naming `what` when it is not there. */
export function field(text: string, pattern: RegExp, what: string): string {
  const value = pattern.exec(text)?.[1];
  if (value === undefined) throw new Error(`no ${what} in:\n${text}`);
  return value;
}

/**
 * Runs every one of `steps` in order even when some fail (for `afterAll`: every process stopped,
 * every directory removed), then fails with the first failure if there was one.
 */
export async function closeAll(
  ...steps: readonly ((() => Promise<unknown>) | undefined)[]
): Promise<void> {
  const failures: unknown[] = [];
  for (const step of steps) {
    try {
      await step?.();
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length > 0) throw failures[0];
}
