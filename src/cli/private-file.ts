// Reading a file only this user may read or write, as the CLI's own state files must be.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/**
 * The text of `path` when it is a regular file (not a symbolic link) owned by this process's
 * user and closed to group and others (mode 0600 or narrower); undefined otherwise, and when it
 * is missing or unreadable. Checked on the opened file, so it cannot be swapped in between.
 */
export async function readPrivateFile(path: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const info = await handle.stat();
    const uid = process.getuid?.();
    if (!info.isFile() || (info.mode & 0o077) !== 0) return undefined;
    if (uid !== undefined && info.uid !== uid) return undefined;
    return await handle.readFile('utf8');
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
}
