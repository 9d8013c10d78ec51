// The data directory on disk: owner-only permissions, atomic secret files, the master key and the files in it.
import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { configInvalid } from '../core/errors.js';
import { decodeMasterKey } from './schema.js';

/** File name of the generated master key inside the data directory. */
export const MASTER_KEY_FILE = 'master.key';
/** File in the data directory holding the administrator's client secret (mode 0600). */
export const ADMIN_SECRET_FILE = 'admin.secret';
/**
 * File in the data directory telling clients how to log in as the administrator (mode 0600):
 * `{"tenantId","clientId","secretFile"}`, never the secret itself. `tessera keyvault` reads it.
 */
export const ADMIN_LOGIN_FILE = 'admin.json';

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0');
}

/**
 * Creates `dir` (and its parents) with mode 0700, or tightens an existing directory we own to
 * 0700. Throws `ConfigInvalid` if the path is not a directory, is owned by another user, or cannot
 * be created.
 */
export async function ensureDataDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw configInvalid(
      `invalid configuration: cannot create dataDir ${dir} (${errnoCode(error) ?? 'error'})`,
      error,
    );
  }
  const info = await stat(dir);
  if (!info.isDirectory())
    throw configInvalid(`invalid configuration: dataDir ${dir} is not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) {
    throw configInvalid(
      `invalid configuration: dataDir ${dir} is owned by uid ${info.uid}, not by this process (uid ${uid}); chown it or choose another dataDir`,
    );
  }
  // mkdir's mode is masked by the umask and ignored when the directory already exists.
  if ((info.mode & 0o777) !== 0o700) await chmod(dir, 0o700);
}

/** Options of {@link writeSecretFile}. */
export interface WriteSecretFileOptions {
  /** If false, fail with an `EEXIST` error instead of replacing an existing file. Default true. */
  readonly overwrite?: boolean;
}

/**
 * Writes key material atomically: a temporary file with mode 0600 in the same directory, flushed
 * to disk, then moved into place, so readers see either the old file or the whole new one. With
 * `overwrite: false` the move is a hard link, which fails with `EEXIST` if `path` exists (first
 * writer wins). File system errors propagate unchanged.
 */
export async function writeSecretFile(
  path: string,
  contents: string | Uint8Array,
  options: WriteSecretFileOptions = {},
): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    try {
      await handle.chmod(0o600); // the umask may have narrowed it further, never widened; be exact
      await handle.writeFile(contents);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.overwrite === false) {
      await link(temp, path);
      await unlink(temp);
    } else {
      await rename(temp, path);
    }
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/** Where the master key came from. The caller announces a generated key loudly. */
export type MasterKeySource = 'config' | 'file' | 'generated';

/** A master key and its origin. */
export interface MasterKey {
  readonly key: Buffer;
  readonly source: MasterKeySource;
}

/** Options of {@link loadOrCreateMasterKey}. */
export interface MasterKeyOptions {
  readonly dataDir: string;
  /** `masterKey` from the configuration: base64 of 32 bytes. */
  readonly configured?: string | undefined;
  /** Generate and store a key in `<dataDir>/master.key` if none is configured or stored. */
  readonly allowGenerate: boolean;
}

async function readKeyFile(file: string): Promise<Buffer | undefined> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw configInvalid(
      `invalid configuration: cannot read ${file} (${errnoCode(error) ?? 'error'})`,
      error,
    );
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw configInvalid(`invalid configuration: ${file} is not a regular file`);
    if ((info.mode & 0o077) !== 0) {
      throw configInvalid(
        `invalid configuration: ${file} is readable by group or others (mode ${octal(info.mode)}); run chmod 600 ${file}`,
      );
    }
    const key = decodeMasterKey((await handle.readFile('utf8')).trim());
    if (key === undefined) {
      throw configInvalid(
        `invalid configuration: ${file} does not contain base64 of exactly 32 bytes`,
      );
    }
    return key;
  } finally {
    await handle.close();
  }
}

/**
 * Finds the master key that encrypts secrets at rest: the configured `masterKey` if given, else
 * `<dataDir>/master.key` (base64 text, which must not be readable by group or others), else, if
 * `allowGenerate`, 32 random bytes written to that file with mode 0600. Two processes generating at
 * once agree on one key. Throws `ConfigInvalid` for a malformed key, a key file with loose
 * permissions, or no key when generation is not allowed.
 */
export async function loadOrCreateMasterKey(options: MasterKeyOptions): Promise<MasterKey> {
  if (options.configured !== undefined) {
    const key = decodeMasterKey(options.configured);
    if (key === undefined) {
      throw configInvalid(
        'invalid configuration: masterKey: expected base64 (standard or url-safe) of exactly 32 bytes, got a value of the wrong form',
      );
    }
    return { key, source: 'config' };
  }
  const file = join(options.dataDir, MASTER_KEY_FILE);
  const stored = await readKeyFile(file);
  if (stored !== undefined) return { key: stored, source: 'file' };
  if (!options.allowGenerate) {
    throw configInvalid(
      `invalid configuration: masterKey is required (set TESSERA_MASTER_KEY to 32 random bytes in base64, e.g. from \`openssl rand -base64 32\`, or create ${file})`,
    );
  }
  await ensureDataDir(options.dataDir);
  const key = randomBytes(32);
  try {
    await writeSecretFile(file, `${key.toString('base64')}\n`, { overwrite: false });
  } catch (error) {
    if (errnoCode(error) !== 'EEXIST') throw error;
    // Another process generated a key first: use theirs, so both encrypt with the same key.
    const theirs = await readKeyFile(file);
    if (theirs === undefined) throw error;
    return { key: theirs, source: 'file' };
  }
  return { key, source: 'generated' };
}
