// The local CA of `tessera up`: made once, a server certificate clients can verify, reused.
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureLocalTls } from './local-tls.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-tls-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const hosts = { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1'] };

describe('ensureLocalTls', () => {
  it('makes a CA and a server certificate that a TLS client trusting the CA accepts', async () => {
    const tls = await ensureLocalTls({ dataDir: dir, ...hosts, now: Date.now() });
    expect((await stat(tls.keyFile)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'tls', 'ca.key'))).mode & 0o777).toBe(0o600);
    const server = createServer({ cert: tls.cert, key: tls.key }, (_req, res) => {
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      const { get } = await import('node:https');
      const ca = await readFile(tls.caFile);
      const body = await new Promise<string>((resolve, reject) => {
        get(`https://127.0.0.1:${port}/`, { ca }, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => {
            resolve(text);
          });
        }).on('error', reject);
      });
      expect(body).toBe('ok');
      // Without trusting the CA the same request fails.
      await expect(
        new Promise((resolve, reject) => {
          get(`https://127.0.0.1:${port}/`, resolve).on('error', reject);
        }),
      ).rejects.toThrow(/self-signed|unable to verify|certificate/i);
    } finally {
      server.close();
    }
  });

  it('reuses what it made, and reissues only the server certificate for a new name', async () => {
    const first = await ensureLocalTls({ dataDir: dir, ...hosts, now: Date.now() });
    const again = await ensureLocalTls({ dataDir: dir, ...hosts, now: Date.now() });
    expect(again.cert.equals(first.cert)).toBe(true);
    const wider = await ensureLocalTls({
      dataDir: dir,
      dnsNames: ['localhost', 'tessera.internal'],
      ipAddresses: hosts.ipAddresses,
      now: Date.now(),
    });
    expect(wider.cert.equals(first.cert)).toBe(false);
    expect(new X509Certificate(wider.cert).checkHost('tessera.internal')).toBe('tessera.internal');
    expect(wider.caFile).toBe(first.caFile);
  });
});
