// Certificate signing requests from agents: EC P-256 only, signature checked before anything is issued.
import 'reflect-metadata';
import { createPublicKey } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { type AppError, invalidParameter } from '../../core/errors.js';
// Installs the Web Crypto provider @peculiar/x509 checks CSR signatures with.
import '../../core/keys/x509.js';

/** A CSR is a few hundred bytes; anything far larger is refused before parsing. */
const MAX_CSR_CHARS = 16 * 1024;

/**
 * Checks that `value` is a PKCS#10 PEM whose key is EC P-256 and whose signature verifies (the
 * requester holds the key), and returns it. The CA re-checks the signature when it issues; this
 * runs first so a request with a bad CSR changes nothing (a join token stays unused). Fails with
 * `InvalidParameter` (400, target `csr`): "The certificate signing request is not valid: …".
 */
export async function readP256Csr(value: unknown): Promise<string> {
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalidParameter(
      'csr',
      "The value of 'csr' must be a PKCS#10 certificate request (PEM).",
    );
  }
  if (value.length > MAX_CSR_CHARS) throw badCsr('it is too large');
  let csr: x509.Pkcs10CertificateRequest;
  let algorithm: { type: string | undefined; curve: string | undefined };
  try {
    csr = new x509.Pkcs10CertificateRequest(value);
    const key = createPublicKey({
      key: Buffer.from(csr.publicKey.rawData),
      format: 'der',
      type: 'spki',
    });
    algorithm = { type: key.asymmetricKeyType, curve: key.asymmetricKeyDetails?.namedCurve };
  } catch {
    throw badCsr('it cannot be parsed');
  }
  if (algorithm.type !== 'ec' || algorithm.curve !== 'prime256v1') {
    throw badCsr('its key must be EC P-256');
  }
  let verified: boolean;
  try {
    verified = await csr.verify();
  } catch {
    verified = false;
  }
  if (!verified) throw badCsr('its signature does not verify');
  return value;
}

/** A DER certificate as PEM (RFC 7468: base64 in 64-character lines). */
export function certificatePem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

function badCsr(why: string): AppError {
  return invalidParameter('csr', `The certificate signing request is not valid: ${why}.`);
}
