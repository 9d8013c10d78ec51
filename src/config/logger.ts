// The process logger: pino, with every token, key and secret removed before a line is written.
import { KeyObject } from 'node:crypto';

import {
  pino,
  type Bindings,
  type ChildLoggerOptions,
  type DestinationStream,
  type LogFn,
  type Logger as PinoLogger,
} from 'pino';

import type { LOG_LEVELS } from './schema.js';

/** A pino log level, as the configuration names it. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The logger every Tessera process uses. */
export type Logger = PinoLogger;

/** One place lines go, and the least severe level written there. */
export interface LogDestination {
  readonly level: LogLevel;
  readonly stream: DestinationStream;
}

/** Options for {@link createLogger}. */
export interface CreateLoggerOptions {
  /** The least severe level logged at all. */
  readonly level: LogLevel;
  /** Where lines go; standard output when absent. Tests pass a stream to capture them. */
  readonly destination?: DestinationStream | undefined;
  /**
   * Several places instead of `destination`, each taking the lines at or above its own level
   * (and `level`); a destination at `silent` takes none.
   */
  readonly destinations?: readonly LogDestination[] | undefined;
  /** The `name` field of every line (`tessera-server`, `tessera-agent`). */
  readonly name?: string | undefined;
}

/** The more verbose of two levels (`info` of `info` and `warn`). */
export function moreVerbose(a: LogLevel, b: LogLevel): LogLevel {
  const value = (level: LogLevel): number =>
    level === 'silent' ? Infinity : (pino.levels.values[level] ?? Infinity);
  return value(a) <= value(b) ? a : b;
}

/** What replaces a secret. */
export const REDACTED = '[REDACTED]';

/** Objects nested deeper than this are logged as `[Truncated]`. */
const MAX_DEPTH = 8;

/**
 * Keys whose value is censored whatever it holds, compared lower-cased with `-` and `_` removed
 * (`client_secret`, `clientSecret` and `Client-Secret` are one key). `secret` is here, so an
 * object logged under it is censored whole: name secrets `secretName`, not `secret`, to log them.
 */
const SECRET_KEYS: ReadonlySet<string> = new Set([
  'authorization',
  'proxyauthorization',
  'cookie',
  'setcookie',
  'apikey',
  'xapikey',
  'token',
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'bearertoken',
  'jointoken',
  'jointokenhash',
  'clientsecret',
  'clientassertion',
  'assertion',
  'password',
  'passwd',
  'secret',
  'secretvalue',
  'secrethash',
  'privatekey',
  'privatekeypem',
  'masterkey',
  'protectedsettings',
  'connectionstring',
]);

/**
 * Keys under which a string `value` is a Key Vault secret's value: SecretBundle lists, set-secret
 * request bodies and response bodies. `value` is not censored everywhere because ARM lists
 * (`{"value":[...]}`), tag pairs and IMDS `tagsList` use the same word for harmless data.
 */
const VALUE_CONTEXT_KEYS: ReadonlySet<string> = new Set([
  'secrets',
  'secretbundle',
  'deletedsecret',
  'deletedsecretbundle',
  'bundle',
  'body',
  'requestbody',
  'responsebody',
  'payload',
]);

/** Sibling keys that mark an object as a secret (a SecretBundle or a stored secret version). */
const SECRET_SIBLINGS = ['contentType', 'vaultId', 'attributes'] as const;

/** Private members of a JWK (RFC 7518 section 6): `d`, the CRT values, and `k` of an oct key. */
const JWK_PRIVATE_MEMBERS: ReadonlySet<string> = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']);

const STRING_PATTERNS: readonly (readonly [RegExp, string])[] = [
  // A PEM private key (any kind, encrypted or not); without its END line, to the end of the string.
  [
    /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----|[\s\S]*$)/g,
    REDACTED,
  ],
  // A JWS (three base64url segments) or JWE (five), whose header is JSON: it starts `eyJ`.
  [
    /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)?/g,
    REDACTED,
  ],
  // Credentials after an HTTP authentication scheme; challenge parameters (`Bearer realm=`) stay.
  [/\b(Bearer|PoP|Basic)\s+(?![A-Za-z_]+=")[A-Za-z0-9\-._~+/]+=*/gi, `$1 ${REDACTED}`],
  // The password of a URL's userinfo (`postgres://user:password@host`).
  [/([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:)[^\s/@]+@/gi, `$1${REDACTED}@`],
  // Secret form or query parameters, e.g. a token request body quoted in an error.
  [
    /\b(client_secret|client_assertion|access_token|refresh_token|id_token|assertion|password|code_verifier|sig)=[^&\s"']+/gi,
    `$1=${REDACTED}`,
  ],
  // Secret JSON members inside a string, e.g. a response body quoted in an error message.
  [
    /"(access_token|refresh_token|id_token|client_secret|client_assertion|password|secret|privateKey|privateKeyPem|masterKey)"\s*:\s*"(?:[^"\\]|\\.)*"/g,
    `"$1":"${REDACTED}"`,
  ],
];

/**
 * Removes secrets from free text: JWTs (JWS and JWE), PEM private keys, credentials after
 * `Bearer`/`PoP`/`Basic`, URL passwords, secret form parameters and secret JSON members. Errs on
 * the side of removing: `"Bearer token missing"` becomes `"Bearer [REDACTED] missing"`.
 */
export function redactString(s: string): string {
  let out = s;
  for (const [pattern, replacement] of STRING_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

function normalizeKey(key: string): string {
  return key.replace(/[-_]/g, '').toLowerCase();
}

function looksLikeSecret(obj: Readonly<Record<string, unknown>>): boolean {
  if (SECRET_SIBLINGS.some((key) => key in obj)) return true;
  const id = obj['id'];
  return typeof id === 'string' && /\/secrets\//i.test(id);
}

/** Walks a value and returns a copy with secrets censored; the input is never changed. */
class Scrubber {
  private readonly path = new Set<object>();

  value(value: unknown, depth: number, valueContext: boolean): unknown {
    if (typeof value === 'string') return redactString(value);
    if (typeof value !== 'object' || value === null) return value;
    if (value instanceof KeyObject)
      return value.type === 'public' ? '[KeyObject public]' : REDACTED;
    // Raw bytes in a log line are most likely key material; their length is enough to debug.
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return REDACTED;
    if (depth >= MAX_DEPTH) return '[Truncated]';
    if (this.path.has(value)) return '[Circular]';
    this.path.add(value);
    try {
      return this.object(value, depth, valueContext);
    } finally {
      this.path.delete(value);
    }
  }

  /** An error as pino's serializer shapes it (`type`, `message`, `stack`, own fields, `cause`). */
  error(error: Error, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {
      type: error.constructor.name || error.name,
      message: redactString(error.message),
      stack: error.stack === undefined ? undefined : redactString(error.stack),
    };
    Object.assign(out, this.entries(error, depth, false, ['message', 'stack']));
    if (error.cause !== undefined) out['cause'] = this.value(error.cause, depth + 1, false);
    if (error instanceof AggregateError) out['errors'] = this.value(error.errors, depth + 1, false);
    return out;
  }

  private object(value: object, depth: number, valueContext: boolean): unknown {
    if (value instanceof Error) return this.error(value, depth);
    if (Array.isArray(value)) return value.map((item) => this.value(item, depth + 1, valueContext));
    if (value instanceof Map) return this.value(Object.fromEntries(value), depth, valueContext);
    if (value instanceof Set) return this.value([...value], depth, valueContext);
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') {
      return this.value((toJSON as () => unknown).call(value), depth + 1, valueContext);
    }
    return this.entries(value, depth, valueContext, []);
  }

  /**
   * The own enumerable members of `value`, censored or scrubbed; `omit` are left out and `keep`
   * are copied untouched (values pino serializes itself).
   */
  entries(
    value: object,
    depth: number,
    valueContext: boolean,
    omit: readonly string[],
    keep: ReadonlySet<string> = new Set(),
  ): Record<string, unknown> {
    const obj = value as Readonly<Record<string, unknown>>;
    const jwk = typeof obj['kty'] === 'string';
    const secretValue = valueContext || looksLikeSecret(obj);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(obj)) {
      if (omit.includes(key)) continue;
      if (keep.has(key)) {
        out[key] = item;
        continue;
      }
      const normalized = normalizeKey(key);
      const censored =
        item !== undefined &&
        item !== null &&
        (SECRET_KEYS.has(normalized) ||
          (jwk && JWK_PRIVATE_MEMBERS.has(key)) ||
          (key === 'value' && typeof item === 'string' && secretValue));
      out[key] = censored
        ? REDACTED
        : this.value(item, depth + 1, VALUE_CONTEXT_KEYS.has(normalized));
    }
    return out;
  }
}

/** Returns a copy of `value` with every secret censored (see {@link createLogger}). */
export function redactValue(value: unknown): unknown {
  return new Scrubber().value(value, 0, false);
}

/** Keys pino serializes itself; the hook leaves their values to {@link SERIALIZERS}. */
const SERIALIZED_KEYS: ReadonlySet<string> = new Set(['req', 'res']);

function scrubMergeObject(obj: object): unknown {
  if (Array.isArray(obj)) return redactValue(obj);
  return new Scrubber().entries(obj, 0, false, [], SERIALIZED_KEYS);
}

/** Scrubs the arguments of a log call, keeping pino's calling conventions. */
function scrubArgs(args: readonly unknown[]): unknown[] {
  const [first, ...rest] = args;
  const tail = rest.map(redactValue);
  if (first instanceof Error) {
    const err = new Scrubber().error(first, 0);
    // pino takes the message of an error logged alone; keep that, scrubbed.
    return [{ err }, ...(tail.length > 0 ? tail : [err['message']])];
  }
  if (typeof first === 'object' && first !== null) return [scrubMergeObject(first), ...tail];
  // A message with interpolation arguments, or a lone primitive.
  return [redactValue(first), ...tail];
}

interface RequestLike {
  readonly method?: unknown;
  readonly url?: unknown;
  readonly ip?: unknown;
  readonly hostname?: unknown;
  readonly socket?: { readonly remoteAddress?: unknown; readonly remotePort?: unknown };
}

/**
 * Serializers for the keys pino serializes itself. A request is logged as method, URL (scrubbed)
 * and peer, never with its headers or body; a response as its status code.
 */
const SERIALIZERS = {
  err: (value: unknown): unknown =>
    value instanceof Error ? new Scrubber().error(value, 0) : redactValue(value),
  req: (value: unknown): unknown => {
    if (typeof value !== 'object' || value === null) return redactValue(value);
    const req = value as RequestLike;
    return redactValue({
      method: req.method,
      url: req.url,
      hostname: req.hostname,
      remoteAddress: req.ip ?? req.socket?.remoteAddress,
      remotePort: req.socket?.remotePort,
    });
  },
  res: (value: unknown): unknown => {
    if (typeof value !== 'object' || value === null) return redactValue(value);
    return { statusCode: (value as { statusCode?: unknown }).statusCode };
  },
};

const CENSORED_PATH_KEYS = [
  'authorization',
  'cookie',
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'client_assertion',
  'password',
  'secret',
  'privateKey',
  'privateKeyPem',
  'masterKey',
  'secretHash',
  'joinToken',
  'protectedSettings',
] as const;

/**
 * pino's own redaction, applied after serializers: the keys above at the top level and one level
 * down, and request and response headers. A second line of defence behind the scrubbing hook.
 */
const REDACT_PATHS: readonly string[] = [
  ...CENSORED_PATH_KEYS.flatMap((key) => [key, `*.${key}`]),
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'request.headers.authorization',
  'res.headers["set-cookie"]',
];

/**
 * Creates the process logger. Before a line is written every argument of the log call and every
 * child binding is scrubbed, to a bounded depth ({@link MAX_DEPTH}), without changing the
 * caller's objects:
 *
 * - values under secret keys (`authorization`, `client_secret`, `password`, `secret`,
 *   `privateKey`, `masterKey`, ... in any case or separator style) become `[REDACTED]`;
 * - a string `value` becomes `[REDACTED]` inside an object that looks like a Key Vault secret
 *   (it has `contentType`, `vaultId` or `attributes`, or an `id` with `/secrets/`) or under
 *   `body`, `payload`, `secrets` or `bundle`;
 * - the private members of a JWK, private `KeyObject`s and raw bytes are censored;
 * - every string, including error messages and stacks at any depth, goes through
 *   {@link redactString} (JWTs, PEM private keys, `Bearer` credentials, URL passwords).
 *
 * pino's `redact` then censors the same keys again after serialization. Requests are logged
 * without headers; errors as `{type, message, stack, ...}` with their causes.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const loggerOptions = {
    level: options.level,
    ...(options.name === undefined ? {} : { name: options.name }),
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    serializers: SERIALIZERS,
    formatters: {
      bindings: (bindings: Record<string, unknown>): object =>
        redactValue(bindings) as Record<string, unknown>,
    },
    hooks: {
      logMethod(this: PinoLogger, args: Parameters<LogFn>, method: LogFn): void {
        method.apply(this, scrubArgs(args) as Parameters<LogFn>);
      },
    },
  };
  const logger =
    options.destinations !== undefined
      ? pino(loggerOptions, fanOut(options.destinations))
      : options.destination === undefined
        ? pino(loggerOptions)
        : pino(loggerOptions, options.destination);
  return withScrubbedChildBindings(logger);
}

/** One stream writing each line to the destinations whose level it reaches (pino's multistream). */
function fanOut(destinations: readonly LogDestination[]): DestinationStream {
  const open = destinations.filter((d) => d.level !== 'silent');
  return pino.multistream(open.map((d) => ({ level: d.level, stream: d.stream })));
}

type ChildFn = (this: Logger, bindings: Bindings, options?: ChildLoggerOptions) => Logger;

/**
 * pino passes only the root logger's bindings through `formatters.bindings`; a child's go
 * straight to the line. So `child` is wrapped to scrub them first. Children are created with the
 * parent as prototype, so they, and their children, inherit the wrapper.
 */
function withScrubbedChildBindings(logger: Logger): Logger {
  const child = Reflect.get(logger, 'child') as unknown as ChildFn;
  Object.defineProperty(logger, 'child', {
    configurable: true,
    writable: true,
    value: function scrubbedChild(
      this: Logger,
      bindings: Bindings,
      childOptions?: ChildLoggerOptions,
    ): Logger {
      return child.call(this, redactValue(bindings) as Bindings, childOptions);
    },
  });
  return logger;
}
