// Parses application/x-www-form-urlencoded bodies, keeping repeated parameters visible.
import type { FastifyInstance } from 'fastify';

/** A parsed form: one string per parameter, or every value when a parameter is repeated. */
export type FormBody = Record<string, string | string[]>;

/** Parses a form body. A repeated name yields an array, so the caller can refuse duplicates. */
export function parseForm(text: string): FormBody {
  const out: FormBody = Object.create(null) as FormBody;
  for (const [name, value] of new URLSearchParams(text)) {
    const seen = out[name];
    if (seen === undefined) out[name] = value;
    else out[name] = Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return out;
}

/** Registers the form parser on `app` (and the plugins registered after it). */
export function addFormParser(app: FastifyInstance, bodyLimit = 64 * 1024): void {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit },
    (_request, body, done) => {
      done(null, parseForm(body as string));
    },
  );
}
