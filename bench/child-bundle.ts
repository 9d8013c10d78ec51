// Bench children run as production runs: bundled by esbuild (as `npm start` runs dist/bundle),
// not transpiled by tsx at run time. Under tsx an idle agent holds 30-40 MB more (the loader and
// its transform caches), which the agent's memory figure would otherwise count.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';

let dir: string | undefined;
const built = new Map<string, Promise<string>>();

/**
 * The path of `bench/<script>` bundled into a directory of its own under dist/ (once per script
 * and run; packages stay in node_modules, which Node finds from there; a linked source map beside
 * it for profiles). The directory goes when this process exits.
 */
export function bundledChild(script: string): Promise<string> {
  let path = built.get(script);
  if (path === undefined) {
    path = bundle(script);
    built.set(script, path);
  }
  return path;
}

async function bundle(script: string): Promise<string> {
  if (dir === undefined) {
    const parent = fileURLToPath(new URL('../dist/bench-children/', import.meta.url));
    mkdirSync(parent, { recursive: true });
    const made = mkdtempSync(join(parent, 'run-'));
    dir = made;
    process.once('exit', () => {
      rmSync(made, { recursive: true, force: true });
    });
  }
  const outfile = join(dir, `${basename(script, '.ts')}.mjs`);
  // scripts/ is plain JavaScript run by node itself, hence no static import of its types.
  const { NODE_BUNDLE_OPTIONS } = (await import(
    new URL('../scripts/bundle.js', import.meta.url).href
  )) as { NODE_BUNDLE_OPTIONS: BuildOptions };
  await build({
    ...NODE_BUNDLE_OPTIONS,
    entryPoints: [fileURLToPath(new URL(`./${script}`, import.meta.url))],
    outfile,
  });
  return outfile;
}
