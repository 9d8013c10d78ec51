// The local CA and server certificate `tessera up` makes so HTTPS-only clients (Azure SDKs) work.
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDataDir, writeSecretFile } from '../config/index.js';
import { createSelfSignedCertificate, issueServerCertificate } from '../core/keys/x509.js';

const DAY_MS = 24 * 3_600_000;
/** The local CA lives 10 years; server certificates 1 year and are renewed 30 days before. */
const CA_LIFETIME_MS = 3650 * DAY_MS;
const SERVER_LIFETIME_MS = 365 * DAY_MS;
const RENEW_BEFORE_MS = 30 * DAY_MS;

/** TLS material for a listener, and the CA file clients must trust. */
export interface LocalTls {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: Buffer;
  readonly key: Buffer;
}

async function readIfPresent(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function covers(
  cert: X509Certificate,
  dnsNames: readonly string[],
  ips: readonly string[],
): boolean {
  return (
    dnsNames.every((name) => cert.checkHost(name) !== undefined) &&
    ips.every((ip) => cert.checkIP(ip) !== undefined)
  );
}

/**
 * Returns the TLS material in `<dataDir>/tls`, making what is missing: a local CA (EC P-256,
 * `ca.pem`, key `ca.key` 0600) and a server certificate for `dnsNames` and `ipAddresses`
 * (`server.pem`, `server.key` 0600), reissued when it expires within 30 days or does not cover a
 * name. Clients trust it with `NODE_EXTRA_CA_CERTS=<dataDir>/tls/ca.pem` (or `curl --cacert`).
 */
export async function ensureLocalTls(options: {
  dataDir: string;
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
  now: number;
}): Promise<LocalTls> {
  const dir = join(options.dataDir, 'tls');
  await ensureDataDir(dir);
  const caFile = join(dir, 'ca.pem');
  const caKeyFile = join(dir, 'ca.key');
  const certFile = join(dir, 'server.pem');
  const keyFile = join(dir, 'server.key');

  let caPem = await readIfPresent(caFile);
  let caKeyPem = await readIfPresent(caKeyFile);
  if (caPem === undefined || caKeyPem === undefined) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ca = await createSelfSignedCertificate({
      ...pair,
      commonName: 'Tessera Local CA',
      notBefore: options.now - 5 * 60_000,
      notAfter: options.now + CA_LIFETIME_MS,
      isCa: true,
    });
    caKeyPem = Buffer.from(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    caPem = Buffer.from(ca.pem);
    await writeSecretFile(caKeyFile, caKeyPem);
    await writeSecretFile(caFile, caPem);
  }

  const existing = await readIfPresent(certFile);
  const existingKey = await readIfPresent(keyFile);
  if (existing !== undefined && existingKey !== undefined) {
    const cert = new X509Certificate(existing);
    const fresh = Date.parse(cert.validTo) - RENEW_BEFORE_MS > options.now;
    if (
      fresh &&
      cert.checkIssued(new X509Certificate(caPem)) &&
      covers(cert, options.dnsNames, options.ipAddresses)
    ) {
      return { caFile, certFile, keyFile, cert: existing, key: existingKey };
    }
  }
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const issued = await issueServerCertificate({
    ca: {
      certificateDer: new X509Certificate(caPem).raw,
      privateKey: createPrivateKey(caKeyPem),
    },
    publicKey: pair.publicKey,
    dnsNames: options.dnsNames,
    ipAddresses: options.ipAddresses,
    notBefore: options.now - 5 * 60_000,
    notAfter: options.now + SERVER_LIFETIME_MS,
  });
  const key = Buffer.from(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const cert = Buffer.from(issued.pem);
  await writeSecretFile(keyFile, key);
  await writeSecretFile(certFile, cert);
  return { caFile, certFile, keyFile, cert, key };
}
