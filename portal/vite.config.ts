// Vite build of the portal: a React single-page app served by `tessera server` at /portal/.
// Paths are this file's directory, so the build works from any working directory.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** portal/, decoded from this module's URL (no Node types needed in the portal's project). */
const root = decodeURIComponent(new URL('.', import.meta.url).pathname);

export default defineConfig({
  root,
  base: '/portal/',
  plugins: [react()],
  build: {
    outDir: `${root}../dist/portal`,
    emptyOutDir: true,
    // The whole app is a few hundred KiB: one chunk, no splitting warnings.
    chunkSizeWarningLimit: 1024,
  },
  logLevel: 'warn',
});
