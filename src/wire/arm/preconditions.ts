// ARM's conditional requests: If-Match and If-None-Match against a resource's etag.
import { AppError } from '../../core/errors.js';

/** Request headers as Node gives them: names lower-case. */
type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

function headerValues(headers: RequestHeaders, name: string): string[] | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  const values: readonly string[] = typeof value === 'string' ? [value] : value;
  return values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/**
 * Checks a request's `If-Match` and `If-None-Match` (RFC 9110 section 13.1), from `headers`
 * (names lower-case), against the stored resource: `If-Match: *` needs it to exist, `If-Match: "e1", "e2"` needs its etag among them
 * (weak tags compare by their opaque part), `If-None-Match: *` needs it not to exist. Fails with
 * ARM's `PreconditionFailed` (412) naming the header.
 */
export function checkPreconditions(
  headers: RequestHeaders,
  existing: { readonly etag?: string | null | undefined } | undefined,
): void {
  const opaque = (tag: string): string => (tag.startsWith('W/') ? tag.slice(2) : tag);
  const ifMatch = headerValues(headers, 'if-match');
  if (ifMatch !== undefined) {
    const holds =
      existing !== undefined &&
      (ifMatch.includes('*') || ifMatch.some((tag) => opaque(tag) === opaque(existing.etag ?? '')));
    if (!holds) {
      throw new AppError(
        'PreconditionFailed',
        existing === undefined
          ? 'The resource does not exist, so the If-Match condition does not hold.'
          : `The If-Match condition does not hold: the resource's etag is ${existing.etag ?? ''}.`,
        { status: 412, target: 'If-Match' },
      );
    }
  }
  const ifNoneMatch = headerValues(headers, 'if-none-match');
  if (ifNoneMatch !== undefined && existing !== undefined) {
    const fails =
      ifNoneMatch.includes('*') ||
      ifNoneMatch.some((tag) => opaque(tag) === opaque(existing.etag ?? ''));
    if (fails) {
      throw new AppError(
        'PreconditionFailed',
        'The resource exists, so the If-None-Match condition does not hold.',
        { status: 412, target: 'If-None-Match' },
      );
    }
  }
}
