// Tests for the array and object functions. "ARM library" marks Azure/bicep's baselines_bicepparam/Expressions, evaluated by Azure.Deployments.Expression; "Azure" marks Kingsland.ArmLinter's recorded deployment outputs.
import { describe, expect, it } from 'vitest';
import { errorOf, evaluate } from '../../../test/fixtures/expression-context.js';

const parameters = {
  list: [1, 2, 3],
  empty: [],
  obj: { Foo: 'abc', bar: 123 },
  nested: { a: { b: [{ c: 'deep' }] } },
};

describe('length and empty', () => {
  it('count characters, items and keys (ARM library: length([0,1,2]) = 3, length({}) = 0)', () => {
    expect(evaluate("[length('One Two Three')]")).toBe(13);
    expect(evaluate("[length(parameters('list'))]", { parameters })).toBe(3);
    expect(evaluate("[length(parameters('obj'))]", { parameters })).toBe(2);
    expect(evaluate("[length(json('{}'))]")).toBe(0);
    expect(errorOf('[length(5)]')).toContain('expects its parameter to be an array or a string');
  });

  it('find null, empty strings, arrays and objects empty (ARM library: empty([]) is true)', () => {
    expect(evaluate("[empty('')]")).toBe(true);
    expect(evaluate("[empty(parameters('empty'))]", { parameters })).toBe(true);
    expect(evaluate("[empty(json('{}'))]")).toBe(true);
    expect(evaluate("[empty(json('null'))]")).toBe(true);
    expect(evaluate("[empty('a')]")).toBe(false);
    expect(evaluate("[empty(parameters('obj'))]", { parameters })).toBe(false);
  });

  it("word empty()'s type error as Azure does", () => {
    expect(errorOf('[empty(100)]')).toBe(
      "The template function 'empty' expects its parameter to be an object, an array, or a string. The provided value is of type 'Integer'.",
    );
  });
});

describe('first, last, take, skip', () => {
  it('take the first or last element or character (ARM library: first([124, 25]) = 124)', () => {
    expect(evaluate('[first(createArray(124, 25))]')).toBe(124);
    expect(evaluate('[last(createArray(1, 2))]')).toBe(2);
    expect(evaluate("[first('One Two Three')]")).toBe('O');
    expect(evaluate("[last('One Two Three')]")).toBe('e');
  });

  it('answer null for an empty array or null, and empty for an empty string', () => {
    expect(evaluate("[first(parameters('empty'))]", { parameters })).toBeNull();
    expect(evaluate("[last(json('null'))]")).toBeNull();
    expect(evaluate("[first('')]")).toBe('');
  });

  it('take and skip counts, below zero counting as zero (Kingsland)', () => {
    expect(evaluate('[take(createArray(1, 2, 3), 2)]')).toEqual([1, 2]);
    expect(evaluate('[skip(createArray(1, 2, 3), 1)]')).toEqual([2, 3]);
    expect(evaluate("[skip('one two three', 4)]")).toBe('two three');
    expect(evaluate("[skip('one two three', -100)]")).toBe('one two three');
    expect(evaluate("[skip('one two three', 100)]")).toBe('');
    expect(evaluate("[take('abc', -1)]")).toBe('');
    expect(evaluate("[take('abc', 10)]")).toBe('abc');
    expect(errorOf("[take('abc', '1')]")).toContain("second parameter to be of type 'Integer'");
  });
});

describe('indexOf, lastIndexOf, contains', () => {
  it('search strings ignoring case (ARM library, Azure: indexOf(abcdef, CD) = 2)', () => {
    expect(evaluate("[indexOf('abc', 'b')]")).toBe(1);
    expect(evaluate("[indexOf('abcdef', 'CD')]")).toBe(2);
    expect(evaluate("[indexOf('abcdef', 'z')]")).toBe(-1);
    expect(evaluate("[indexOf('', '')]")).toBe(0);
    expect(evaluate("[lastIndexOf('abcba', 'b')]")).toBe(3);
    expect(evaluate("[lastIndexOf('abcdef', 'AB')]")).toBe(0);
  });

  it('search arrays by deep equality', () => {
    expect(evaluate("[indexOf(createArray('a', createArray(1), 'a'), createArray(1))]")).toBe(1);
    expect(evaluate("[lastIndexOf(createArray('a', 'b', 'a'), 'a')]")).toBe(2);
    expect(evaluate("[indexOf(createArray('A'), 'a')]")).toBe(-1);
  });

  it('contains: object keys ignoring case, array items, substrings with case (template-functions-string.md)', () => {
    expect(evaluate("[contains('foo/bar', '/')]")).toBe(true);
    expect(evaluate("[contains('OneTwoThree', 'e')]")).toBe(true);
    expect(evaluate("[contains('OneTwoThree', 'two')]")).toBe(false);
    expect(evaluate("[contains(parameters('obj'), 'FOO')]", { parameters })).toBe(true);
    expect(evaluate("[contains(parameters('obj'), 'baz')]", { parameters })).toBe(false);
    expect(evaluate("[contains(parameters('list'), 2)]", { parameters })).toBe(true);
    expect(evaluate("[contains(parameters('list'), '2')]", { parameters })).toBe(false);
    expect(errorOf('[contains(1, 1)]')).toContain('to be an object, an array, or a string');
  });
});

describe('createArray, createObject, array', () => {
  it('build arrays and objects, empty ones included', () => {
    expect(evaluate("[createArray(1, 'a', true(), json('null'))]")).toEqual([1, 'a', true, null]);
    expect(evaluate('[createArray()]')).toEqual([]);
    expect(evaluate("[createObject('a', 1, 'b', createArray(2))]")).toEqual({ a: 1, b: [2] });
    expect(evaluate('[createObject()]')).toEqual({});
  });

  it('refuse an odd count, a non-string key and a repeated key', () => {
    expect(errorOf("[createObject('a')]")).toContain('an even number of parameters');
    expect(errorOf('[createObject(1, 2)]')).toContain("first parameter to be of type 'String'");
    expect(errorOf("[createObject('a', 1, 'A', 2)]")).toContain("'A' is provided more than once");
  });

  it('array() wraps anything but an array', () => {
    expect(evaluate("[array('a')]")).toEqual(['a']);
    expect(evaluate('[array(createArray(1))]')).toEqual([1]);
    expect(evaluate("[array(json('{}'))]")).toEqual([{}]);
  });
});

describe('union and intersection', () => {
  it('union of arrays keeps each value once, in order', () => {
    expect(evaluate("[union(createArray('one', 'two'), createArray('two', 'three'))]")).toEqual([
      'one',
      'two',
      'three',
    ]);
    expect(evaluate('[union(createArray(1, 1), createArray(1))]')).toEqual([1]);
  });

  it('union of objects merges deeply, later values winning, keys ignoring case (ARM library)', () => {
    expect(evaluate('[union(json(\'{"abc":"def"}\'), json(\'{"def":"ghi"}\'))]')).toEqual({
      abc: 'def',
      def: 'ghi',
    });
    const objects = {
      a: { Tags: { env: 'dev', team: 'x' }, sku: 'S1', list: [1] },
      b: { tags: { ENV: 'prod' }, list: [2] },
    };
    expect(evaluate("[union(parameters('a'), parameters('b'))]", { parameters: objects })).toEqual({
      Tags: { env: 'prod', team: 'x' },
      sku: 'S1',
      list: [2],
    });
  });

  it('union refuses mixed kinds', () => {
    expect(errorOf("[union(createArray(1), json('{}'))]")).toBe(
      "The template language function 'union' expects its second parameter to be of type 'Array'. The provided value is of type 'Object'.",
    );
    expect(errorOf("[union('a', 'b')]")).toContain('to be an array or an object');
  });

  it('intersection keeps what every argument has (ARM library: [2, 3])', () => {
    expect(evaluate('[intersection(createArray(1, 2, 3), createArray(2, 3, 4))]')).toEqual([2, 3]);
    expect(evaluate("[intersection(createArray('aaa'), createArray('bbb'))]")).toEqual([]);
    expect(
      evaluate(
        '[intersection(json(\'{"a":1,"b":2}\'), json(\'{"a":1,"b":3}\'), json(\'{"a":1}\'))]',
      ),
    ).toEqual({ a: 1 });
  });
});

describe('range, items, tryGet, coalesce', () => {
  it('range counts up from a start (ARM library: range(0, 3))', () => {
    expect(evaluate('[range(0, 3)]')).toEqual([0, 1, 2]);
    expect(evaluate('[range(-2, 2)]')).toEqual([-2, -1]);
    expect(evaluate('[range(5, 0)]')).toEqual([]);
    expect(errorOf('[range(0, 10001)]')).toContain('must be between 0 and 10000');
    expect(errorOf('[range(2147483647, 2)]')).toContain('must not exceed 2147483647');
  });

  it('items lists key and value, sorted by key ignoring case (ARM library)', () => {
    expect(evaluate("[items(parameters('obj'))]", { parameters })).toEqual([
      { key: 'bar', value: 123 },
      { key: 'Foo', value: 'abc' },
    ]);
    expect(errorOf("[items('asdfas')]")).toContain("expects its parameter to be of type 'Object'");
  });

  it('tryGet follows keys and indexes, answering null instead of failing', () => {
    expect(evaluate("[tryGet(parameters('nested'), 'A', 'b', 0, 'c')]", { parameters })).toBe(
      'deep',
    );
    expect(
      evaluate("[tryGet(parameters('nested'), 'a', 'missing', 'c')]", { parameters }),
    ).toBeNull();
    expect(evaluate("[tryGet(parameters('nested'), 'a', 'b', 5)]", { parameters })).toBeNull();
    expect(evaluate("[tryGet(json('null'), 'a')]")).toBeNull();
    expect(errorOf("[tryGet(parameters('nested'), true())]", { parameters })).toContain(
      'second parameter to be a string or an integer',
    );
  });

  it('coalesce answers the first non-null argument', () => {
    expect(evaluate("[coalesce(json('null'), json('null'), 'x', 'y')]")).toBe('x');
    expect(evaluate("[coalesce(json('null'))]")).toBeNull();
  });
});

describe('min and max', () => {
  it('take integers one by one or as an array (ARM library: min(1, 2, 3) = 1)', () => {
    expect(evaluate('[min(1, 2, 3)]')).toBe(1);
    expect(evaluate('[max(1, 2, 3)]')).toBe(3);
    expect(evaluate('[max(createArray(0, 3, 2, 5, 4))]')).toBe(5);
    expect(evaluate('[min(createArray(-1, 7))]')).toBe(-1);
  });

  it('refuse non-numbers and an empty array', () => {
    expect(errorOf("[max(1, 2, '3')]")).toContain("third parameter to be of type 'Integer'");
    expect(errorOf('[min(createArray())]')).toContain('The array must not be empty.');
  });
});
