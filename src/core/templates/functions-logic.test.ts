// Tests for logical, comparison, conversion and numeric functions. "ARM library" marks Azure/bicep's baselines_bicepparam (Invalid_)Expressions, evaluated by Azure.Deployments.Expression.
import { describe, expect, it } from 'vitest';
import { errorOf, evaluate, fakeContext } from '../../../test/fixtures/expression-context.js';
import { evaluateTemplateString } from './expressions.js';

describe('if, and, or, not', () => {
  it('if picks a branch and evaluates only that one', () => {
    expect(evaluate("[if(equals(1, 1), 'yes', 'no')]")).toBe('yes');
    expect(evaluate("[if(false(), parameters('missing'), 'no')]")).toBe('no');
    expect(evaluate("[if(true(), json('null'), 1)]")).toBeNull();
  });

  it('if wants a boolean condition', () => {
    expect(errorOf("[if('true', 1, 2)]")).toBe(
      "The template language function 'if' expects its first parameter to be of type 'Boolean'. The provided value is of type 'String'.",
    );
  });

  it('and/or need two or more booleans and stop once the result is known', () => {
    expect(evaluate('[and(true(), true(), false())]')).toBe(false);
    expect(evaluate('[or(false(), false(), true())]')).toBe(true);
    expect(evaluate("[and(false(), parameters('missing'))]")).toBe(false);
    expect(evaluate("[or(true(), parameters('missing'))]")).toBe(true);
    expect(errorOf("[and(true(), 'x')]")).toContain("second parameter to be of type 'Boolean'");
    expect(errorOf('[or(true())]')).toContain('function requires at least 2 argument(s) while 1');
  });

  it('not negates a boolean', () => {
    expect(evaluate('[not(equals(1, 2))]')).toBe(true);
    expect(errorOf('[not(0)]')).toContain("expects its parameter to be of type 'Boolean'");
  });

  it('true(), false() and null() are values', () => {
    expect(evaluate('[createArray(true(), false(), null())]')).toEqual([true, false, null]);
  });
});

describe('bool, int, json', () => {
  it('bool converts booleans, true/false strings and integers', () => {
    expect(evaluate("[bool('TRUE')]")).toBe(true);
    expect(evaluate("[bool('false')]")).toBe(false);
    expect(evaluate('[bool(1)]')).toBe(true);
    expect(evaluate('[bool(0)]')).toBe(false);
    expect(evaluate('[bool(true())]')).toBe(true);
  });

  it('bool refuses anything else (ARM library wording)', () => {
    expect(errorOf("[bool('sdf')]")).toBe(
      "The template language function 'bool' was invoked with a parameter that is not valid. The value cannot be converted to the target type.",
    );
  });

  it('int converts integer strings (ARM library: int(123))', () => {
    expect(evaluate("[int('4')]")).toBe(4);
    expect(evaluate("[int(' -12 ')]")).toBe(-12);
    expect(evaluate('[int(123)]')).toBe(123);
    expect(errorOf("[int('asdf')]")).toBe(
      "The template language function 'int' cannot convert provided value 'asdf' to integer value. Please see https://aka.ms/arm-function-int for usage details.",
    );
    expect(errorOf("[int('1.5')]")).toContain("cannot convert provided value '1.5'");
    expect(errorOf('[int(true())]')).toContain('to be an integer or a string');
  });

  it("json parses text; json('null') is null and json(null) is {} (template-expressions.md)", () => {
    expect(evaluate('[json(\'{"a": [1, {"b": null}]}\')]')).toEqual({ a: [1, { b: null }] });
    expect(evaluate("[json('[]')]")).toEqual([]);
    expect(evaluate("[json('null')]")).toBeNull();
    expect(evaluate("[json(json('null'))]")).toEqual({});
    expect(evaluate("[json('true')]")).toBe(true);
    expect(errorOf("[json('{')]")).toContain('The value cannot be converted to the target type.');
    expect(errorOf('[json(1)]')).toContain("expects its parameter to be of type 'String'");
  });

  it('json results can be selected from', () => {
    expect(evaluate('[json(\'{"Hi": "there"}\').hi]')).toBe('there');
  });
});

describe('equals and ordering', () => {
  it('equals compares deeply, strings with case', () => {
    expect(evaluate('[equals(1, 1)]')).toBe(true);
    expect(evaluate("[equals('a', 'A')]")).toBe(false);
    expect(evaluate("[equals(createArray(1, 'a'), createArray(1, 'a'))]")).toBe(true);
    expect(evaluate('[equals(json(\'{"a":1,"b":2}\'), json(\'{"b":2,"a":1}\'))]')).toBe(true);
    expect(evaluate('[equals(json(\'{"a":1}\'), json(\'{"A":1}\'))]')).toBe(false);
    expect(evaluate("[equals(1, '1')]")).toBe(false);
    expect(evaluate("[equals(json('null'), json('null'))]")).toBe(true);
  });

  it('orders numbers, and strings in culture order', () => {
    expect(evaluate('[greater(10, 5)]')).toBe(true);
    expect(evaluate('[greaterOrEquals(5, 5)]')).toBe(true);
    expect(evaluate('[less(-1, 0)]')).toBe(true);
    expect(evaluate('[lessOrEquals(6, 5)]')).toBe(false);
    expect(evaluate("[greater('b', 'a')]")).toBe(true);
    expect(evaluate("[less('a', 'B')]")).toBe(true);
    expect(evaluate("[lessOrEquals('abc', 'abc')]")).toBe(true);
  });

  it('refuses to order values of different types (ARM library wording)', () => {
    expect(errorOf("[less(1, 'foo')]")).toBe(
      "The template language function 'less' expects two parameters of matching types. The function was invoked with values of type 'Integer' and 'String' that do not match.",
    );
    expect(errorOf('[greater(true(), false())]')).toContain(
      "values of type 'Boolean' and 'Boolean'",
    );
  });
});

describe('add, sub, mul, div, mod', () => {
  it('compute on integers', () => {
    expect(evaluate('[add(5, 3)]')).toBe(8);
    expect(evaluate('[sub(7, 10)]')).toBe(-3);
    expect(evaluate('[mul(5, 3)]')).toBe(15);
    expect(evaluate('[div(8, 3)]')).toBe(2);
    expect(evaluate('[mod(7, 3)]')).toBe(1);
  });

  it('truncate toward zero and keep the sign of the dividend, as C# does', () => {
    expect(evaluate('[div(-7, 2)]')).toBe(-3);
    expect(evaluate('[mod(-7, 2)]')).toBe(-1);
    expect(evaluate('[mod(7, -2)]')).toBe(1);
  });

  it('refuse division by zero', () => {
    expect(errorOf('[div(1, 0)]')).toBe(
      "The template language function 'div' was invoked with a parameter that is not valid. Attempted to divide by zero.",
    );
    expect(errorOf('[mod(1, 0)]')).toContain('Attempted to divide by zero.');
  });

  it('refuse results JavaScript cannot hold exactly instead of rounding them', () => {
    expect(errorOf('[mul(2147483647, 2147483647)]')).toBe(
      "The template language function 'mul' was invoked with a parameter that is not valid. Arithmetic operation resulted in an overflow.",
    );
  });

  it('refuse non-integers', () => {
    expect(errorOf("[add(1, '2')]")).toBe(
      "The template language function 'add' expects its second parameter to be of type 'Integer'. The provided value is of type 'String'.",
    );
  });

  it('work on large integers supplied as parameters', () => {
    const ctx = fakeContext({ parameters: { big: 2 ** 40 } });
    expect(evaluateTemplateString("[mul(parameters('big'), 4096)]", ctx)).toBe(2 ** 52);
    expect(() => evaluateTemplateString("[mul(parameters('big'), 8192)]", ctx)).toThrow('overflow');
  });
});
