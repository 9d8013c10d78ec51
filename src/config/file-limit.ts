// The process's open-file limit, and the share of it a listener may fill with connections.
import { readFileSync } from 'node:fs';

/**
 * The limit assumed when `/proc/self/limits` cannot be read (not Linux): the common default soft
 * limit, low on purpose, so a guess never lets connections exhaust the real one.
 */
export const FALLBACK_OPEN_FILE_LIMIT = 1024;

/**
 * File descriptors kept out of every connection budget: the process's own files (store, logs,
 * keys), outbound sockets (agent to server, the store's pool) and Node's internals. At least
 * 256, and a fifth of the limit when that is more.
 */
export function reservedFileDescriptors(limit: number): number {
  return Math.max(256, Math.ceil(limit / 5));
}

/**
 * Reads the soft `RLIMIT_NOFILE` from the text of `/proc/self/limits` (`Max open files  <soft>
 * <hard>  files`); undefined when the line is missing or malformed. `unlimited` reads as
 * `Number.MAX_SAFE_INTEGER`.
 */
export function parseOpenFileLimit(text: string): number | undefined {
  const match = /^Max open files\s+(\S+)\s+\S+\s+files\s*$/m.exec(text);
  const soft = match?.[1];
  if (soft === undefined) return undefined;
  if (soft === 'unlimited') return Number.MAX_SAFE_INTEGER;
  if (!/^\d+$/.test(soft)) return undefined;
  const limit = Number(soft);
  return limit > 0 ? limit : undefined;
}

/**
 * The soft open-file limit of this process (which Node raises to the hard limit at start), or
 * {@link FALLBACK_OPEN_FILE_LIMIT} when `/proc/self/limits` cannot be read. Reads one small file
 * synchronously: call it when a listener starts, not per connection.
 */
export function openFileLimit(read: () => string = readProcLimits): number {
  try {
    return parseOpenFileLimit(read()) ?? FALLBACK_OPEN_FILE_LIMIT;
  } catch {
    return FALLBACK_OPEN_FILE_LIMIT;
  }
}

function readProcLimits(): string {
  return readFileSync('/proc/self/limits', 'utf8');
}

/**
 * The connections one listener may hold: `share` (0-1] of the file limit left after
 * {@link reservedFileDescriptors}, at most `ceiling`, at least 0. The shares Tessera's
 * listeners use add up to at most 1 whichever of them share a process (`tessera up` runs them
 * all), so together they never reach the limit.
 */
export function connectionBudget(limit: number, share: number, ceiling: number): number {
  const available = Math.max(0, limit - reservedFileDescriptors(limit));
  return Math.max(0, Math.min(ceiling, Math.floor(available * share)));
}
