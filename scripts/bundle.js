// The CLI bundle `npm start` runs: one ESM file built from src/ by esbuild, rebuilt whenever src/ changes.
import { readdirSync, statSync } from 'node:fs';
import { mkdir, rename, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The bundle of `src/main.ts`; its source map sits beside it. */
export const BUNDLE = join(ROOT, 'dist', 'bundle', 'tessera.js');
/** What the bundle is made from: the sources, and this file (it holds the build options). */
export const BUNDLE_INPUTS = [join(ROOT, 'src'), fileURLToPath(import.meta.url)];

/**
 * The newest modification time (ms) of `path` and, for a directory, of everything below it.
 * Directories count too: deleting or renaming a file changes only its directory's time. Synchronous:
 * a few hundred stat calls this way take a few ms, far less than through promises.
 */
function newestMtime(path) {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    const time = entry.isDirectory() ? newestMtime(child) : statSync(child).mtimeMs;
    if (time > newest) newest = time;
  }
  return newest;
}

/**
 * True when `bundle` is missing or any of `inputs` (files or directory trees) was modified after
 * it. The bundle carries the time its build started ({@link buildBundle}), so a file saved while a
 * build was running makes the next start rebuild.
 */
export function bundleIsStale(bundle = BUNDLE, inputs = BUNDLE_INPUTS) {
  let built;
  try {
    built = statSync(bundle).mtimeMs;
  } catch {
    return true;
  }
  return inputs.some((input) => newestMtime(input) > built);
}

/**
 * How Tessera is bundled for Node (the benchmarks' child processes are built the same way, see
 * bench/child-bundle.ts): one ESM file for Node 20.19, packages left in node_modules (native
 * better-sqlite3 and pg among them), a linked source map.
 */
export const NODE_BUNDLE_OPTIONS = Object.freeze({
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'error',
});

/**
 * Bundles `src/main.ts` into {@link BUNDLE} (with a linked source map), leaving packages in
 * node_modules (native better-sqlite3 and pg among them). Each file is written under a temporary
 * name and renamed, so a start racing this one reads a whole bundle. Rejects with esbuild's
 * errors when the sources do not build.
 */
export async function buildBundle() {
  const started = new Date();
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [join(ROOT, 'src', 'main.ts')],
    outfile: BUNDLE,
    ...NODE_BUNDLE_OPTIONS,
    write: false,
  });
  await mkdir(dirname(BUNDLE), { recursive: true });
  // The map first: the bundle's rename is what makes the build look fresh.
  const files = [...result.outputFiles].sort((a, b) => b.path.length - a.path.length);
  for (const file of files) {
    const temporary = `${file.path}.${String(process.pid)}.tmp`;
    await writeFile(temporary, file.contents);
    if (file.path === BUNDLE) await utimes(temporary, started, started);
    await rename(temporary, file.path);
  }
}
