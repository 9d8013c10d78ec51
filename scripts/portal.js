// The portal's build for the launcher: `tessera up` and `tessera server` rebuild it first when portal/ changed.
import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { bundleIsStale, ROOT } from './bundle.js';

/** What the server serves at /portal/: `npm ci` builds it (prepare), the launcher keeps it current. */
export const PORTAL_INDEX = join(ROOT, 'dist', 'portal', 'index.html');
/** What it is built from: the app's sources, page and Vite configuration. */
export const PORTAL_INPUTS = [join(ROOT, 'portal')];

/** True when the built portal is missing or older than anything under portal/. */
export function portalIsStale() {
  return bundleIsStale(PORTAL_INDEX, PORTAL_INPUTS);
}

/**
 * Builds the portal with Vite (what `npm run build:portal` does, about 2 s). The page is dated when
 * the build started, so a file saved during the build makes the next start build again. Rejects
 * with Vite's error when the app does not build.
 */
export async function buildPortal() {
  const started = new Date();
  const { build } = await import('vite');
  await build({ configFile: join(ROOT, 'portal', 'vite.config.ts'), logLevel: 'warn' });
  await utimes(PORTAL_INDEX, started, started);
}
