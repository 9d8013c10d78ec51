// Tests for the function table: the phase-1 set is complete, names match in any case, argument counts fail in ARM's words.
import { describe, expect, it } from 'vitest';
import { errorOf, evaluate } from '../../../test/fixtures/expression-context.js';
import { builtInFunctionNames } from './functions.js';

/** PROTOCOL-TOOLS.md Part C §5, phase 1, plus the brief's additions (lastIndexOf, base64ToString, …). */
const PHASE_1 = [
  'parameters', 'variables', 'concat', 'format', 'string', 'int', 'bool', 'json', 'toLower',
  'toUpper', 'trim', 'replace', 'substring', 'split', 'startsWith', 'endsWith', 'contains',
  'length', 'empty', 'first', 'last', 'take', 'skip', 'indexOf', 'lastIndexOf', 'padLeft',
  'base64', 'base64ToString', 'uri', 'uriComponent', 'uriComponentToString', 'uniqueString',
  'guid', 'newGuid', 'utcNow', 'if', 'and', 'or', 'not', 'true', 'false', 'equals', 'greater',
  'greaterOrEquals', 'less', 'lessOrEquals', 'coalesce', 'tryGet', 'createArray',
  'createObject', 'array', 'union', 'intersection', 'range', 'items', 'min', 'max', 'add', 'sub',
  'mul', 'div', 'mod', 'copyIndex', 'resourceGroup', 'subscription', 'tenant', 'deployment',
  'environment', 'resourceId', 'subscriptionResourceId', 'extensionResourceId',
  'tenantResourceId', 'reference',
]; // prettier-ignore

describe('function table', () => {
  it('has every phase-1 function', () => {
    expect(new Set(builtInFunctionNames())).toEqual(new Set([...PHASE_1, 'null']));
  });

  it('finds functions whatever the case of their name', () => {
    expect(evaluate("[TOLOWER('A')]")).toBe('a');
    expect(evaluate("[resourceID('Microsoft.Storage/storageAccounts', 'sa')]")).toMatch(
      /\/storageAccounts\/sa$/,
    );
  });
});

describe("argument counts in ARM's words", () => {
  it('states an exact count (observed from Azure for endsWith, first, indexOf, empty)', () => {
    expect(errorOf("[endsWith('one', 'two', 'three')]")).toBe(
      "Unable to evaluate template language function 'endsWith': function requires 2 argument(s) while 3 were provided. Please see https://aka.ms/arm-resource-functions/#endsWith for usage details.",
    );
    expect(errorOf('[first()]')).toBe(
      "Unable to evaluate template language function 'first': function requires 1 argument(s) while 0 were provided. Please see https://aka.ms/arm-resource-functions/#first for usage details.",
    );
  });

  it('echoes the name as written and links the documented one', () => {
    expect(errorOf("[EMPTY('a', 'b')]")).toBe(
      "Unable to evaluate template language function 'EMPTY': function requires 1 argument(s) while 2 were provided. Please see https://aka.ms/arm-resource-functions/#empty for usage details.",
    );
  });

  it('states a range ("between 2 and 3", as the ARM library says for toObject)', () => {
    expect(errorOf("[substring('a')]")).toBe(
      "Unable to evaluate template language function 'substring': function requires between 2 and 3 argument(s) while 1 were provided. Please see https://aka.ms/arm-resource-functions/#substring for usage details.",
    );
  });

  it('states a minimum, with a lower-case anchor for the resource-id functions', () => {
    expect(errorOf('[resourceId()]')).toBe(
      "Unable to evaluate template language function 'resourceId': function requires at least 2 argument(s) while 0 were provided. Please see https://aka.ms/arm-resource-functions/#resourceid for usage details.",
    );
  });

  it("uses concat's and base64's own words (observed from Azure)", () => {
    expect(errorOf('[concat()]')).toBe(
      "Unable to evaluate template language function 'concat'. At least one parameter should be provided.",
    );
    expect(errorOf("[base64('one', 'two')]")).toBe(
      "The template language function 'base64' must have only one parameter.",
    );
  });

  it('checks the count before evaluating any argument', () => {
    expect(errorOf("[not(parameters('missing'), true())]")).toContain(
      'function requires 1 argument(s) while 2 were provided',
    );
  });

  it('counts zero-argument functions too', () => {
    expect(errorOf('[true(1)]')).toContain('function requires 0 argument(s) while 1 were provided');
  });
});

describe("argument types in ARM's words", () => {
  it('names the expected and provided types (observed for base64)', () => {
    expect(errorOf('[base64(100)]')).toBe(
      "The template language function 'base64' expects its parameter to be of type 'String'. The provided value is of type 'Integer'.",
    );
    expect(errorOf("[base64(createArray(''))]")).toBe(
      "The template language function 'base64' expects its parameter to be of type 'String'. The provided value is of type 'Array'.",
    );
  });

  it('says which parameter when there are several', () => {
    expect(errorOf("[substring('abc', '1')]")).toBe(
      "The template language function 'substring' expects its second parameter to be of type 'Integer'. The provided value is of type 'String'.",
    );
  });

  it('lists alternatives the way ARM words first() and empty()', () => {
    expect(errorOf('[first(100)]')).toBe(
      "The template language function 'first' expects its parameter to be an array or a string. The provided value is of type 'Integer'.",
    );
  });
});
