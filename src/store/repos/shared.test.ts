// Tests of the repositories' shared helpers: a JSON column value too deep to serialise is a 400, not a crash.
import { describe, expect, it } from 'vitest';
import { isAppError } from '../../core/errors.js';
import { fromJson, toJson } from './shared.js';

describe('toJson', () => {
  it('writes what fromJson reads back', () => {
    const value = { a: [1, 'two', null, { b: true }] };
    expect(fromJson<typeof value>(toJson(value))).toEqual(value);
  });

  it('refuses a value nested too deeply to serialise with a 400, not a stack overflow', () => {
    const levels = 100_000;
    const deep = JSON.parse('['.repeat(levels) + ']'.repeat(levels)) as unknown;
    let thrown: unknown;
    try {
      toJson(deep);
    } catch (error) {
      thrown = error;
    }
    expect(isAppError(thrown) && [thrown.code, thrown.status, thrown.message]).toEqual([
      'InvalidRequest',
      400,
      'The value is nested too deeply to be stored.',
    ]);
  });
});
