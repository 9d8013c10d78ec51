// Locates the first fault in JSON text and words it as Json.NET does, as ARM quotes it in errors.

/**
 * The deepest nesting of objects and arrays an ARM request body may have: Json.NET's default
 * `MaxDepth`, 64 since Newtonsoft.Json 13.0.1, set "to avoid stackoverflows"
 * (https://github.com/JamesNK/Newtonsoft.Json/releases/tag/13.0.1, pull request 2473). ARM's own
 * limit is not documented; see docs/compatibility.md.
 */
export const MAX_JSON_DEPTH = 64;

/** A fault found by the {@link Scanner}; `depth` when it is Json.NET's `MaxDepth` fault. */
class JsonFault extends Error {
  constructor(
    message: string,
    readonly depth: boolean,
  ) {
    super(message);
  }
}

type Frame =
  | { kind: 'object'; key?: string; fresh: boolean }
  | { kind: 'array'; index: number; fresh: boolean };

// Json.NET writes a property name holding one of these as `['name']` in a path.
const SPECIAL_PATH_CHARS = /[. '/"[\]()\t\n\r\f\b\\\u0085\u2028\u2029]/;
const afterValue = (c: string): string =>
  `After parsing a value an unexpected character was encountered: ${c}.`;
const additionalText = (c: string): string =>
  `Additional text encountered after finished reading JSON content: ${c}.`;
const NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?$/;

class Scanner {
  private pos = 0;
  private line = 1;
  private lineStart = 0;
  // Before the first token Json.NET reports line 0.
  private started = false;
  private readonly stack: Frame[] = [];

  /** `maxDepth`: the most containers open at once, as Json.NET's `MaxDepth`; none when absent. */
  constructor(
    private readonly text: string,
    private readonly maxDepth = Infinity,
  ) {}

  run(): void {
    this.value();
    for (;;) {
      const top = this.stack[this.stack.length - 1];
      this.skipBlank();
      if (top === undefined) {
        if (!this.atEnd()) this.fail(additionalText(this.char()));
        return;
      }
      if (this.atEnd()) this.failEnd(top);
      const c = this.char();
      if (top.kind === 'array') this.inArray(top, c);
      else this.inObject(top, c);
    }
  }

  private inArray(top: Frame & { kind: 'array' }, c: string): void {
    if (c === ']') {
      this.pos++;
      this.stack.pop();
      return;
    }
    if (!top.fresh) {
      if (c === '}') this.fail('JsonToken EndObject is not valid for closing JsonType Array.');
      if (c !== ',') this.fail(afterValue(c));
      this.pos++;
    }
    top.fresh = false;
    top.index++;
    this.value();
  }

  private inObject(top: Frame & { kind: 'object' }, c: string): void {
    if (c === '}') {
      this.pos++;
      this.stack.pop();
      return;
    }
    if (!top.fresh) {
      if (c === ']') this.fail('JsonToken EndArray is not valid for closing JsonType Object.');
      if (c !== ',') this.fail(afterValue(c));
      this.pos++;
      this.skipBlank();
      if (this.atEnd()) this.failEnd(top);
    }
    top.fresh = false;
    if (this.char() !== '"') this.fail(`Invalid property identifier character: ${this.char()}.`);
    const name = this.string();
    this.skipBlank();
    if (this.atEnd()) this.failEnd(top);
    if (this.char() !== ':') {
      this.fail(
        `Invalid character after parsing property name. Expected ':' but got: ${this.char()}.`,
      );
    }
    this.pos++;
    top.key = name;
    this.value();
  }

  private value(): void {
    this.skipBlank();
    const top = this.stack[this.stack.length - 1];
    if (this.atEnd()) this.failEnd(top);
    const c = this.char();
    if (c === '{' || c === '[') {
      this.started = true;
      this.pos++;
      // Json.NET checks as it opens the container, so the path is the parent's.
      if (this.stack.length >= this.maxDepth) {
        this.fail(`The reader's MaxDepth of ${this.maxDepth} has been exceeded.`, this.pos, true);
      }
      this.stack.push(
        c === '{' ? { kind: 'object', fresh: true } : { kind: 'array', index: -1, fresh: true },
      );
    } else if (c === '"') {
      this.string();
    } else if (c === 't' || c === 'f') {
      this.literal(c === 't' ? 'true' : 'false', 'boolean');
    } else if (c === 'n') {
      this.literal('null', 'null');
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      this.number();
    } else {
      this.fail(`Unexpected character encountered while parsing value: ${c}.`);
    }
  }

  private literal(word: string, kind: string): void {
    this.started = true;
    for (let i = 0; i < word.length; i++) {
      if (this.text[this.pos + i] !== word[i]) {
        if (this.pos + i >= this.text.length) {
          this.pos = this.text.length;
          this.fail('Unexpected end when reading JSON.');
        }
        this.fail(`Error parsing ${kind} value.`, this.pos + i);
      }
    }
    this.pos += word.length;
    if (!this.atEnd() && !isSeparator(this.char())) this.fail(`Error parsing ${kind} value.`);
  }

  private number(): void {
    this.started = true;
    const start = this.pos;
    while (!this.atEnd() && /[-+.0-9eE]/.test(this.char())) this.pos++;
    if (!this.atEnd() && !isSeparator(this.char())) {
      this.fail(`Unexpected character encountered while parsing number: ${this.char()}.`);
    }
    const token = this.text.slice(start, this.pos);
    if (!NUMBER.test(token)) this.fail(`Input string '${token}' is not a valid number.`);
  }

  private string(): string {
    this.started = true;
    this.pos++;
    let out = '';
    for (;;) {
      if (this.atEnd()) this.fail('Unterminated string. Expected delimiter: ".');
      const c = this.char();
      if (c === '"') {
        this.pos++;
        return out;
      }
      if (c < ' ') {
        const code = c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
        this.fail(`Unexpected control character encountered while parsing string: \\u${code}.`);
      }
      this.pos++;
      if (c !== '\\') {
        out += c;
        continue;
      }
      if (this.atEnd()) this.fail('Unterminated string. Expected delimiter: ".');
      const escape = this.char();
      this.pos++;
      if (escape === 'u') {
        const hex = this.text.slice(this.pos, this.pos + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail(`Invalid Unicode escape sequence: \\u${hex}.`);
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += 4;
      } else if (escape in ESCAPES) {
        out += ESCAPES[escape] ?? '';
      } else {
        this.fail(`Bad JSON escape sequence: \\${escape}.`);
      }
    }
  }

  private skipBlank(): void {
    while (!this.atEnd()) {
      const c = this.char();
      if (c === '\n' || c === '\r') {
        this.pos += c === '\r' && this.text[this.pos + 1] === '\n' ? 2 : 1;
        this.line++;
        this.lineStart = this.pos;
      } else if (c === ' ' || c === '\t') {
        this.pos++;
      } else {
        return;
      }
    }
  }

  private atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  private char(): string {
    return this.text[this.pos] ?? '';
  }

  private failEnd(top: Frame | undefined): never {
    const what = top === undefined ? 'reading JSON' : `deserializing ${top.kind}`;
    this.fail(`Unexpected end when ${what}.`);
  }

  private fail(message: string, at = this.pos, depth = false): never {
    const position = at - this.lineStart;
    const line = !this.started && position === 0 ? 0 : this.line;
    throw new JsonFault(
      `${message} Path '${this.path()}', line ${line}, position ${position}.`,
      depth,
    );
  }

  private path(): string {
    let out = '';
    for (const frame of this.stack) {
      if (frame.kind === 'array') {
        if (frame.index >= 0) out += `[${frame.index}]`;
      } else if (frame.key !== undefined) {
        if (SPECIAL_PATH_CHARS.test(frame.key)) out += `['${frame.key.replace(/['\\]/g, '\\$&')}']`;
        else out += out === '' ? frame.key : `.${frame.key}`;
      }
    }
    return out;
  }
}

/** JSON's one-character escapes and what each stands for (RFC 8259 section 7). */
export const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

function isSeparator(c: string): boolean {
  return c === ',' || c === '}' || c === ']' || c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

/**
 * The first fault in `text` (strict JSON, RFC 8259), in Json.NET's words with its path, 1-based
 * line and 0-based position: `Unexpected character encountered while parsing value: x. Path 'a',
 * line 1, position 5.` Undefined when the text is valid JSON. Faults Json.NET would forgive
 * (comments, single quotes, trailing commas) are reported with the message of the character.
 */
export function describeJsonFault(text: string): string | undefined {
  try {
    new Scanner(text).run();
    return undefined;
  } catch (error) {
    if (error instanceof JsonFault) return error.message;
    throw error;
  }
}

/**
 * Json.NET's `MaxDepth` fault for `text` when it nests objects and arrays more than `maxDepth`
 * deep before any other fault: `The reader's MaxDepth of 64 has been exceeded. Path 'a.b', line 1,
 * position 130.` (path of the enclosing container, position just after the bracket that opened one
 * too many). Undefined when the text is shallow enough or another fault comes first (the JSON
 * parser reports that one). Never recurses: a first pass counts brackets outside strings in
 * constant space, and only text that goes too deep is scanned again for the path.
 */
export function describeJsonDepthFault(
  text: string,
  maxDepth: number = MAX_JSON_DEPTH,
): string | undefined {
  if (!nestsDeeperThan(text, maxDepth)) return undefined;
  try {
    new Scanner(text, maxDepth).run();
    return undefined;
  } catch (error) {
    if (error instanceof JsonFault) return error.depth ? error.message : undefined;
    throw error;
  }
}

// Exact for valid JSON; for invalid JSON it only decides whether the scanner looks closer.
function nestsDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
