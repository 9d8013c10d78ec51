// Tests for the string functions. "Azure" marks outputs Kingsland.ArmLinter recorded from real deployments; "ARM library" marks Azure/bicep's baselines_bicepparam/Expressions, evaluated by Azure.Deployments.Expression.
import { describe, expect, it } from 'vitest';
import { errorOf, evaluate } from '../../../test/fixtures/expression-context.js';

describe('concat', () => {
  it('joins strings, integers and booleans, skipping nulls (Azure: one-TWO-dGhyZWU=)', () => {
    expect(evaluate("[concat(toLower('ONE'), '-', toUpper('two'), '-', base64('three'))]")).toBe(
      'one-TWO-dGhyZWU=',
    );
    expect(evaluate("[concat('hello', '', 'brave', '', 'new', '', 'world')]")).toBe(
      'hellobravenewworld',
    );
    expect(evaluate("[concat('vm', 1, '-', true(), json('null'))]")).toBe('vm1-True');
  });

  it('concatenates arrays when every argument is one (ARM library: concat([abc], [def]))', () => {
    expect(evaluate("[concat(createArray('abc'), createArray('def', 1))]")).toEqual([
      'abc',
      'def',
      1,
    ]);
  });

  it('refuses objects, and arrays mixed with strings', () => {
    expect(errorOf("[concat('a', json('{}'))]")).toBe(
      "The template language function 'concat' expects its second parameter to be a string, an integer, or a boolean. The provided value is of type 'Object'.",
    );
    expect(errorOf("[concat(createArray(1), 'a')]")).toContain('first parameter to be a string');
  });
});

describe('string', () => {
  it('writes objects and arrays as compact JSON, null as empty, booleans as .NET does', () => {
    expect(evaluate('[string(json(\'{"valueA": 10, "valueB": "Example Text"}\'))]')).toBe(
      '{"valueA":10,"valueB":"Example Text"}',
    );
    expect(evaluate("[string(createArray('a', 'b'))]")).toBe('["a","b"]');
    expect(evaluate('[string(5)]')).toBe('5');
    expect(evaluate("[string(json('null'))]")).toBe('');
    expect(evaluate('[string(false())]')).toBe('False');
    expect(evaluate("[string('asdf')]")).toBe('asdf');
  });
});

describe('case, trim, replace', () => {
  it('changes case and trims (ARM library)', () => {
    expect(evaluate("[toLower('AiKInIniIN')]")).toBe('aikininiin');
    expect(evaluate("[toUpper('AiKInIniIN')]")).toBe('AIKININIIN');
    expect(evaluate("[trim('  adf asdf  ')]")).toBe('adf asdf');
    expect(errorOf('[toLower(123)]')).toContain("expects its parameter to be of type 'String'");
  });

  it('replaces every occurrence (ARM library: replace(abc, b, /) = a/c)', () => {
    expect(evaluate("[replace('abc', 'b', '/')]")).toBe('a/c');
    expect(evaluate("[replace('123-123-1234', '-', '')]")).toBe('1231231234');
    expect(evaluate("[replace('aAa', 'a', 'x')]")).toBe('xAx');
    expect(errorOf("[replace('abc', '', 'x')]")).toContain(
      'was invoked with a parameter that is not valid',
    );
  });
});

describe('substring', () => {
  it('takes from a start, for a length or to the end (ARM library: substring(asdfasf, 3) = fasf)', () => {
    expect(evaluate("[substring('asdfasf', 3)]")).toBe('fasf');
    expect(evaluate("[substring('one two three', 4, 3)]")).toBe('two');
    expect(evaluate("[substring('abc', 3, 0)]")).toBe('');
  });

  it("fails beyond the string with ARM's text (template-functions-string.md)", () => {
    expect(errorOf("[substring('1234567890', 0, 11)]")).toBe(
      "Unable to evaluate the template language function 'substring'. The index and length parameters must refer to a location within the string. The index parameter: '0', the length parameter: '11', the length of the string parameter: '10'.",
    );
    expect(errorOf("[substring('abc', -1, 1)]")).toContain("The index parameter: '-1'");
    expect(errorOf("[substring('abc', 4)]")).toContain(
      "The index parameter: '4', the length parameter: '-1'",
    );
  });
});

describe('split', () => {
  it('splits on one delimiter or any of several (ARM library, Kingsland)', () => {
    expect(evaluate("[split('a/b/c', '/')]")).toEqual(['a', 'b', 'c']);
    expect(evaluate("[split('one,two;three', createArray(',', ';'))]")).toEqual([
      'one',
      'two',
      'three',
    ]);
    expect(evaluate("[split('a,,b', ',')]")).toEqual(['a', '', 'b']);
    expect(evaluate("[split('a--b-c', createArray('-', '--'))]")).toEqual(['a', '', 'b', 'c']);
  });

  it("splits '' into [''] (Azure)", () => {
    expect(evaluate("[split('', '')]")).toEqual(['']);
  });

  it('splits on white space when no delimiter is usable, as .NET does', () => {
    expect(evaluate("[split('a b\tc', '')]")).toEqual(['a', 'b', 'c']);
  });

  it('wants a string or an array of strings as the delimiter', () => {
    expect(errorOf("[split('a/b', 1)]")).toBe(
      "The template language function 'split' expects its second parameter to be a string or an array. The provided value is of type 'Integer'.",
    );
  });
});

describe('startsWith, endsWith', () => {
  it('ignore case (Azure: endsWith(abcdef, F) is true)', () => {
    expect(evaluate("[endsWith('abcdef', 'F')]")).toBe(true);
    expect(evaluate("[endsWith('abcdef', 'e')]")).toBe(false);
    expect(evaluate("[endsWith('', '')]")).toBe(true);
    expect(evaluate("[startsWith('abc', 'A')]")).toBe(true);
    expect(evaluate("[startsWith('abc', 'b')]")).toBe(false);
  });

  it('want two strings (Azure wording)', () => {
    expect(errorOf('[endsWith(100, 200)]')).toBe(
      "The template language function 'endsWith' expects its parameters to be of type string and string. The provided value is of type 'Integer' and 'Integer'.",
    );
  });
});

describe('padLeft', () => {
  it('pads strings and integers, with a space by default (ARM library: padLeft(13, 5))', () => {
    expect(evaluate('[padLeft(13, 5)]')).toBe('   13');
    expect(evaluate("[padLeft('123', 10, '0')]")).toBe('0000000123');
    expect(evaluate("[padLeft('123', 2, '0')]")).toBe('123');
  });

  it('wants one padding character', () => {
    expect(errorOf("[padLeft('1', 3, 'ab')]")).toContain(
      'The padding character must be a single character.',
    );
    expect(errorOf('[padLeft(true(), 3)]')).toContain(
      'first parameter to be a string or an integer',
    );
  });
});

describe('base64, base64ToString', () => {
  it('encode and decode UTF-8 (Azure: b25lLCB0d28sIHRocmVl)', () => {
    expect(evaluate("[base64('one, two, three')]")).toBe('b25lLCB0d28sIHRocmVl');
    expect(evaluate("[base64ToString('b25lLCB0d28sIHRocmVl')]")).toBe('one, two, three');
    expect(evaluate("[base64ToString(base64('été'))]")).toBe('été');
  });

  it('refuse text that is not base64 (ARM library wording)', () => {
    expect(errorOf("[base64ToString(concat(base64('abc'), '@'))]")).toBe(
      "The template language function 'base64ToString' was invoked with a parameter that is not valid. The value cannot be decoded from base64 representation.",
    );
    expect(errorOf("[base64ToString('abc')]")).toContain('cannot be decoded from base64');
  });
});

describe('uri, uriComponent, uriComponentToString', () => {
  it('resolves a relative URI against an absolute one (ARM library, template-functions-string.md)', () => {
    expect(evaluate("[uri('https://github.com', 'Azure/bicep')]")).toBe(
      'https://github.com/Azure/bicep',
    );
    expect(evaluate("[uri('http://contoso.com/resources/', 'nested/azuredeploy.json')]")).toBe(
      'http://contoso.com/resources/nested/azuredeploy.json',
    );
    expect(evaluate("[uri('http://contoso.com/resources/azuredeploy.json', 'other.json')]")).toBe(
      'http://contoso.com/resources/other.json',
    );
  });

  it('refuses a base that is not absolute (ARM library wording)', () => {
    expect(errorOf("[uri('github.com', 'Azure/bicep')]")).toBe(
      "The template language function 'uri' expects its first argument to be a uri string. The provided value is 'github.com'. Please see https://aka.ms/arm-function-datauri for usage details.",
    );
  });

  it('escapes all but unreserved characters, like Uri.EscapeDataString (ARM library)', () => {
    expect(evaluate("[uriComponent('UB*8h 0+=_)9h9n')]")).toBe('UB%2A8h%200%2B%3D_%299h9n');
    expect(evaluate("[uriComponent('http://contoso.com/a b')]")).toBe(
      'http%3A%2F%2Fcontoso.com%2Fa%20b',
    );
  });

  it("decodes escapes, leaving bad ones (ARM library: '%20%25%20' is ' % ')", () => {
    expect(evaluate("[uriComponentToString('%20%25%20')]")).toBe(' % ');
    expect(evaluate("[uriComponentToString('http%3A%2F%2Fcontoso.com%2F%C3%A9')]")).toBe(
      'http://contoso.com/é',
    );
    expect(evaluate("[uriComponentToString('100%')]")).toBe('100%');
  });
});

describe('newGuid and utcNow', () => {
  it('take their values from the context', () => {
    const options = {
      newGuid: '6f1a2b3c-0000-4000-8000-000000000000',
      now: Date.UTC(2019, 2, 5, 17, 53, 18),
    };
    expect(evaluate('[newGuid()]', options)).toBe(options.newGuid);
    expect(evaluate('[utcNow()]', options)).toBe('20190305T175318Z');
  });

  it('are refused where the engine gives neither (parameter defaults only)', () => {
    expect(errorOf('[newGuid()]')).toBe(
      "The template function 'newGuid' is not expected at this location.",
    );
    expect(errorOf("[UTCNOW('u')]")).toBe(
      "The template function 'UTCNOW' is not expected at this location.",
    );
  });
});
