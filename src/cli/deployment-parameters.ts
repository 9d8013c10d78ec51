// A deployment's template file and `--parameters` as `az deployment group create` reads them: comments allowed, files, inline JSON, KEY=VALUE by declared type.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { ClientError } from '../client/errors.js';
import { isRecord } from '../core/guards.js';
import { readLenientJson } from '../wire/arm/lenient-json.js';

/** A template's `parameters` section: each declaration by name, as written. */
export type ParameterDeclarations = Readonly<Record<string, unknown>>;

/** `{name: {value}}` (or `{name: {reference}}`), what a deployment's `properties.parameters` holds. */
export type ParameterValues = Record<string, unknown>;

/** How parameter processing reads files: the text of a regular file, undefined for anything else. */
export type ReadTextFile = (path: string) => string | undefined;

const invalid = (message: string): ClientError => new ClientError('InvalidArgument', message);

/**
 * Parses JSON as ARM's reader (Json.NET) accepts it: comments, unquoted names, raw line breaks in
 * strings; a leading byte-order mark is skipped, as az's reader does.
 */
export function parseLenientJson(text: string): unknown {
  return readLenientJson(text.replace(/^\uFEFF/, '')).value;
}

/** The text of `path` when it is a regular file this process can read; undefined otherwise. */
export const readTextFile: ReadTextFile = (path) => {
  try {
    if (!statSync(path).isFile()) return undefined;
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/**
 * Reads a template file (JSON with comments). Fails, as az does, with "Failed to parse '{file}',
 * please check whether it is a valid JSON format" when it does not parse or is not an object.
 */
export function readTemplateFile(
  file: string,
  read: ReadTextFile = readTextFile,
): Record<string, unknown> {
  const text = read(file);
  if (text === undefined && !existsSync(file)) {
    throw invalid(`[Errno 2] No such file or directory: '${file}'`);
  }
  if (text === undefined) throw invalid(`cannot read the template file '${file}'`);
  let template: unknown;
  try {
    template = parseLenientJson(text);
  } catch {
    template = undefined;
  }
  if (!isRecord(template)) {
    throw invalid(`Failed to parse '${file}', please check whether it is a valid JSON format`);
  }
  return template;
}

/** az's default deployment name: the template file's base name without its extension. */
export function defaultDeploymentName(file: string): string {
  const base = basename(file);
  return base.slice(0, base.length - extname(base).length) || 'deployment1';
}

/**
 * az's `@file` expansion of an argument (knack): `@path` becomes the file's text and `key=@path`
 * `key=` and the text, trailing line breaks removed; an unreadable file leaves the argument as is.
 */
export function expandFileArgument(arg: string, read: ReadTextFile = readTextFile): string {
  const load = (value: string): string => {
    if (!value.startsWith('@') || value.length === 1) return value;
    const text = read(value.slice(1));
    return text === undefined ? value : text.replace(/[\r\n]+$/, '');
  };
  const eq = arg.indexOf('=');
  return eq === -1 ? load(arg) : `${arg.slice(0, eq + 1)}${load(arg.slice(eq + 1))}`;
}

/** A parameters document's entries: the inner `parameters` of a parameters file, else the object. */
const unwrap = (parsed: Record<string, unknown>): unknown => parsed.parameters ?? parsed;

/** An inline JSON object (a parameters file's text, or `{name:{value}}`), or undefined. */
function inlineObject(text: string): Record<string, unknown> | undefined {
  let parsed: unknown;
  try {
    parsed = parseLenientJson(text);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed)) return undefined;
  const entries = unwrap(parsed);
  return isRecord(entries) ? entries : undefined;
}

/** A parameters file's entries; a file that does not parse is an error, as in az. */
function fileObject(path: string, text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = parseLenientJson(text);
  } catch (error) {
    throw invalid(`Failed to parse ${path} with exception: ${(error as Error).message}`);
  }
  const entries = isRecord(parsed) ? unwrap(parsed) : undefined;
  if (!isRecord(entries)) {
    throw invalid(`Failed to parse ${path} with exception: not a JSON object of parameters`);
  }
  return entries;
}

/** A string as az's `int()` reads it: optional sign, digits (underscores between them). */
function toInt(text: string): number {
  const trimmed = text.trim();
  if (!/^[+-]?\d+(_\d+)*$/.test(trimmed)) {
    throw invalid(`invalid literal for int() with base 10: '${text}'`);
  }
  return Number(trimmed.replace(/_/g, ''));
}

/** `KEY=VALUE` as az coerces it by the declared type; false when the item has no `=`. */
function keyValue(
  declarations: ParameterDeclarations,
  into: ParameterValues,
  item: string,
  warn: (message: string) => void,
): boolean {
  const eq = item.indexOf('=');
  if (eq === -1) return false;
  const key = item.slice(0, eq);
  const text = item.slice(eq + 1);
  const declaration = Object.hasOwn(declarations, key) ? declarations[key] : undefined;
  if (declaration === undefined || declaration === null) {
    const allowed = Object.keys(declarations).sort().join(', ');
    throw invalid(`unrecognized template parameter '${key}'. Allowed parameters: ${allowed}`);
  }
  const declared = isRecord(declaration) ? declaration.type : undefined;
  const type = typeof declared === 'string' ? declared.toLowerCase() : undefined;
  if (type === 'object' || type === 'array' || type === 'secureobject') {
    try {
      into[key] = { value: JSON.parse(text) as unknown };
    } catch (error) {
      throw invalid(
        `Failed to parse string as JSON:\n${text}\nError detail: ${(error as Error).message}`,
      );
    }
  } else if (type === 'string' || type === 'securestring') {
    into[key] = { value: text };
  } else if (type === 'bool') {
    into[key] = { value: text.toLowerCase() === 'true' };
  } else if (type === 'int') {
    into[key] = { value: toInt(text) };
  } else {
    // az's own words, spelling included.
    warn(`Unrecognized type '${type ?? 'None'}' for parameter '${key}'. Interpretting as string.`);
    into[key] = { value: text };
  }
  return true;
}

/**
 * Merges `--parameters` items in order, as az's `_process_parameters`: each is a parameters file
 * (by path, or its text after `@file` expansion; `{"$schema",…,"parameters":{…}}` unwrapped), an
 * inline JSON object, or `KEY=VALUE` coerced by the template's declared type (int, bool,
 * object/array/secureObject as JSON, else a string). Later entries win.
 *
 * @throws {ClientError} `InvalidArgument`: an unknown `KEY` ("unrecognized template parameter"),
 * an item that is none of these ("Unable to parse parameter: …"), a file that does not parse.
 */
export function processParameters(
  declarations: ParameterDeclarations,
  items: readonly string[],
  options: { readonly read?: ReadTextFile; readonly warn: (message: string) => void },
): ParameterValues {
  const read = options.read ?? readTextFile;
  const parameters: ParameterValues = {};
  for (const given of items) {
    const item = expandFileArgument(given, read);
    const text = read(item);
    const entries = text === undefined ? inlineObject(item) : fileObject(item, text);
    if (entries !== undefined) {
      Object.assign(parameters, entries);
      continue;
    }
    if (!keyValue(declarations, parameters, item, options.warn)) {
      throw invalid(`Unable to parse parameter: ${item}`);
    }
  }
  return parameters;
}

/**
 * The template's parameters that have no `defaultValue` and no value given, in template order
 * (az's `_find_missing_parameters`), with their declarations.
 */
export function missingParameters(
  template: Record<string, unknown>,
  parameters: ParameterValues,
): [string, Record<string, unknown>][] {
  const declared = isRecord(template.parameters) ? template.parameters : {};
  return Object.entries(declared).flatMap(([name, declaration]) => {
    const shape = isRecord(declaration) ? declaration : {};
    if ('defaultValue' in shape) return [];
    const given = parameters[name];
    return given === undefined || given === null ? [[name, shape]] : [];
  });
}

/** Asks one question on the terminal; `hidden` for a secure value. */
export type Ask = (question: string, hidden: boolean) => Promise<string>;

/** Reads one line on the terminal (prompts on stderr); a hidden answer is not echoed. */
export const terminalAsk: Ask = async (question, hidden) => {
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const prompt = createInterface({ input: process.stdin, output, terminal: true });
  try {
    const answer = prompt.question(question);
    muted = hidden;
    return await answer;
  } finally {
    prompt.close();
    if (hidden) process.stderr.write('\n');
  }
};

/** One missing parameter's value, asked as az's `_prompt_for_parameters` does. */
async function askFor(name: string, declaration: Record<string, unknown>, ask: Ask) {
  const type = typeof declaration.type === 'string' ? declaration.type.toLowerCase() : 'string';
  const metadata = isRecord(declaration.metadata) ? declaration.metadata : {};
  const help =
    typeof metadata.description === 'string' ? metadata.description : 'Missing description';
  const allowed = Array.isArray(declaration.allowedValues) ? declaration.allowedValues : undefined;
  const shown = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
  const choices = (allowed ?? []).map((v, i) => `\n [${String(i + 1)}] ${shown(v)}`).join('');
  const question = `Please provide ${type} value for '${name}' (? for help): ${choices === '' ? '' : `${choices}\nPlease enter a choice [Default choice(1)]: `}`;
  let prefix = '';
  for (;;) {
    const answer = await ask(`${prefix}${question}`, type === 'securestring');
    prefix = answer === '?' ? `${help}\n` : '';
    if (answer === '?') continue;
    if (allowed !== undefined) {
      const index = answer === '' ? 1 : Number(answer);
      if (Number.isInteger(index) && index >= 1 && index <= allowed.length) {
        return allowed[index - 1] as unknown;
      }
      continue;
    }
    if (type === 'int') {
      if (/^[+-]?\d+$/.test(answer.trim())) return Number(answer.trim());
      continue;
    }
    if (type === 'bool') {
      if (/^[tf]$/i.test(answer)) return answer.toLowerCase() === 't';
      continue;
    }
    if (type === 'object' || type === 'array') {
      if (answer === '') return type === 'object' ? {} : [];
      try {
        return JSON.parse(answer) as unknown;
      } catch {
        continue;
      }
    }
    return answer;
  }
}

/**
 * Fills the missing parameters as az does: asks for each on a terminal; with `noPrompt` only warns
 * ("Missing input parameters: …") and sends the request anyway; without a terminal fails.
 *
 * @throws {ClientError} `InvalidArgument` "Missing input parameters: a, b" when nobody can answer.
 */
export async function completeParameters(
  template: Record<string, unknown>,
  parameters: ParameterValues,
  options: {
    readonly noPrompt: boolean;
    readonly ask: Ask | undefined;
    readonly warn: (message: string) => void;
  },
): Promise<ParameterValues> {
  const missing = missingParameters(template, parameters);
  if (missing.length === 0) return parameters;
  const names = missing.map(([name]) => name).sort();
  if (options.noPrompt) {
    options.warn(`Missing input parameters: ${names.join(', ')} `);
    return parameters;
  }
  if (options.ask === undefined) throw invalid(`Missing input parameters: ${names.join(', ')}`);
  const completed = { ...parameters };
  for (const [name, declaration] of missing) {
    completed[name] = { value: await askFor(name, declaration, options.ask) };
  }
  return completed;
}
