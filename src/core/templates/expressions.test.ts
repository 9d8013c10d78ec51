// Tests for the expression language itself: what is an expression, the parser's grammar and ARM's parse errors, member and index access.
import { describe, expect, it } from 'vitest';
import { errorOf, evaluate, fakeContext } from '../../../test/fixtures/expression-context.js';
import { TemplateExpressionError } from './context.js';
import { evaluateExpression, isExpression, parseExpression } from './expressions.js';

describe('isExpression and evaluateTemplateString', () => {
  it('treats a string in brackets as an expression', () => {
    expect(isExpression("[concat('a')]")).toBe(true);
    expect(evaluate("[concat('a', 'b')]")).toBe('ab');
  });

  it('returns anything else unchanged (template-expressions.md: "[test] value" is a literal)', () => {
    for (const text of ['plain', '[test] value', 'value [test]', '[', ']', '', ' [concat()]']) {
      expect(isExpression(text)).toBe(false);
      expect(evaluate(text)).toBe(text);
    }
  });

  it('unescapes [[ only when the string also ends with ]', () => {
    expect(isExpression('[[test value]')).toBe(false);
    expect(evaluate('[[test value]')).toBe('[test value]');
    expect(evaluate("[[concat('a')]")).toBe("[concat('a')]");
    expect(evaluate('[[not closed')).toBe('[[not closed');
  });

  it('yields typed values, not only strings', () => {
    expect(evaluate('[add(1, 2)]')).toBe(3);
    expect(evaluate('[true()]')).toBe(true);
    expect(evaluate('[json(\'{"a":[1]}\')]')).toEqual({ a: [1] });
    expect(evaluate("[json('null')]")).toBeNull();
  });
});

describe('parser', () => {
  it('reads string literals with doubled quotes as one quote', () => {
    expect(evaluate("[concat('it''s', '''')]")).toBe("it's'");
    expect(evaluate("[concat('')]")).toBe('');
  });

  it('reads integers, negative ones included', () => {
    expect(evaluate('[add(-5, 12)]')).toBe(7);
    expect(evaluate('[createArray(0, -2147483648, 2147483647)]')).toEqual([
      0, -2147483648, 2147483647,
    ]);
  });

  it('allows white space, newlines included, between tokens', () => {
    expect(evaluate("[ concat (\n  'a' ,\t'b'\r\n) ]")).toBe('ab');
    expect(evaluate("[parameters('o') . a [ 0 ]]", { parameters: { o: { a: [7] } } })).toBe(7);
  });

  it('nests calls', () => {
    expect(evaluate("[toUpper(concat(toLower('AB'), substring('xyz', 1, 1)))]")).toBe('ABY');
  });

  it('matches function names in any case', () => {
    expect(evaluate("[CONCAT('a', ToLower('B'))]")).toBe('ab');
    expect(evaluate("[uniquestring('test')]")).toBe(evaluate("[uniqueString('test')]"));
  });

  it('chains member and index access after a call', () => {
    const parameters = { config: { Items: [{ name: 'x' }, { name: 'y', tags: { k: 'v' } }] } };
    expect(evaluate("[parameters('config').items[1].tags['K']]", { parameters })).toBe('v');
    expect(evaluate('[range(0, 4)[2]]')).toBe(2);
    expect(evaluate("[split('a/b/c', '/')[add(1, 1)]]")).toBe('c');
  });

  it('uses an expression as an index (variables(x)[parameters(y)])', () => {
    const options = {
      variables: { roles: { Owner: 'o-id', Reader: 'r-id' } },
      parameters: { role: 'reader' },
    };
    expect(evaluate("[variables('roles')[parameters('role')]]", options)).toBe('r-id');
  });

  it('builds an AST with positions', () => {
    expect(parseExpression("concat('a', 1).x[0]")).toEqual({
      kind: 'index',
      position: 16,
      index: { kind: 'integer', value: 0, position: 17 },
      target: {
        kind: 'property',
        name: 'x',
        position: 15,
        target: {
          kind: 'call',
          name: 'concat',
          position: 0,
          args: [
            { kind: 'string', value: 'a', position: 7 },
            { kind: 'integer', value: 1, position: 12 },
          ],
        },
      },
    });
  });

  it('parses a user function call ns.name(...)', () => {
    expect(parseExpression("contoso.uniqueName('a')")).toMatchObject({
      kind: 'call',
      namespace: 'contoso',
      name: 'uniqueName',
    });
  });
});

describe("parse errors in ARM's words", () => {
  it('names the first character no token starts with (Bicep decompiler test, from the ARM library)', () => {
    expect(errorOf('[bad-expression]')).toBe(
      "The language expression 'bad-expression' is not valid: the string character 'x' at position '5' is not expected.",
    );
  });

  it('positions are 0-based offsets in the expression (as in Logic Apps\' "@ at position 5")', () => {
    expect(errorOf("[json(@{body('x')})]")).toBe(
      "The language expression 'json(@{body('x')})' is not valid: the string character '@' at position '5' is not expected.",
    );
    expect(errorOf("[concat('a') ; 1]")).toContain("the string character ';' at position '12'");
  });

  it('reports an unterminated string at its opening quote (observed, azure-docs issue text)', () => {
    const expression =
      "resourceId('Microsoft.Network/virtualNetworks/subnets', parameters('virtualNetworks_JoseCyberManVnet_name'), 'SensorSubnet1)";
    expect(errorOf(`[${expression}]`)).toBe(
      `The language expression '${expression}' is not valid: the string constant at position '109' is not terminated. String constants must be enclosed within a pair of single quotes.`,
    );
  });

  it('refuses an integer beyond 32 bits (Kingsland.ArmLinter, from an Azure error)', () => {
    expect(errorOf('[dataUri(2147483648)]')).toBe(
      "The language expression 'dataUri(2147483648)' is not valid: the value '2147483648' at position '8' cannot be converted to number.",
    );
    expect(errorOf('[add(1.5, 1)]')).toContain(
      "the value '1.5' at position '4' cannot be converted",
    );
  });

  it('names the expected and the actual token (observed: EndOfData, Identifier, RightParenthesis)', () => {
    expect(errorOf('[ ]')).toBe(
      "Unable to parse language expression ' ': expected token 'Identifier' and actual 'EndOfData'.",
    );
    expect(errorOf("[concat('a'))]")).toBe(
      "Unable to parse language expression 'concat('a'))': expected token 'EndOfData' and actual 'RightParenthesis'.",
    );
    expect(evaluate("[concat('a'")).toBe("[concat('a'");
    expect(errorOf("[concat('a']")).toContain(
      "expected token 'RightParenthesis' and actual 'EndOfData'",
    );
    expect(errorOf("['abc']")).toContain("expected token 'Identifier' and actual 'String'");
    expect(errorOf('[concat]')).toContain(
      "expected token 'LeftParenthesis' and actual 'EndOfData'",
    );
    expect(errorOf("[concat('a',)]")).toContain(
      "expected token 'Identifier' and actual 'RightParenthesis'",
    );
    expect(errorOf('[resourceGroup().]')).toContain(
      "expected token 'Identifier' and actual 'EndOfData'",
    );
  });

  it('throws TemplateExpressionError from parseExpression', () => {
    expect(() => parseExpression('x(')).toThrow(TemplateExpressionError);
  });
});

describe('member and index access', () => {
  const parameters = { obj: { Alpha: 1, beta: null, list: ['a', 'b'] } };

  it('looks properties up ignoring case (resourceGroup().Name, reference(...).Identity)', () => {
    expect(evaluate("[parameters('obj').alpha]", { parameters })).toBe(1);
    expect(evaluate("[parameters('obj')['ALPHA']]", { parameters })).toBe(1);
    expect(evaluate('[resourceGroup().Name]')).toBe('rg1');
  });

  it('lists the available properties when one is missing (observed wording)', () => {
    expect(errorOf("[parameters('obj').gamma]", { parameters })).toBe(
      "The language expression property 'gamma' doesn't exist, available properties are 'Alpha, beta, list'.",
    );
    expect(errorOf('[deployment().properties.templateLink]')).toBe(
      "The language expression property 'templateLink' doesn't exist, available properties are ''.",
    );
  });

  it('fails on an array index out of bounds (observed wording)', () => {
    expect(errorOf("[parameters('obj').list[2]]", { parameters })).toBe(
      "The language expression property array index '2' is out of bounds.",
    );
    expect(errorOf("[parameters('obj').list[-1]]", { parameters })).toBe(
      "The language expression property array index '-1' is out of bounds.",
    );
  });

  it('keeps null values null, and cannot select from them', () => {
    expect(evaluate("[parameters('obj').beta]", { parameters })).toBeNull();
    expect(errorOf("[parameters('obj').beta.x]", { parameters })).toBe(
      "The language expression property 'x' can't be evaluated.",
    );
  });

  it("refuses an index of the wrong type, or on a string, as a property that can't be evaluated", () => {
    expect(errorOf("[parameters('obj').list['a']]", { parameters })).toBe(
      "The language expression property 'a' can't be evaluated.",
    );
    expect(errorOf("[parameters('obj')[0]]", { parameters })).toBe(
      "The language expression property '0' can't be evaluated.",
    );
    expect(errorOf("[toLower('ab')[0]]")).toBe(
      "The language expression property '0' can't be evaluated.",
    );
  });
});

describe('evaluation', () => {
  it('rejects an unknown function (wording from ARM validation in vscode-azurearmtools #531)', () => {
    expect(errorOf("[nosuch('a')]")).toBe("The template function 'nosuch' is not valid.");
  });

  it('calls user functions by their lower-cased qualified name with evaluated arguments', () => {
    const userFunctions = {
      'contoso.prefixed': (args: readonly unknown[]) => `pre-${String(args[0])}`,
    };
    expect(evaluate("[Contoso.Prefixed(concat('a', 'b'))]", { userFunctions })).toBe('pre-ab');
    expect(errorOf("[contoso.other('a')]", { userFunctions })).toBe(
      "The template function 'contoso.other' is not valid.",
    );
    expect(errorOf("[contoso.prefixed('a')]")).toBe(
      "The template function 'contoso.prefixed' is not valid.",
    );
  });

  it('evaluates parsed nodes against the context given', () => {
    const node = parseExpression("parameters('p')");
    expect(evaluateExpression(node, fakeContext({ parameters: { p: 1 } }))).toBe(1);
    expect(evaluateExpression(node, fakeContext({ parameters: { p: 2 } }))).toBe(2);
  });

  it('evaluates only the branch if() returns, so a guarded reference() is not called', () => {
    const ctx = fakeContext({ references: { vm1: { principalId: 'p1' } } });
    const expression = parseExpression(
      "if(false(), reference('missing').x, reference('vm1').principalId)",
    );
    expect(evaluateExpression(expression, ctx)).toBe('p1');
    expect(ctx.calls.map((call) => call.nameOrId)).toEqual(['vm1']);
  });
});
