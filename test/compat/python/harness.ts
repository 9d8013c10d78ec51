// What the Python SDK suite shares on the test side: Debian's own python3 and Azure SDK packages,
// whether they are there, and the client scripts run in child processes with a clean environment.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { killClients, type ProcessResult, runProcess } from '../harness.js';

/** Debian's interpreter, which python3-azure installs into, not a python3 first on PATH. */
export const PYTHON = '/usr/bin/python3';

/**
 * The distribution packages the suite drives, and the versions its titles and the compatibility
 * table name: Debian bookworm's python3-azure and python3-azure-storage (20230112+git-1).
 */
export const PYTHON_SDKS = {
  'azure-identity': '1.13.0b2',
  'azure-keyvault-secrets': '4.7.0b1',
  'azure-mgmt-resource': '22.0.0',
  'azure-mgmt-msi': '6.1.0',
  'azure-mgmt-authorization': '3.0.0',
  'azure-mgmt-compute': '29.0.0',
  'azure-storage-blob': '12.15.0b1',
} as const;
export type PythonSdk = keyof typeof PYTHON_SDKS;

/** `azure-identity 1.13.0b2`: a package as a title names it. */
export const sdk = (name: PythonSdk): string => `${name} ${PYTHON_SDKS[name]}`;

/** A client script gets this long, its token requests and the SDKs' retries included. */
const CHILD_TIMEOUT_MS = 40_000;

/** The modules the suite imports, and the Debian packages that bring them. */
const MODULES = [
  { module: 'azure.identity', pkg: 'python3-azure' },
  { module: 'azure.storage.blob', pkg: 'python3-azure-storage' },
] as const;

/**
 * Whether `suite` is to be skipped because Debian's python3 cannot import the SDKs: only outside
 * CI, saying so in one loud line naming what to install. Under `CI=true` it never skips: the suite
 * runs and fails.
 */
export function skipWithoutPythonSdks(suite: string): boolean {
  const missing = MODULES.filter(
    ({ module }) => spawnSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' }).status !== 0,
  );
  if (missing.length === 0 || process.env.CI === 'true') return false;
  const modules = missing.map(({ module }) => module).join(', ');
  const packages = missing.map(({ pkg }) => pkg).join(' ');
  process.stderr.write(
    `\n${suite}: SKIPPED: ${PYTHON} cannot import ${modules}; install with: sudo apt-get install ${packages}\n\n`,
  );
  return true;
}

/** The installed version of each of {@link PYTHON_SDKS}, as `importlib.metadata` reports it. */
export async function installedPythonSdks(): Promise<Record<string, string>> {
  const script = [
    'import json, sys',
    'from importlib.metadata import version',
    'print(json.dumps({name: version(name) for name in sys.argv[1:]}))',
  ].join('\n');
  const { code, stdout, stderr } = await runChild(['-c', script, ...Object.keys(PYTHON_SDKS)], {});
  if (code !== 0) throw new Error(`${PYTHON} could not read the versions: ${stderr}`);
  return JSON.parse(stdout) as Record<string, string>;
}

/** An SDK exception as `compat_kit.error_of` reports it. */
export interface PythonError {
  /** The exception's class, e.g. `HttpResponseError`, `CredentialUnavailableError`. */
  readonly type: string;
  readonly message: string;
  /** The HTTP status, for azure-core's `HttpResponseError`s. */
  readonly status?: number;
  /** The service's error code (`x-ms-error-code` or the body's), when the SDK read one. */
  readonly code?: string;
}

/** What a call meant to fail gave (`compat_kit.outcome_of`). */
export type PythonOutcome<T> = { readonly value?: T; readonly error?: PythonError };

/** azure-core's `AccessToken` as a script printed it. */
export interface PythonToken {
  readonly token: string;
  /** Epoch seconds. */
  readonly expires_on: number;
}

/** What a client script prints as its last line (`compat_kit.report`). */
export interface PythonOutput<Results> {
  readonly ok: boolean;
  readonly step?: string;
  readonly error?: PythonError;
  readonly results: Partial<Results>;
  /** Every request the SDKs sent, in order: `METHOD host/path?query -> status`. */
  readonly requests: readonly string[];
  /** What the script wrote to stderr: a failed step's traceback, the SDKs' warnings. */
  readonly stderr: string;
}

/** Runs `python3 -B -E -s args` with exactly `env`; resolves when it exits or is killed. */
function runChild(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
): Promise<ProcessResult> {
  // -B: no __pycache__ in the source tree; -E: no PYTHON* variables; -s: no user site-packages.
  return runProcess(PYTHON, ['-B', '-E', '-s', ...args], env, CHILD_TIMEOUT_MS);
}

/**
 * Runs the client script `script` (a file of this folder) under {@link PYTHON} with `env` and
 * nothing of this process's environment (no `AZURE_*`, proxy or Python variable of the test run's
 * may change what the SDKs do), `home` as its `HOME`. Kills it after {@link CHILD_TIMEOUT_MS}.
 * Returns its last stdout line parsed; fails with its stderr when it printed none.
 */
export async function runPython<Results>(
  script: string,
  home: string,
  env: Readonly<Record<string, string>>,
): Promise<PythonOutput<Results>> {
  const file = fileURLToPath(new URL(script, import.meta.url));
  const { code, stdout, stderr } = await runChild([file], {
    PATH: '/usr/bin:/bin',
    LANG: 'C.UTF-8',
    HOME: home,
    ...env,
  });
  const line = stdout.trim().split('\n').at(-1) ?? '';
  if (!line.startsWith('{')) {
    throw new Error(`${script} printed no result (exit ${String(code)}): ${stderr}`);
  }
  return { ...(JSON.parse(line) as Omit<PythonOutput<Results>, 'stderr'>), stderr };
}

/** Kills the script processes still running (for `afterAll`). */
export function killPythonClients(): void {
  killClients();
}
