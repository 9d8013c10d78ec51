#!/usr/bin/env node
// Compiles src/ into dist/ with tsc for the published package (prepack): the CLI and the library, JS and types.
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { ROOT } from './bundle.js';

/** What else lives in dist/ and is not tsc's: the launcher's bundle (not shipped) and the portal. */
const KEEP = new Set(['bundle', 'portal']);

// tsc never deletes what it emitted for a source since removed: start from an empty output.
const dist = join(ROOT, 'dist');
let entries = [];
try {
  entries = readdirSync(dist);
} catch {
  // no dist/ yet
}
for (const entry of entries) {
  if (!KEEP.has(entry)) rmSync(join(dist, entry), { recursive: true, force: true });
}

const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const result = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], {
  cwd: ROOT,
  stdio: 'inherit',
});
if (result.status !== 0) {
  process.stderr.write('build-dist: tsc failed (see above)\n');
  process.exit(1);
}
