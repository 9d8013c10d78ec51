import { describe, expect, it } from 'vitest';
import { AppError } from '../../core/errors.js';
import { parseImdsQuery } from './query.js';

describe('parseImdsQuery', () => {
  it('decodes names and values once', () => {
    const q = parseImdsQuery(
      'api%2Dversion=2018-02-01&resource=https%3A%2F%2Fvault.azure.net&x=a+b&flag&&',
    );
    expect([...q]).toEqual([
      ['api-version', '2018-02-01'],
      ['resource', 'https://vault.azure.net'],
      ['x', 'a b'],
      ['flag', ''],
    ]);
    expect(parseImdsQuery('').size).toBe(0);
    expect(parseImdsQuery('a=b=c').get('a')).toBe('b=c');
  });

  it('refuses a repeated name, also when spelled differently', () => {
    expect(() => parseImdsQuery('resource=a&resource=b')).toThrow(AppError);
    expect(() => parseImdsQuery('api-version=1&api%2Dversion=1')).toThrow(
      "Query parameter 'api-version' is specified more than once",
    );
    // Names are case-sensitive: these are two parameters.
    expect(parseImdsQuery('resource=a&Resource=b').size).toBe(2);
  });

  it('refuses broken percent-encoding with a 400', () => {
    try {
      parseImdsQuery('resource=%E0%A4%A');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(AppError);
      expect((e as AppError).status).toBe(400);
    }
  });
});
