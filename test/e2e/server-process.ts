// Starts, kills and cleans up Tessera servers in child processes (server-child.ts) for e2e suites.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./server-child.ts', import.meta.url));
/** How long a server child may take to print its ready line. */
const READY_TIMEOUT_MS = 30_000;

/** What the server child prints once it answers. */
export interface ServerChildReady {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly tenantId: string;
  readonly subscriptionId: string;
  /** The `iss` of the tokens it mints for its tenant. */
  readonly issuer: string;
  readonly adminAppId: string;
  /** The administrator's secret, written in the data directory on the first start. */
  readonly adminSecretFile: string;
}

/** A running server child. */
export interface ServerProcess {
  readonly ready: ServerChildReady;
  readonly child: ChildProcess;
  /** Sends SIGKILL and resolves once the process is gone. */
  kill(): Promise<void>;
}

/** Server children not yet known to have exited; {@link killServerProcesses} ends them. */
const running = new Set<ChildProcess>();

/**
 * Starts server-child.ts (through tsx) on `dataDir` and `port` and resolves with its ready line.
 * Fails, killing the child, when it exits or stays silent for {@link READY_TIMEOUT_MS}; the
 * error carries its stderr.
 */
export async function startServerProcess(dataDir: string, port: number): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, String(port)], {
    // stdin stays open: the child exits when it closes, so it cannot outlive this process.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  // Resolves (never rejects) with how the child ended: its exit code, its signal, or the error.
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve(String(code ?? signal));
    });
    child.once('error', (error) => {
      running.delete(child);
      resolve(error.message);
    });
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  try {
    const ready = await new Promise<ServerChildReady>((resolve, reject) => {
      let stdout = '';
      const timer = setTimeout(() => {
        reject(new Error(`the server child did not start in time: ${stderr}`));
      }, READY_TIMEOUT_MS);
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        const line = stdout.split('\n').find((l) => l.startsWith('{'));
        if (line !== undefined && stdout.includes('\n', stdout.indexOf(line))) {
          clearTimeout(timer);
          resolve(JSON.parse(line) as ServerChildReady);
        }
      });
      void exited.then((how) => {
        clearTimeout(timer);
        reject(new Error(`the server child exited (${how}): ${stderr}`));
      });
    });
    return { ready, child, kill };
  } catch (error) {
    await kill();
    throw error;
  }
}

/** Kills every server child still running and waits for them to exit (for `afterAll`). */
export async function killServerProcesses(): Promise<void> {
  await Promise.all(
    [...running].map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = once(child, 'exit');
      child.kill('SIGKILL');
      await gone;
    }),
  );
}
