// The pieces Entra's token-endpoint errors are made of: the row shape, its time formats, its recurring phrases.
import type { ErrorCode } from '../../core/errors.js';

/** Where a client-assertion error tells the caller to read up, as Entra's messages do today. */
export const CERTIFICATE_CREDENTIALS_DOC =
  'https://learn.microsoft.com/entra/identity-platform/certificate-credentials';

/** One row of `ENTRA_ERRORS` (entra-errors.ts). */
export interface EntraErrorSpec {
  /** Tessera's error code, which decides the defaults of every other dialect. */
  readonly code: ErrorCode;
  /** HTTP status; Entra answers 401 for `invalid_client` and 400 for the rest. */
  readonly status: 400 | 401;
  /** Entra's AADSTS number, first in `error_codes` and quoted in `error_description`. */
  readonly aadsts: number;
  /** The RFC 6749 section 5.2 `error` value Entra sends with it. */
  readonly error: string;
  /** Entra's message (without the `AADSTS<n>: ` prefix the renderer adds). */
  readonly message: (...args: never[]) => string;
  /** The request parameter at fault, when the reason names one. */
  readonly target?: (...args: never[]) => string;
}

// `2023-12-11T23:52:19.6223401Z`: .NET's round-trip ("o") format, which Entra uses in AADSTS700024.
export function roundTrip(ms: number | undefined): string {
  const iso = new Date(ms ?? 0).toISOString();
  return `${iso.slice(0, 23)}0000Z`;
}

// `01/28/2018 16:00:00`: the form of a key's validity in Entra's AADSTS700027 "Found key" text.
function keyDate(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(0, 4)} ${iso.slice(11, 19)}`;
}

// `, Found key 'Start=..., End=...'` when the key's validity is known, else nothing.
export function foundKey(notBefore: number | undefined, notAfter: number | undefined): string {
  if (notBefore === undefined || notAfter === undefined) return '';
  return `, Found key 'Start=${keyDate(notBefore)}, End=${keyDate(notAfter)}'`;
}

// AADSTS700024's text; without the current time only its first and last sentences remain.
export function timeRange(
  now?: number,
  notBefore?: number,
  expiresAt?: number,
  doc: string = CERTIFICATE_CREDENTIALS_DOC,
): string {
  const detail =
    now === undefined
      ? ''
      : ` Current time: ${roundTrip(now)}, assertion valid from ${roundTrip(notBefore)}, expiry time of assertion ${roundTrip(expiresAt)}.`;
  return `Client assertion is not within its valid time range.${detail} Review the documentation at ${doc} .`;
}
