// `<dataDir>/up.json`: what a running `tessera up` records, and how client commands read it back.
import { join } from 'node:path';
import { readPrivateFile } from './private-file.js';

/** `<dataDir>/up.json`: where everything is, for scripts (docs/reference/up-json.md). */
export const UP_FILE = 'up.json';

/** What a running `tessera up` left for client commands: where to reach it. */
export interface RunningUp {
  /** The server's base URL (HTTPS, certificate from `ca`). */
  readonly server: string;
  /** The agent's IMDS base URL. */
  readonly imds: string | undefined;
  /** The CA file for `server`, when it has one. */
  readonly ca: string | undefined;
}

const httpUrl = (value: unknown): string | undefined => {
  if (typeof value !== 'string') return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? value : undefined;
  } catch {
    return undefined;
  }
};

/** True unless `pid` is known not to run here (ESRCH); another user's process counts as running. */
function running(pid: unknown): boolean {
  if (pid === undefined) return true;
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * The `tessera up` running on `dataDir`, from its `up.json`; undefined when there is none, when
 * the file is not this user's alone (mode 0600, see {@link readPrivateFile}), is not JSON with a
 * `server` URL, or names a process (`pid`) that no longer runs (a crash left it).
 */
export async function readRunningUp(dataDir: string): Promise<RunningUp | undefined> {
  const text = await readPrivateFile(join(dataDir, UP_FILE));
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { server, imds, ca, pid } = parsed as Record<string, unknown>;
  const serverUrl = httpUrl(server);
  if (serverUrl === undefined || !running(pid)) return undefined;
  return {
    server: serverUrl,
    imds: httpUrl(imds),
    ca: typeof ca === 'string' && ca !== '' ? ca : undefined,
  };
}
