// Reading the agent API's JSON request bodies: an object, with string members where the contract says so.
import { invalidParameter, invalidRequest, missingParameter } from '../../core/errors.js';
import { isRecord } from '../../core/guards.js';

/** The body as a JSON object; anything else is `InvalidRequestContent` (400). */
export function bodyObject(body: unknown): Readonly<Record<string, unknown>> {
  if (!isRecord(body)) throw invalidRequest('The request body must be a JSON object.');
  return body;
}

/**
 * The string member `name` of `body`: absent (or `null`) is `MissingParameter`, another type or
 * an empty string `InvalidParameter`, a string longer than `maxLength` too (all 400, target `name`).
 */
export function stringMember(
  body: Readonly<Record<string, unknown>>,
  name: string,
  maxLength: number,
): string {
  const value = body[name];
  if (value === undefined || value === null) throw missingParameter(name);
  if (typeof value !== 'string' || value === '' || value.length > maxLength) {
    throw invalidParameter(
      name,
      `The value of '${name}' must be a non-empty string of at most ${maxLength} characters.`,
    );
  }
  return value;
}
