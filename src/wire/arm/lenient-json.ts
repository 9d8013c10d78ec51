// Reads JSON as Json.NET does (comments, unquoted names, raw line breaks in strings), keeping each element's line info.
import { createScanner, type JSONScanner } from 'jsonc-parser';

import type { TemplateValue } from '../../core/templates/context.js';
import {
  jsonPath,
  type SourcePosition,
  type TemplatePath,
  type TemplateSource,
} from '../../core/templates/errors.js';
import { ESCAPES, MAX_JSON_DEPTH } from './json-text.js';

/** A JSON document and where each of its elements sits in the text it came from. */
export interface LocatedJson {
  readonly value: TemplateValue;
  readonly source: TemplateSource;
}

/** A fault in Json.NET's words, at `position`, while reading the element at `path`. */
export class JsonReadFault extends Error {
  override readonly name = 'JsonReadFault';
  constructor(
    readonly detail: string,
    readonly path: TemplatePath,
    readonly position: SourcePosition,
  ) {
    super(
      `${detail} Path '${jsonPath(path)}', line ${position.lineNumber}, position ${position.linePosition}.`,
    );
  }
}

// jsonc-parser's SyntaxKind and ScanError are ambient const enums, which isolatedModules cannot read.
const TOKEN = {
  openBrace: 1,
  closeBrace: 2,
  openBracket: 3,
  closeBracket: 4,
  comma: 5,
  colon: 6,
  null: 7,
  true: 8,
  false: 9,
  string: 10,
  number: 11,
  lineComment: 12,
  blockComment: 13,
  trivia: 15,
  unknown: 16,
  eof: 17,
} as const;
const VALUE_TOKENS: ReadonlySet<number> = new Set([
  TOKEN.openBrace,
  TOKEN.openBracket,
  TOKEN.null,
  TOKEN.true,
  TOKEN.false,
  TOKEN.string,
  TOKEN.number,
]);
// What a bare word starting with these letters was meant to be, for Json.NET's fault.
const LITERALS: Readonly<Record<string, 'null' | 'true' | 'false'>> = {
  n: 'null',
  t: 'true',
  f: 'false',
};
const SCAN_OK = 0;
const SCAN_UNTERMINATED_COMMENT = 1;
const SCAN_CONTROL_CHARACTER = 6;
const UNQUOTED_NAME = /^[A-Za-z_$][\w$]*$/;

interface PositionNode {
  readonly start: number;
  end: number;
  readonly children: Map<string | number, PositionNode>;
}

/** Offsets of line starts; Json.NET counts `\r\n`, `\n` and a lone `\r` as one break each. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0d && text.charCodeAt(i + 1) === 0x0a) i++;
    if (c === 0x0a || c === 0x0d) starts.push(i + 1);
  }
  return starts;
}

function positionAt(starts: readonly number[], offset: number): SourcePosition {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if ((starts[mid] ?? 0) <= offset) low = mid;
    else high = mid - 1;
  }
  return { lineNumber: low + 1, linePosition: offset - (starts[low] ?? 0) };
}

function setMember(target: Record<string, TemplateValue>, key: string, value: TemplateValue): void {
  // A plain assignment to `__proto__` would replace the prototype instead of adding a member.
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** A recursive-descent reader over jsonc-parser's scanner, lenient where Json.NET is. */
class Reader {
  private readonly scanner: JSONScanner;
  private readonly starts: number[];
  private readonly path: (string | number)[] = [];
  private started = false;

  constructor(private readonly text: string) {
    this.scanner = createScanner(text, false);
    this.starts = lineStarts(text);
  }

  read(): { value: TemplateValue; root: PositionNode } {
    const result = this.value(this.next(), 0);
    if (this.next() !== TOKEN.eof) {
      const offset = this.scanner.getTokenOffset();
      this.fail(
        `Additional text encountered after finished reading JSON content: ${this.text.charAt(offset)}.`,
        offset,
      );
    }
    return { value: result.value, root: result.node };
  }

  source(root: PositionNode): TemplateSource {
    const find = (path: TemplatePath): PositionNode | undefined => {
      let node: PositionNode | undefined = root;
      for (const segment of path) node = node?.children.get(segment);
      return node;
    };
    return {
      start: (path) => {
        const node = find(path);
        return node && positionAt(this.starts, node.start);
      },
      end: (path) => {
        const node = find(path);
        return node && positionAt(this.starts, node.end);
      },
    };
  }

  private next(): number {
    for (;;) {
      const kind: number = this.scanner.scan();
      if (kind < TOKEN.lineComment || kind > TOKEN.trivia) return kind;
      const error: number = this.scanner.getTokenError();
      if (kind === TOKEN.blockComment && error === SCAN_UNTERMINATED_COMMENT) {
        this.fail('Unexpected end while parsing comment.', this.text.length);
      }
    }
  }

  private value(kind: number, depth: number): { value: TemplateValue; node: PositionNode } {
    const offset = this.scanner.getTokenOffset();
    const after = offset + this.scanner.getTokenLength();
    // Json.NET reports line 0 for a fault before its first token.
    this.started ||= VALUE_TOKENS.has(kind);
    switch (kind) {
      case TOKEN.openBrace:
      case TOKEN.openBracket:
        if (depth >= MAX_JSON_DEPTH) {
          this.fail(`The reader's MaxDepth of ${MAX_JSON_DEPTH} has been exceeded.`, offset + 1);
        }
        return kind === TOKEN.openBrace
          ? this.object(offset, depth + 1)
          : this.array(offset, depth + 1);
      case TOKEN.string:
        return this.string(offset);
      case TOKEN.number:
        return this.number(offset, after);
      case TOKEN.true:
      case TOKEN.false:
        return { value: kind === TOKEN.true, node: leaf(after) };
      case TOKEN.null:
        return { value: null, node: leaf(after) };
      case TOKEN.eof:
        return this.fail(this.endMessage(), this.text.length);
      case TOKEN.unknown:
        return this.unknownValue(offset);
      default:
        return this.fail(
          `Unexpected character encountered while parsing value: ${this.text.charAt(offset)}.`,
          offset,
        );
    }
  }

  private object(open: number, depth: number): { value: TemplateValue; node: PositionNode } {
    const value: Record<string, TemplateValue> = {};
    const node: PositionNode = { start: open + 1, end: open + 1, children: new Map() };
    let kind = this.next();
    for (;;) {
      if (kind === TOKEN.closeBrace) break;
      const key = this.propertyName(kind);
      kind = this.next();
      if (kind !== TOKEN.colon) {
        if (kind === TOKEN.eof)
          this.fail('Unexpected end when deserializing object.', this.text.length);
        const offset = this.scanner.getTokenOffset();
        this.fail(
          `Invalid character after parsing property name. Expected ':' but got: ${this.text.charAt(offset)}.`,
          offset,
        );
      }
      this.path.push(key);
      const member = this.value(this.next(), depth);
      setMember(value, key, member.value);
      node.children.set(key, member.node);
      kind = this.next();
      if (kind === TOKEN.comma) kind = this.next();
      else if (kind !== TOKEN.closeBrace) this.afterValueFault(kind, 'object');
      this.path.pop();
    }
    node.end = this.scanner.getTokenOffset() + 1;
    return { value, node };
  }

  private array(open: number, depth: number): { value: TemplateValue; node: PositionNode } {
    const value: TemplateValue[] = [];
    const node: PositionNode = { start: open + 1, end: open + 1, children: new Map() };
    let kind = this.next();
    while (kind !== TOKEN.closeBracket) {
      this.path.push(value.length);
      const item = this.value(kind, depth);
      node.children.set(value.length, item.node);
      value.push(item.value);
      kind = this.next();
      if (kind === TOKEN.comma) kind = this.next();
      else if (kind !== TOKEN.closeBracket) this.afterValueFault(kind, 'array');
      this.path.pop();
    }
    node.end = this.scanner.getTokenOffset() + 1;
    return { value, node };
  }

  private propertyName(kind: number): string {
    const offset = this.scanner.getTokenOffset();
    if (kind === TOKEN.string) return this.string(offset).value as string;
    const word = this.text.slice(offset, offset + this.scanner.getTokenLength());
    const bare =
      kind === TOKEN.unknown || kind === TOKEN.true || kind === TOKEN.false || kind === TOKEN.null;
    // Json.NET reads an unquoted name; az splices `template:` into the body that way.
    if (bare && UNQUOTED_NAME.test(word)) return word;
    if (kind === TOKEN.eof)
      this.fail('Unexpected end when deserializing object.', this.text.length);
    return this.fail(`Invalid property identifier character: ${this.text.charAt(offset)}.`, offset);
  }

  private afterValueFault(kind: number, container: 'object' | 'array'): never {
    const offset = this.scanner.getTokenOffset();
    if (kind === TOKEN.eof)
      this.fail(`Unexpected end when deserializing ${container}.`, this.text.length);
    if (kind === TOKEN.closeBracket)
      this.fail('JsonToken EndArray is not valid for closing JsonType Object.', offset);
    if (kind === TOKEN.closeBrace)
      this.fail('JsonToken EndObject is not valid for closing JsonType Array.', offset);
    return this.fail(
      `After parsing a value an unexpected character was encountered: ${this.text.charAt(offset)}.`,
      offset,
    );
  }

  private string(offset: number): { value: TemplateValue; node: PositionNode } {
    const error: number = this.scanner.getTokenError();
    if (error === SCAN_OK || error === SCAN_CONTROL_CHARACTER) {
      return {
        value: this.scanner.getTokenValue(),
        node: leaf(offset + this.scanner.getTokenLength()),
      };
    }
    // Raw line breaks (multi-line expressions), bad escapes or an unterminated string: read by hand.
    const { value, end } = this.readString(offset);
    this.scanner.setPosition(end);
    return { value, node: leaf(end) };
  }

  private readString(offset: number): { value: string; end: number } {
    let out = '';
    let i = offset + 1;
    for (;;) {
      if (i >= this.text.length)
        this.fail('Unterminated string. Expected delimiter: ".', this.text.length);
      const c = this.text.charAt(i);
      i++;
      if (c === '"') return { value: out, end: i };
      if (c !== '\\') {
        out += c;
        continue;
      }
      if (i >= this.text.length)
        this.fail('Unterminated string. Expected delimiter: ".', this.text.length);
      const escape = this.text.charAt(i);
      i++;
      if (escape === 'u') {
        const hex = this.text.slice(i, i + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex))
          this.fail(`Invalid Unicode escape sequence: \\u${hex}.`, i);
        out += String.fromCharCode(parseInt(hex, 16));
        i += 4;
      } else if (escape in ESCAPES) {
        out += ESCAPES[escape] ?? '';
      } else {
        this.fail(`Bad JSON escape sequence: \\${escape}.`, i);
      }
    }
  }

  private number(offset: number, after: number): { value: TemplateValue; node: PositionNode } {
    const token = this.text.slice(offset, after);
    const value = Number(token);
    const error: number = this.scanner.getTokenError();
    if (error !== SCAN_OK || !Number.isFinite(value)) {
      this.fail(`Input string '${token}' is not a valid number.`, after);
    }
    return { value, node: leaf(after) };
  }

  private unknownValue(offset: number): never {
    const word = this.text.slice(offset, offset + this.scanner.getTokenLength());
    if (word.startsWith('-'))
      this.fail(`Input string '${word}' is not a valid number.`, offset + word.length);
    const literal = LITERALS[word.charAt(0)];
    if (literal === undefined) {
      this.fail(`Unexpected character encountered while parsing value: ${word.charAt(0)}.`, offset);
    }
    let i = 0;
    while (i < literal.length && word[i] === literal[i]) i++;
    this.fail(`Error parsing ${literal === 'null' ? 'null' : 'boolean'} value.`, offset + i);
  }

  private endMessage(): string {
    if (this.path.length === 0) return 'Unexpected end when reading JSON.';
    return typeof this.path.at(-1) === 'number'
      ? 'Unexpected end when deserializing array.'
      : 'Unexpected end when deserializing object.';
  }

  private fail(detail: string, offset: number): never {
    const position = positionAt(this.starts, offset);
    // Before the first token Json.NET reports line 0.
    const shown =
      !this.started && position.linePosition === 0 ? { lineNumber: 0, linePosition: 0 } : position;
    throw new JsonReadFault(detail, [...this.path], shown);
  }
}

function leaf(offset: number): PositionNode {
  return { start: offset, end: offset, children: new Map() };
}

/**
 * Reads JSON as Json.NET (and so ARM) accepts it: `//` and `/* *\/` comments, unquoted property
 * names, raw line breaks inside strings, trailing commas. Throws {@link JsonReadFault} with
 * Json.NET's sentence, path, line and position at the first fault.
 */
export function readLenientJson(text: string): LocatedJson {
  const reader = new Reader(text);
  const { value, root } = reader.read();
  return { value, source: reader.source(root) };
}
