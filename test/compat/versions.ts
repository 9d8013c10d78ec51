// The versions of the clients the compatibility suites drive, as installed (the lock file pins them).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const NODE_MODULES = new URL('../../node_modules/', import.meta.url);

/** The version of the installed npm package `name`; fails when it is not installed. */
export function installedVersion(name: string): string {
  const file = fileURLToPath(new URL(`${name}/package.json`, NODE_MODULES));
  const { version } = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown };
  if (typeof version !== 'string') throw new Error(`${file} has no version`);
  return version;
}
