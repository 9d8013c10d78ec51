// The portal surface over inject: the redirect, config.json, files, headers, and an unbuilt app.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPortalRoot, portalPlugin } from './plugin.js';

const TENANT = '5db6cb1e-5d49-4763-be97-a58adf155db1';
let dir: string;

async function portal(root: string): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(portalPlugin, { tenantId: TENANT, root });
  return app;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-portal-'));
  await mkdir(join(dir, 'built', 'assets'), { recursive: true });
  await writeFile(join(dir, 'built', 'index.html'), '<!doctype html><title>t</title>');
  await writeFile(join(dir, 'built', 'assets', 'index-abc123.js'), 'console.log(1);');
  await writeFile(join(dir, 'secret.txt'), 'outside the root');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('portal plugin', () => {
  it('redirects /portal, serves the app and its hashed assets with the security headers', async () => {
    const app = await portal(join(dir, 'built'));
    const bare = await app.inject('/portal');
    expect(bare.statusCode).toBe(301);
    expect(bare.headers.location).toBe('/portal/');

    const page = await app.inject('/portal/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['content-security-policy']).toContain("script-src 'self';");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['referrer-policy']).toBe('no-referrer');

    const asset = await app.inject('/portal/assets/index-abc123.js');
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    await app.close();
  });

  it('tells the app where to sign in, uncached', async () => {
    const app = await portal(join(dir, 'built'));
    const config = await app.inject('/portal/config.json');
    expect(config.statusCode).toBe(200);
    expect(config.headers['cache-control']).toBe('no-store');
    expect(config.json()).toEqual({
      tenantId: TENANT,
      tokenEndpoint: `/${TENANT}/oauth2/v2.0/token`,
      armScope: 'https://management.azure.com/.default',
    });
    await app.close();
  });

  it('serves nothing outside the built app', async () => {
    const app = await portal(join(dir, 'built'));
    for (const url of [
      '/portal/../secret.txt',
      '/portal/%2e%2e/secret.txt',
      '/portal/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/portal/missing.js',
    ]) {
      const answer = await app.inject(url);
      expect(answer.statusCode, url).toBeGreaterThanOrEqual(400);
      expect(answer.body, url).not.toContain('outside the root');
    }
    await app.close();
  });

  it('answers 503 with how to build when the app was never built', async () => {
    const app = await portal(join(dir, 'nothing-here'));
    const page = await app.inject('/portal/');
    expect(page.statusCode).toBe(503);
    expect(page.body).toContain('npm run build:portal');
    expect((await app.inject('/portal/config.json')).statusCode).toBe(200);
    await app.close();
  });

  it('finds the build under the package root by default', () => {
    expect(defaultPortalRoot()).toMatch(/\/dist\/portal$/);
  });
});
