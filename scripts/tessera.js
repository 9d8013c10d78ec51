#!/usr/bin/env node
// Runs the `tessera` CLI from its bundle (what `npm start` runs), rebuilding it first when src/ changed.
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import { BUNDLE, buildBundle, bundleIsStale } from './bundle.js';
import { buildPortal, portalIsStale } from './portal.js';

if (bundleIsStale()) {
  try {
    await buildBundle();
  } catch {
    // esbuild has printed what does not build.
    process.stderr.write('tessera: the sources do not build (see above)\n');
    process.exit(1);
  }
}
// The commands that serve the portal serve what portal/ holds now, as the CLI runs what src/ holds.
if (['up', 'server'].includes(process.argv[2] ?? '') && portalIsStale()) {
  try {
    await buildPortal();
  } catch {
    process.stderr.write('tessera: the portal does not build (see above)\n');
    process.exit(1);
  }
}
// Stack traces name the TypeScript sources.
process.setSourceMapsEnabled(true);
await import(pathToFileURL(BUNDLE).href);
