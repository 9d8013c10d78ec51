// The launcher's staleness decision: `npm start` rebuilds the bundle exactly when src/ changed after it.
import { mkdir, mkdtemp, rm, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

interface BundleModule {
  readonly bundleIsStale: (bundle: string, inputs: readonly string[]) => boolean;
}
// scripts/ is plain JavaScript run by node itself (no tsx), hence no static import of its types.
const { bundleIsStale } = (await import(
  new URL('../../scripts/bundle.js', import.meta.url).href
)) as BundleModule;

let dir: string;
let src: string;
let bundle: string;
const BUILT = new Date('2026-01-01T12:00:00Z');
const BEFORE = new Date('2026-01-01T11:00:00Z');
const AFTER = new Date('2026-01-01T13:00:00Z');

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-launcher-'));
  src = join(dir, 'src');
  bundle = join(dir, 'dist', 'tessera.js');
  await mkdir(join(src, 'cli'), { recursive: true });
  await mkdir(join(dir, 'dist'));
  await writeFile(join(src, 'cli', 'main.ts'), '');
  await writeFile(join(src, 'cli', 'up.ts'), '');
  await writeFile(bundle, '');
  for (const path of [
    join(src, 'cli', 'main.ts'),
    join(src, 'cli', 'up.ts'),
    join(src, 'cli'),
    src,
  ]) {
    await utimes(path, BEFORE, BEFORE);
  }
  await utimes(bundle, BUILT, BUILT);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('bundleIsStale', () => {
  it('keeps a bundle built after every source', () => {
    expect(bundleIsStale(bundle, [src])).toBe(false);
  });

  it('rebuilds when a source file deep in src/ is newer than the bundle', async () => {
    await utimes(join(src, 'cli', 'up.ts'), AFTER, AFTER);
    expect(bundleIsStale(bundle, [src])).toBe(true);
  });

  it('rebuilds when a source file was deleted (its directory changed)', async () => {
    await unlink(join(src, 'cli', 'up.ts'));
    expect(bundleIsStale(bundle, [src])).toBe(true);
  });

  it('rebuilds when the bundle is missing', async () => {
    await unlink(bundle);
    expect(bundleIsStale(bundle, [src])).toBe(true);
  });

  it('rebuilds when another input (the build script) is newer', async () => {
    const script = join(dir, 'bundle.js');
    await writeFile(script, '');
    await utimes(script, AFTER, AFTER);
    expect(bundleIsStale(bundle, [src, script])).toBe(true);
  });
});
