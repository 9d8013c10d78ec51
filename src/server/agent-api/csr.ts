// Certificate signing requests from agents: EC P-256 only, signature checked before anything is issued.
import { type AppError, invalidParameter } from '../../core/errors.js';
import { parseCsr } from '../../core/keys/x509.js';

/** A CSR is a few hundred bytes; anything far larger is refused before parsing. */
const MAX_CSR_CHARS = 16 * 1024;

/**
 * Checks that `value` is a PKCS#10 PEM whose key is EC P-256 and whose signature verifies (the
 * requester holds the key), and returns it. The CA re-checks the signature when it issues; this
 * runs first so a request with a bad CSR changes nothing (a join token stays unused). Fails with
 * `InvalidParameter` (400, target `csr`): "The certificate signing request is not valid: …".
 */
export function readP256Csr(value: unknown): Promise<string> {
  return Promise.resolve(value).then(checkP256Csr);
}

/** {@link readP256Csr}, synchronously: throws its errors. */
export function checkP256Csr(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalidParameter(
      'csr',
      "The value of 'csr' must be a PKCS#10 certificate request (PEM).",
    );
  }
  if (value.length > MAX_CSR_CHARS) throw badCsr('it is too large');
  const csr = parseCsr(value);
  const key = csr.publicKey;
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw badCsr('its key must be EC P-256');
  }
  if (csr.checkSignature() !== 'valid') throw badCsr('its signature does not verify');
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
