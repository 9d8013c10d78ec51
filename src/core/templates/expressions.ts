// ARM template expressions: recognising `[...]` strings, parsing the expression language, evaluating it.
//
// Parser choice: a small hand-written lexer and recursive-descent parser, not a library. The
// grammar is ten token kinds and four rules (call, literal, `.name`, `[index]`), LL(1) with no
// precedence. What matters is reproducing ARM's diagnostics exactly: the lexer must fail at the
// same character with the same words ("the string character 'x' at position '5' is not
// expected", "the string constant at position '109' is not terminated"), and the parser must name
// tokens as ARM does ("expected token 'Identifier' and actual 'EndOfData'"). Chevrotain, the
// well-kept runtime parser toolkit, requires Node >= 22 since 12.0 (Tessera supports 20.19), so
// it would mean pinning the superseded 11.x line, and it would still need a custom lexer error
// and error-message provider for each of those texts; Peggy 5 runs on Node 20 but generates its
// parser at build time (a generated file or a build step) and words its errors its own way.
// Either would be more code to bend than the ~150 lines of lexer and parser below.
import type { ExpressionContext, TemplateExpressionError, TemplateValue } from './context.js';
import { callFunction } from './functions.js';
import { fail, findKey, isArray, isInteger, isObject } from './values.js';

/** A parsed expression. `position` is the 0-based offset in the expression text. */
export type ExpressionNode =
  | { readonly kind: 'string'; readonly value: string; readonly position: number }
  | { readonly kind: 'integer'; readonly value: number; readonly position: number }
  | {
      readonly kind: 'call';
      /** As written, e.g. `resourceID`; `namespace` is set for a user function `ns.name(...)`. */
      readonly name: string;
      readonly namespace?: string;
      readonly args: readonly ExpressionNode[];
      readonly position: number;
    }
  | {
      readonly kind: 'property';
      readonly target: ExpressionNode;
      readonly name: string;
      readonly position: number;
    }
  | {
      readonly kind: 'index';
      readonly target: ExpressionNode;
      readonly index: ExpressionNode;
      readonly position: number;
    };

/**
 * Whether a JSON string is a template expression: it starts with `[` and ends with `]`, and does
 * not start with the `[[` escape (template-expressions.md, "Escape characters").
 */
export function isExpression(text: string): boolean {
  return text.length >= 2 && text.startsWith('[') && text.endsWith(']') && !text.startsWith('[[');
}

/**
 * The value of one JSON string of a template: an expression is evaluated; `[[…]` loses its first
 * `[`; anything else is returned unchanged.
 *
 * @throws {TemplateExpressionError} when the expression does not parse or cannot be evaluated.
 */
export function evaluateTemplateString(text: string, ctx: ExpressionContext): TemplateValue {
  if (text.startsWith('[[') && text.endsWith(']')) return text.slice(1);
  if (!isExpression(text)) return text;
  return evaluateExpression(parseExpression(text.slice(1, -1)), ctx);
}

/** Token kinds, named as ARM's parser names them in "expected token 'X' and actual 'Y'". */
type TokenKind =
  | 'Identifier'
  | 'String'
  | 'Integer'
  | 'LeftParenthesis'
  | 'RightParenthesis'
  | 'LeftSquareBracket'
  | 'RightSquareBracket'
  | 'Comma'
  | 'Dot'
  | 'EndOfData';

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly position: number;
}

const PUNCTUATION: Readonly<Record<string, TokenKind>> = {
  '(': 'LeftParenthesis',
  ')': 'RightParenthesis',
  '[': 'LeftSquareBracket',
  ']': 'RightSquareBracket',
  ',': 'Comma',
  '.': 'Dot',
};

const IDENTIFIER_START = /[A-Za-z_$]/;
const IDENTIFIER_PART = /[A-Za-z0-9_$]/;
const NUMBER_PART = /[0-9.eE]/;
const WHITESPACE = /\s/;

/** "The language expression '…' is not valid: …" — ARM's wording for a lexical fault. */
function invalid(expression: string, reason: string): TemplateExpressionError {
  return fail(`The language expression '${expression}' is not valid: ${reason}`);
}

/** Splits an expression into tokens, failing at the first character no token can start with. */
function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expression.length) {
    const c = expression.charAt(i);
    const start = i;
    if (WHITESPACE.test(c)) {
      i++;
    } else if (PUNCTUATION[c] !== undefined) {
      tokens.push({ kind: PUNCTUATION[c], text: c, position: i++ });
    } else if (c === "'") {
      let value = '';
      for (i++; ; i++) {
        if (i >= expression.length) {
          throw invalid(
            expression,
            `the string constant at position '${start}' is not terminated. String constants must be enclosed within a pair of single quotes.`,
          );
        }
        if (expression[i] === "'") {
          if (expression[i + 1] !== "'") break;
          i++;
        }
        value += expression.charAt(i);
      }
      i++;
      tokens.push({ kind: 'String', text: value, position: start });
    } else if (IDENTIFIER_START.test(c)) {
      while (i < expression.length && IDENTIFIER_PART.test(expression.charAt(i))) i++;
      tokens.push({ kind: 'Identifier', text: expression.slice(start, i), position: start });
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      // ARM reads a number as a run of number characters and checks it only afterwards, which is
      // why "bad-expression" fails at the 'x' (position 5), not at the '-'.
      for (i++; i < expression.length && NUMBER_PART.test(expression.charAt(i)); i++);
      const next = expression[i];
      if (next !== undefined && IDENTIFIER_PART.test(next)) {
        throw invalid(
          expression,
          `the string character '${next}' at position '${i}' is not expected.`,
        );
      }
      tokens.push({ kind: 'Integer', text: expression.slice(start, i), position: start });
    } else {
      throw invalid(expression, `the string character '${c}' at position '${i}' is not expected.`);
    }
  }
  tokens.push({ kind: 'EndOfData', text: '', position: expression.length });
  return tokens;
}

/** ARM's integer literals are 32-bit: `2147483648` "cannot be converted to number". */
function integerLiteral(expression: string, token: Token): number {
  const value = /^-?[0-9]+$/.test(token.text) ? Number(token.text) : NaN;
  if (!Number.isInteger(value) || value > 2147483647 || value < -2147483648) {
    throw invalid(
      expression,
      `the value '${token.text}' at position '${token.position}' cannot be converted to number.`,
    );
  }
  return value;
}

/** Recursive descent over the token list. */
class Parser {
  private index = 0;
  private readonly end: Token;

  constructor(
    private readonly expression: string,
    private readonly tokens: readonly Token[],
  ) {
    this.end = { kind: 'EndOfData', text: '', position: expression.length };
  }

  private peek(): Token {
    return this.tokens[this.index] ?? this.end;
  }

  private expect(kind: TokenKind): Token {
    const token = this.peek();
    if (token.kind !== kind) {
      throw fail(
        `Unable to parse language expression '${this.expression}': expected token '${kind}' and actual '${token.kind}'.`,
      );
    }
    this.index++;
    return token;
  }

  /** The whole text: one call with its accessors, then the end. */
  parseRoot(): ExpressionNode {
    const node = this.parseCallChain();
    this.expect('EndOfData');
    return node;
  }

  /** `name(args)` or `ns.name(args)`, then any `.prop` and `[index]`. */
  private parseCallChain(): ExpressionNode {
    const first = this.expect('Identifier');
    let name = first.text;
    let namespace: string | undefined;
    if (this.peek().kind === 'Dot') {
      this.index++;
      namespace = name;
      name = this.expect('Identifier').text;
    }
    this.expect('LeftParenthesis');
    const args: ExpressionNode[] = [];
    if (this.peek().kind !== 'RightParenthesis') {
      args.push(this.parseArgument());
      while (this.peek().kind === 'Comma') {
        this.index++;
        args.push(this.parseArgument());
      }
    }
    this.expect('RightParenthesis');
    let node: ExpressionNode =
      namespace === undefined
        ? { kind: 'call', name, args, position: first.position }
        : { kind: 'call', name, namespace, args, position: first.position };
    for (;;) {
      const token = this.peek();
      if (token.kind === 'Dot') {
        this.index++;
        const property = this.expect('Identifier');
        node = { kind: 'property', target: node, name: property.text, position: property.position };
      } else if (token.kind === 'LeftSquareBracket') {
        this.index++;
        const index = this.parseArgument();
        this.expect('RightSquareBracket');
        node = { kind: 'index', target: node, index, position: token.position };
      } else {
        return node;
      }
    }
  }

  /** A function argument or an index: a string, an integer or a call chain. */
  private parseArgument(): ExpressionNode {
    const token = this.peek();
    if (token.kind === 'String') {
      this.index++;
      return { kind: 'string', value: token.text, position: token.position };
    }
    if (token.kind === 'Integer') {
      this.index++;
      return {
        kind: 'integer',
        value: integerLiteral(this.expression, token),
        position: token.position,
      };
    }
    return this.parseCallChain();
  }
}

/**
 * Parses the text between the brackets of an expression (`concat('a', parameters('b'))`).
 *
 * @throws {TemplateExpressionError} with ARM's wording: an unexpected character, an unterminated
 * string, a number out of range, or a token out of place.
 */
export function parseExpression(expression: string): ExpressionNode {
  return new Parser(expression, tokenize(expression)).parseRoot();
}

/**
 * Evaluates a parsed expression. Function arguments are evaluated left to right before the call,
 * except where the function itself decides (`if` evaluates only the branch it returns).
 *
 * @throws {TemplateExpressionError} for an unknown function, a wrong argument, a missing property
 * or index, and whatever the context's hooks throw.
 */
export function evaluateExpression(node: ExpressionNode, ctx: ExpressionContext): TemplateValue {
  switch (node.kind) {
    case 'string':
    case 'integer':
      return node.value;
    case 'call': {
      const args = node.args.map((arg) => () => evaluateExpression(arg, ctx));
      if (node.namespace !== undefined) return userFunction(node.namespace, node.name, args, ctx);
      return callFunction(node.name, args, ctx);
    }
    case 'property':
      return selectProperty(evaluateExpression(node.target, ctx), node.name);
    case 'index': {
      const target = evaluateExpression(node.target, ctx);
      const index = evaluateExpression(node.index, ctx);
      if (isArray(target) && isInteger(index)) return selectIndex(target, index);
      if (isObject(target) && typeof index === 'string') return selectProperty(target, index);
      throw cannotEvaluate(index);
    }
  }
}

function userFunction(
  namespace: string,
  name: string,
  args: readonly (() => TemplateValue)[],
  ctx: ExpressionContext,
): TemplateValue {
  const qualified = `${namespace}.${name}`;
  if (ctx.userFunction === undefined)
    throw fail(`The template function '${qualified}' is not valid.`);
  return ctx.userFunction(
    qualified.toLowerCase(),
    args.map((arg) => arg()),
  );
}

function cannotEvaluate(property: TemplateValue): TemplateExpressionError {
  const text =
    typeof property === 'string' || typeof property === 'number'
      ? property
      : JSON.stringify(property);
  return fail(`The language expression property '${text}' can't be evaluated.`);
}

/** `target.name` / `target['name']`: case-insensitive, an error naming the keys when missing. */
function selectProperty(target: TemplateValue, name: string): TemplateValue {
  if (!isObject(target)) throw cannotEvaluate(name);
  const key = findKey(target, name);
  if (key === undefined) {
    throw fail(
      `The language expression property '${name}' doesn't exist, available properties are '${Object.keys(target).join(', ')}'.`,
    );
  }
  return target[key] ?? null;
}

function selectIndex(target: readonly TemplateValue[], index: number): TemplateValue {
  if (index < 0 || index >= target.length) {
    throw fail(`The language expression property array index '${index}' is out of bounds.`);
  }
  return target[index] ?? null;
}
