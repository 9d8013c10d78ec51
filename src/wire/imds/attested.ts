// The IMDS attested document (`GET /metadata/attested/document`): nonce check and response body.
import { invalidParameter } from '../../core/errors.js';

/**
 * Checks the optional `nonce`: the IMDS swagger (2023-07-01) allows up to 32 alphanumeric
 * characters (the documentation's samples use 10 digits). Absent or empty means none. Throws
 * `InvalidParameter` (400) otherwise.
 */
export function parseNonce(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^[A-Za-z0-9]{1,32}$/.test(value)) {
    throw invalidParameter('nonce', 'Bad request. nonce must be 1-32 alphanumeric characters.');
  }
  return value;
}

/**
 * `{"encoding":"pkcs7","signature":"<base64>"}`, IMDS's attested-data body (IMDS
 * documentation, "Attested data"); `signature` is the base64 of the signed document.
 */
export function renderAttestedDocument(signature: string): string {
  return JSON.stringify({ encoding: 'pkcs7', signature });
}
