// Vite build of the portal: a React single-page app served by `tessera server` at /portal/.
// Paths are relative to the package root, where npm runs the build (`npm run build:portal`).
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'portal',
  base: '/portal/',
  plugins: [react()],
  build: {
    outDir: '../dist/portal',
    emptyOutDir: true,
    // The whole app is a few hundred KiB: one chunk, no splitting warnings.
    chunkSizeWarningLimit: 1024,
  },
  logLevel: 'warn',
});
