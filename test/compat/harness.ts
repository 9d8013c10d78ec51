// What the compatibility suites share on the test side: client scripts run in a child process.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A client script gets this long, token requests included, before it is killed. */
const CHILD_TIMEOUT_MS = 25_000;

/** A lower-case GUID, as Tessera mints object, application and tenant ids. */
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Variables that would send @azure/identity elsewhere than the agent's IMDS (other managed-identity
 * sources, the environment and workload credentials, a proxy): for {@link RunClientOptions.omitEnv}.
 */
export const FOREIGN_IDENTITY_ENV =
  /^(AZURE_|IDENTITY_|MSI_|IMDS_ENDPOINT$|DEFAULT_IDENTITY_CLIENT_ID$|(HTTPS?|ALL|NO)_PROXY$)/i;

/**
 * What a client script prints as its last line (see `client-kit.ts`): each step's result under
 * the step's name, and on failure the step that threw and its error.
 */
export interface ClientOutput<Results> {
  readonly ok: boolean;
  readonly step?: string;
  readonly error?: unknown;
  readonly results: Partial<Results>;
  /** Every request the SDK's pipeline sent: `METHOD path?query -> status`. */
  readonly requests: readonly string[];
  /** The JSON bodies the SDK sent, with the line of {@link requests} they went with. */
  readonly bodies: readonly { readonly request: string; readonly body: unknown }[];
}

/** Client processes still running; {@link killClients} ends them should a hook time out. */
const running = new Set<ChildProcess>();

/** Options of {@link runClient}. */
export interface RunClientOptions {
  /** Variables of this process's environment the client must not inherit (matched by name). */
  readonly omitEnv?: RegExp;
}

/**
 * Runs the client script `script` (a `.ts` file, through tsx) in its own Node process, so that
 * Node reads `NODE_EXTRA_CA_CERTS` at start as a user's program would, with `env` added to this
 * process's environment (less `options.omitEnv`). Kills it after {@link CHILD_TIMEOUT_MS}.
 * Returns its last stdout line parsed; fails with its stderr when it printed none.
 */
export async function runClient<Results>(
  script: URL,
  env: Readonly<Record<string, string>>,
  options: RunClientOptions = {},
): Promise<ClientOutput<Results>> {
  const { omitEnv } = options;
  const inherited =
    omitEnv === undefined
      ? process.env
      : Object.fromEntries(Object.entries(process.env).filter(([name]) => !omitEnv.test(name)));
  const { code, stdout, stderr } = await runProcess(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(script)],
    { ...inherited, ...env },
    CHILD_TIMEOUT_MS,
  );
  const line = stdout.trim().split('\n').at(-1) ?? '';
  if (!line.startsWith('{')) {
    throw new Error(`the client printed no result (exit ${String(code)}): ${stderr}`);
  }
  return JSON.parse(line) as ClientOutput<Results>;
}

/** What a finished child process printed, and how it ended. */
export interface ProcessResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `file args` with exactly `env`, collecting its output; kills it after `timeoutMs`.
 * Resolves when it exits or is killed; rejects only when it cannot be started. Running children
 * are ended by {@link killClients}.
 */
export function runProcess(
  file: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    const settle = (): void => {
      running.delete(child);
      clearTimeout(timer);
    };
    child.once('error', (error) => {
      settle();
      reject(error);
    });
    child.once('close', (code) => {
      settle();
      resolve({ code, stdout: out, stderr: err });
    });
  });
}

/** Kills the client processes still running (for `afterAll`). */
export function killClients(): void {
  for (const child of running) child.kill('SIGKILL');
}
