// Tests for format() and utcNow(): .NET composite, numeric and date-time formatting as ARM applies it.
import { describe, expect, it } from 'vitest';
import { errorOf, evaluate } from '../../../test/fixtures/expression-context.js';
import { formatComposite, formatDate, formatNumber } from './functions-format.js';

describe('format()', () => {
  it('fills numbered items (ARM library: format(->{0}<-, 123) = ->123<-)', () => {
    expect(evaluate("[format('->{0}<-', 123)]")).toBe('->123<-');
    expect(
      evaluate(
        "[format('/subscriptions/{0}/providers/Microsoft.Authorization/roleDefinitions/{1}', subscription().subscriptionId, 'r1')]",
      ),
    ).toBe(
      '/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/roleDefinitions/r1',
    );
    expect(evaluate("[format('{1}-{0}-{1}', 'a', 'b')]")).toBe('b-a-b');
  });

  it('prints numbers with .NET format strings (template-functions-string.md: {0:N0})', () => {
    expect(
      evaluate("[format('{0}, {1}. Formatted number: {2:N0}', 'Hello', 'User', 8175133)]"),
    ).toBe('Hello, User. Formatted number: 8,175,133');
    expect(evaluate("[format('{0:N2}', 1234)]")).toBe('1,234.00');
  });

  it('prints booleans, nulls, arrays and objects as ARM does', () => {
    expect(evaluate("[format('{0}|{1}|{2}', true(), json('null'), createArray('a', 1))]")).toBe(
      "True||['a',1]",
    );
    expect(evaluate('[format(\'{0}\', json(\'{"k":"v"}\'))]')).toBe("{'k':'v'}");
  });

  it('keeps doubled braces as braces, and aligns items', () => {
    expect(evaluate("[format('{{{0}}}', 'x')]")).toBe('{x}');
    expect(evaluate("[format('[{0,5}][{0,-5}]', 'ab')]")).toBe('[   ab][ab   ]');
  });

  it('refuses an item beyond the arguments (ARM library wording)', () => {
    expect(errorOf("[format('->{123}<-', 123)]")).toBe(
      "Unable to evaluate language function 'format': the format is invalid: 'Index (zero based) must be greater than or equal to zero and less than the size of the argument list.'. Please see https://aka.ms/arm-function-format for usage details.",
    );
  });

  it('refuses malformed items with .NET words', () => {
    expect(errorOf("[format('{0', 1)]")).toContain("'Input string was not in a correct format.'");
    expect(errorOf("[format('a}b', 1)]")).toContain("'Input string was not in a correct format.'");
    expect(errorOf("[format('{x}', 1)]")).toContain("'Input string was not in a correct format.'");
    expect(errorOf("[format('{0:Q}', 1)]")).toContain("'Format specifier was invalid.'");
  });
});

describe('formatComposite and formatNumber', () => {
  it('ignores a format string on a string argument, as .NET does', () => {
    expect(formatComposite('{0:N2}', ['abc'])).toBe('abc');
  });

  it.each([
    ['N', 1234.5, '1,234.50'],
    ['N0', -1234567, '-1,234,567'],
    ['n1', 0.25, '0.3'],
    ['F3', 2, '2.000'],
    ['D5', 42, '00042'],
    ['D', -7, '-7'],
    ['X', 255, 'FF'],
    ['x4', 255, '00ff'],
    ['P1', 0.256, '25.6 %'],
    ['G', 12, '12'],
  ])('%s of %d is %s', (spec, value, expected) => {
    expect(formatNumber(value, spec)).toBe(expected);
  });
});

describe('utcNow()', () => {
  // 2019-03-05T17:53:18.123Z, the instant of the examples in template-functions-date.md.
  const now = Date.UTC(2019, 2, 5, 17, 53, 18, 123);

  it("defaults to yyyyMMddTHHmmssZ, and knows 'd' and 'M d' (template-functions-date.md)", () => {
    expect(evaluate('[utcNow()]', { now })).toBe('20190305T175318Z');
    expect(evaluate("[utcNow('d')]", { now })).toBe('03/05/2019');
    expect(evaluate("[utcNow('M d')]", { now })).toBe('3 5');
  });

  it('knows the other standard formats as the invariant culture prints a UTC time', () => {
    expect(formatDate(now, 'u')).toBe('2019-03-05 17:53:18Z');
    expect(formatDate(now, 'o')).toBe('2019-03-05T17:53:18.1230000Z');
    expect(formatDate(now, 's')).toBe('2019-03-05T17:53:18');
    expect(formatDate(now, 'r')).toBe('Tue, 05 Mar 2019 17:53:18 GMT');
    expect(formatDate(now, 'T')).toBe('17:53:18');
    expect(formatDate(now, 'D')).toBe('Tuesday, 05 March 2019');
  });

  it('applies custom formats, with quoted and escaped literals', () => {
    expect(formatDate(now, 'yyyy-MM-dd')).toBe('2019-03-05');
    expect(formatDate(now, "dd MMM yy 'at' h:mm tt")).toBe('05 Mar 19 at 5:53 PM');
    expect(formatDate(now, 'HH\\hmm')).toBe('17h53');
    expect(formatDate(now, 'HHmmss.fff')).toBe('175318.123');
  });

  it('refuses an unknown one-letter format', () => {
    expect(errorOf("[utcNow('Q')]", { now })).toBe(
      "Unable to evaluate language function 'utcNow': the format is invalid: 'Input string was not in a correct format.'.",
    );
  });
});
