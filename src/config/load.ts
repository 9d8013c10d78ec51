// Loads the configuration: flags > TESSERA_* environment > config file > defaults, checked by one schema.
import { readFileSync } from 'node:fs';
import { extname, isAbsolute, join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { configInvalid, isAppError } from '../core/errors.js';
import { isRecord } from '../core/guards.js';
import {
  configLeaves,
  configSchema,
  type LeafKind,
  splitList,
  type TesseraConfig,
} from './schema.js';

/** Where the loader reads configuration from. Every field is optional. */
export interface LoadConfigOptions {
  /**
   * Command-line values by dotted key path (`{ 'store.driver': 'postgres' }`). Strings are coerced
   * like environment values; other values are taken as they are. `undefined` and `''` mean unset.
   */
  readonly flags?: Readonly<Record<string, unknown>>;
  /** The environment; defaults to `process.env`. Empty values mean unset. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Directory that relative paths resolve against; defaults to `process.cwd()`. */
  readonly cwd?: string;
  /** Config file (`.json`, `.yaml`, `.yml`); wins over `TESSERA_CONFIG`. */
  readonly configFile?: string;
}

/** The environment variable naming the config file. */
export const CONFIG_FILE_ENV = 'TESSERA_CONFIG';
/** Environment variables with this prefix belong to test suites and are ignored. */
const TEST_ENV_PREFIX = 'TESSERA_TEST_';

/** Short names the issues and docs promise, for the variable of a key. */
const ENV_ALIASES: Readonly<Record<string, string>> = {
  TESSERA_IMDS_RATE_LIMIT: 'TESSERA_AGENT_IMDS_RATE_LIMIT_MODE',
};
const PREFIX = 'invalid configuration: ';

type Source =
  | { readonly kind: 'file'; readonly file: string }
  | { readonly kind: 'env'; readonly name: string }
  | { readonly kind: 'flags' };
type Entry = { readonly path: readonly string[]; readonly value: unknown; readonly source: Source };
type Tree = Record<string, unknown>;

const leafByPath = new Map(configLeaves.map((l) => [l.path, l]));
const leafByEnv = new Map(configLeaves.map((l) => [l.env, l]));

function fail(message: string): never {
  // One line, always: a multi-line parser message would break "tessera: <message>".
  throw configInvalid(PREFIX + message.replace(/\s*\n\s*/g, ' '));
}

function isPlainObject(value: unknown): value is Tree {
  if (!isRecord(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Turns a string from the environment or a flag into the leaf's type. A string that does not
 * convert is returned unchanged, so the schema rejects it with the leaf's own message.
 * @internal exported for tests
 */
export function coerceText(kind: LeafKind, text: string): unknown {
  switch (kind) {
    case 'integer':
      return /^[+-]?\d+$/.test(text) ? Number(text) : text;
    case 'number':
      return text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
    case 'boolean':
      return text === 'true' || text === '1'
        ? true
        : text === 'false' || text === '0'
          ? false
          : text;
    // A list given as one string is split by the schema, wherever it came from.
    case 'enum':
    case 'string':
    case 'list':
      return text;
  }
}

/** Splits a value into one entry per leaf; an empty object sets nothing. */
function flatten(value: unknown, path: readonly string[], source: Source, out: Entry[]): void {
  if (isPlainObject(value)) {
    for (const [key, child] of Object.entries(value)) flatten(child, [...path, key], source, out);
  } else {
    out.push({ path, value, source });
  }
}

function own(node: Tree, key: string): unknown {
  // Never read an inherited property: a "__proto__" key must not reach Object.prototype.
  return Object.hasOwn(node, key) ? node[key] : undefined;
}

function setOwn(node: Tree, key: string, value: unknown): void {
  // defineProperty keeps a "__proto__" key an own property, which the strict schema then rejects.
  Object.defineProperty(node, key, { value, enumerable: true, writable: true, configurable: true });
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return error instanceof Error ? error.message : String(error);
}

function parseFile(file: string): Entry[] {
  const ext = extname(file).toLowerCase();
  if (ext !== '.json' && ext !== '.yaml' && ext !== '.yml') {
    fail(`config file ${file} must end in .json, .yaml or .yml`);
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    fail(`cannot read config file ${file}: ${describeFsError(error)}`);
  }
  let data: unknown;
  if (ext === '.json') {
    try {
      data = JSON.parse(text);
    } catch (error) {
      fail(`cannot parse config file ${file}: ${(error as Error).message}`);
    }
  } else {
    const doc = parseDocument(text);
    const [first] = doc.errors;
    if (first !== undefined) {
      fail(
        `cannot parse config file ${file}: ${(first.message.split('\n')[0] ?? '').replace(/:$/, '')}`,
      );
    }
    // An empty or all-comment YAML file is an empty configuration, not an error.
    data = doc.contents === null ? {} : doc.toJS();
  }
  if (!isPlainObject(data))
    fail(`config file ${file} must contain an object (a mapping of keys) at the top level`);
  const out: Entry[] = [];
  flatten(data, [], { kind: 'file', file }, out);
  return out;
}

function readEnv(env: Readonly<Record<string, string | undefined>>): Entry[] {
  const out: Entry[] = [];
  const unknown: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (
      !name.startsWith('TESSERA_') ||
      name.startsWith(TEST_ENV_PREFIX) ||
      name === CONFIG_FILE_ENV
    )
      continue;
    const leaf = leafByEnv.get(ENV_ALIASES[name] ?? name);
    if (leaf === undefined) unknown.push(`unknown environment variable ${name}`);
    else if (value !== undefined && value !== '') {
      out.push({
        path: leaf.path.split('.'),
        value: coerceText(leaf.kind, value),
        source: { kind: 'env', name },
      });
    }
  }
  if (unknown.length > 0) fail(unknown.sort().join('; '));
  return out;
}

function readFlags(flags: Readonly<Record<string, unknown>>): Entry[] {
  const out: Entry[] = [];
  for (const [key, value] of Object.entries(flags)) {
    if (value === undefined || value === '') continue;
    const path = key.split('.');
    if (path.some((s) => s === '')) fail(`malformed flag key "${key}"`);
    const leaf = leafByPath.get(key);
    const coerced =
      typeof value === 'string' && leaf !== undefined ? coerceText(leaf.kind, value) : value;
    flatten(coerced, path, { kind: 'flags' }, out);
  }
  return out;
}

/** Applies entries in order (later wins) and remembers which source set each key path. */
function merge(entries: readonly Entry[]): { tree: Tree; sources: Map<string, Source> } {
  const tree: Tree = {};
  const sources = new Map<string, Source>();
  for (const { path, value, source } of entries) {
    let node = tree;
    for (const [i, key] of path.entries()) {
      if (i === path.length - 1) break;
      let child = own(node, key);
      if (!isPlainObject(child)) {
        child = {};
        setOwn(node, key, child);
        sources.delete(path.slice(0, i + 1).join('.'));
      }
      node = child as Tree;
    }
    setOwn(node, path[path.length - 1] ?? '', value);
    const key = path.join('.');
    for (const other of sources.keys()) if (other.startsWith(`${key}.`)) sources.delete(other);
    sources.delete(key);
    sources.set(key, source);
  }
  return { tree, sources };
}

function sourceOf(path: string, sources: ReadonlyMap<string, Source>): Source | undefined {
  for (let p = path; p !== ''; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
    const found = sources.get(p);
    if (found !== undefined) return found;
  }
  let found: Source | undefined;
  for (const [p, s] of sources) if (p.startsWith(`${path}.`)) found = s;
  return found;
}

function from(source: Source | undefined): string {
  if (source === undefined) return '';
  switch (source.kind) {
    case 'file':
      return ` (from ${source.file})`;
    case 'env':
      return ` (from ${source.name})`;
    case 'flags':
      return ' (from flags)';
  }
}

function describeValue(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null)
    return String(value);
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (isPlainObject(value)) return 'an object';
  return typeof value;
}

function valueAt(tree: Tree, path: readonly PropertyKey[]): unknown {
  let node: unknown = tree;
  for (const key of path) node = isPlainObject(node) ? own(node, String(key)) : undefined;
  return node;
}

/**
 * The path of the leaf an issue is about, and the value it names: for an entry of a list leaf
 * (`agent.serverUrl.1`) the leaf's path and that entry, as given in a list or in one string.
 */
function issueTarget(path: readonly PropertyKey[], tree: Tree): { key: string; value: unknown } {
  const last = path.at(-1);
  const leafPath = path.slice(0, -1);
  if (typeof last === 'number' && leafByPath.get(leafPath.join('.'))?.kind === 'list') {
    const entries = splitList(valueAt(tree, leafPath));
    return { key: leafPath.join('.'), value: Array.isArray(entries) ? entries[last] : entries };
  }
  return { key: path.map(String).join('.'), value: valueAt(tree, path) };
}

function formatIssue(
  issue: z.core.$ZodIssue,
  tree: Tree,
  sources: ReadonlyMap<string, Source>,
): string {
  const segments = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys
      .map((k) => {
        const key = [...segments, k].join('.');
        const source = sourceOf(key, sources);
        const where = source?.kind === 'file' ? ` in ${source.file}` : from(source);
        return `unknown key "${key}"${where}`;
      })
      .join('; ');
  }
  const { key, value } = issueTarget(issue.path, tree);
  if (issue.code === 'custom' && value === undefined) {
    const leaf = leafByPath.get(key);
    return `${key} ${issue.message}${leaf === undefined ? '' : ` (set ${leaf.env})`}`;
  }
  const leaf = leafByPath.get(key);
  const expected =
    leaf?.expected ??
    (issue.code === 'invalid_type' && issue.expected === 'object' ? 'an object' : issue.message);
  const got = leaf?.secret === true ? 'a value of the wrong form' : describeValue(value);
  return `${key}${from(sourceOf(key, sources))}: expected ${expected}, got ${got}`;
}

function resolvePaths(parsed: z.output<typeof configSchema>, cwd: string): TesseraConfig {
  const dataDir = resolve(cwd, parsed.dataDir);
  const { sqlite } = parsed.store;
  const { tls, federation } = parsed.server;
  return {
    ...parsed,
    dataDir,
    store: {
      ...parsed.store,
      sqlite: {
        ...sqlite,
        file: sqlite.file === undefined ? join(dataDir, 'tessera.db') : resolve(cwd, sqlite.file),
      },
    },
    server: {
      ...parsed.server,
      tls: {
        ...(tls.certFile === undefined ? {} : { certFile: resolve(cwd, tls.certFile) }),
        ...(tls.keyFile === undefined ? {} : { keyFile: resolve(cwd, tls.keyFile) }),
      },
      federation: {
        ...federation,
        ...(federation.caFile === undefined ? {} : { caFile: resolve(cwd, federation.caFile) }),
      },
    },
  };
}

/**
 * Loads and validates the configuration. Layers merge by key path, highest first: `flags`, then
 * `TESSERA_*` environment variables (names from {@link envVarFor}), then the config file
 * (`configFile`, else `TESSERA_CONFIG`), then the schema's defaults. `dataDir`,
 * `store.sqlite.file` (default `<dataDir>/tessera.db`), the TLS files and the federation CA file come back absolute,
 * resolved against `cwd`.
 *
 * Throws a `ConfigInvalid` {@link AppError} with a one-line message naming the key path and where
 * the value came from, for: an unknown key, an unknown `TESSERA_*` variable (other than
 * `TESSERA_TEST_*`), a value of the wrong type or form, a missing, unreadable or unparsable file.
 * Values of secret keys (`masterKey`, `store.postgres.url`) are never echoed.
 */
export function loadConfig(options: LoadConfigOptions = {}): TesseraConfig {
  const cwd = resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;
  const envEntries = readEnv(env);
  const configFile = [options.configFile, env[CONFIG_FILE_ENV]].find(
    (f) => f !== undefined && f !== '',
  );
  const fileEntries =
    configFile === undefined
      ? []
      : parseFile(isAbsolute(configFile) ? configFile : resolve(cwd, configFile));
  const { tree, sources } = merge([
    ...fileEntries,
    ...envEntries,
    ...readFlags(options.flags ?? {}),
  ]);
  const result = configSchema.safeParse(tree);
  if (!result.success) {
    const messages = result.error.issues.map((issue) => formatIssue(issue, tree, sources));
    fail([...new Set(messages)].join('; '));
  }
  const config = resolvePaths(result.data, cwd);
  explicitPaths.set(config, new Set(sources.keys()));
  return config;
}

/** The key paths each loaded configuration took from a flag, the environment or its file. */
const explicitPaths = new WeakMap<TesseraConfig, ReadonlySet<string>>();

/**
 * True when `path` (`server.port`), or a key below it (`server`), was set by a flag, a
 * `TESSERA_*` variable or the config file of `config`, rather than left to its default. False
 * for a configuration {@link loadConfig} did not return.
 */
export function isSetExplicitly(config: TesseraConfig, path: string): boolean {
  const paths = explicitPaths.get(config);
  if (paths === undefined) return false;
  for (const p of paths) if (p === path || p.startsWith(`${path}.`)) return true;
  return false;
}

/**
 * {@link loadConfig} for a process entry point: on a `ConfigInvalid` error it writes
 * `tessera: <message>` as one line to stderr and exits with status 2. Other errors propagate.
 */
export function loadConfigOrExit(options: LoadConfigOptions = {}): TesseraConfig {
  try {
    return loadConfig(options);
  } catch (error) {
    if (isAppError(error) && error.code === 'ConfigInvalid') {
      process.stderr.write(`tessera: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}
