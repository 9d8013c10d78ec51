// IMDS query strings: parsed once, repeated names refused as IMDS documents.
import { invalidRequest } from '../../core/errors.js';

/** A parsed query: decoded name → decoded value. Names are case-sensitive, as sent. */
export type ImdsQuery = ReadonlyMap<string, string>;

const EMPTY: ImdsQuery = new Map();

/** `+` is a space and `%XX` a byte, as in `application/x-www-form-urlencoded`. */
function decode(part: string): string {
  if (part.indexOf('%') < 0 && part.indexOf('+') < 0) return part;
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '));
  } catch {
    throw invalidRequest('Bad request. The query string is malformed.');
  }
}

/**
 * Parses the query string of a request (the part after `?`, without it). Names and values are
 * percent-decoded (`api%2Dversion` is `api-version`); an empty pair (`&&`) is skipped; a name
 * without `=` has the value `''`. Throws `InvalidRequest` (400) for a name given twice, which
 * IMDS documents as rejected ("Requests with duplicate query parameter names will be
 * rejected", IMDS documentation "Query parameters"), and for invalid percent-encoding.
 */
export function parseImdsQuery(raw: string): ImdsQuery {
  if (raw === '') return EMPTY;
  const query = new Map<string, string>();
  let start = 0;
  while (start <= raw.length) {
    let end = raw.indexOf('&', start);
    if (end < 0) end = raw.length;
    if (end > start) {
      const eq = raw.indexOf('=', start);
      const hasValue = eq >= 0 && eq < end;
      const name = decode(raw.slice(start, hasValue ? eq : end));
      const value = hasValue ? decode(raw.slice(eq + 1, end)) : '';
      if (query.has(name)) {
        const shown = name.length > 64 ? `${name.slice(0, 64)}...` : name;
        throw invalidRequest(
          `Bad request. Query parameter '${shown}' is specified more than once.`,
        );
      }
      query.set(name, value);
    }
    start = end + 1;
  }
  return query;
}
