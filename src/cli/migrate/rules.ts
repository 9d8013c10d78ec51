// The rules of `tessera migrate scan`: where a text uses the deprecated VM extension, and how IMDS replaces it.
import { isLegacyIdentityExtension } from '../../core/resources/legacy-extension.js';
import * as extension from '../../wire/imds/legacy-extension.js';

/** What a finding is about; each rule reports one kind. */
export type FindingKind =
  'legacy-url' | 'legacy-host' | 'arm-extension' | 'powershell-extension' | 'az-cli-extension';

/**
 * What a rule found: where (an offset), the legacy text or construct, the IMDS replacement (the
 * rule's advice when absent) and why `--fix` does not rewrite it (absent when it does).
 */
export interface Hit {
  readonly offset: number;
  readonly what: string;
  readonly replacement?: string | undefined;
  readonly reason?: string | undefined;
}

/** A hit as reported: its rule's kind, its 1-based line and column, what replaces it. */
export interface Finding {
  readonly kind: FindingKind;
  readonly line: number;
  readonly column: number;
  readonly what: string;
  readonly replacement: string;
  readonly fixable: boolean;
  readonly reason?: string | undefined;
}

/**
 * One pattern: the files it reads (by path), what it finds in a text, the advice for what it
 * finds and, when it can rewrite that, `fix`: the text with every fixable hit rewritten.
 */
export interface Rule {
  readonly kind: FindingKind;
  readonly advice: string;
  readonly appliesTo: (path: string) => boolean;
  readonly find: (text: string) => Hit[];
  readonly fix?: (text: string) => string;
}

/** The IMDS token URL (PROTOCOL.md 1.1). */
export const IMDS_TOKEN_URL = `http://169.254.169.254${extension.LEGACY_FORWARD_PATH}`;
const API_VERSION = `api-version=${extension.LEGACY_FORWARD_API_VERSION}`;
const IMDS_REQUEST = `${IMDS_TOKEN_URL}?${API_VERSION}`;
const EXTENSION_TYPE = /ManagedIdentityExtensionFor(?:Linux|Windows)/i;
// Where a URL in code ends: a quote, space or bracket, or an interpolation (`${`, `{`, `$(`).
const URL_TAIL = '[^\\s\'"`<>(){}[\\]\\\\|,;$]*';

type Edit = Readonly<{ start: number; end: number; text: string }>;

/** `text` with `edits` (which must not overlap) applied. */
function applyEdits(text: string, edits: readonly Edit[]): string {
  let out = text;
  for (const edit of [...edits].sort((a, b) => b.start - a.start)) {
    out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  }
  return out;
}

/** The 1-based line and column of `offset` in `text`. */
function positionOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
}

/** The whole shell or PowerShell command (lines joined by `\`, backtick or `^`) at `offset`. */
function commandAround(text: string, offset: number): string {
  const continued = (line: string | undefined): boolean => /[\\`^]\s*$/.test(line ?? '');
  const lines = text.split('\n');
  let { line } = positionOf(text, offset);
  let first = line - 1;
  while (first > 0 && continued(lines[first - 1])) first--;
  while (line < lines.length && continued(lines[line - 1])) line++;
  return lines.slice(first, line).join('\n');
}

/** A URL on the extension's host and port: where, its `?query` ('' if none), and its path's kind. */
type HostMatch = Edit & Readonly<{ query: string; isToken: boolean }>;

const LEGACY_HOST = new RegExp(
  String.raw`(?<![\w.-])(?:(?:https?:)?//)?(?:localhost|127\.0\.0\.1|\[::1\]):50342(?!\d)(${URL_TAIL})`,
  'gi',
);

function hostMatches(text: string): HostMatch[] {
  return [...text.matchAll(LEGACY_HOST)].map((m) => {
    const [url, rest = ''] = m;
    const mark = rest.indexOf('?') < 0 ? rest.length : rest.indexOf('?');
    const isToken = rest.slice(0, mark).replace(/\/+$/, '').toLowerCase() === '/oauth2/token';
    return {
      start: m.index,
      end: m.index + url.length,
      text: url,
      query: rest.slice(mark),
      isToken,
    };
  });
}

/** The IMDS URL for a legacy token URL: the same query, `api-version` first when absent. */
function imdsUrlFor({ query }: HostMatch): string {
  const withVersion = /(?:^\?|&)api-version=/i.test(query)
    ? query
    : `?${API_VERSION}${query === '' ? '' : `&${query.slice(1)}`}`;
  return `${IMDS_TOKEN_URL}${withVersion}`;
}

/** Why a legacy token URL cannot be rewritten in place, or undefined when it can. */
function whyNotFixable(text: string, match: HostMatch): string | undefined {
  const command = commandAround(text, match.start);
  if (/\bcurl\b/.test(command)) {
    if (!/Metadata\s*:\s*true/i.test(command)) {
      return 'curl sends no Metadata: true header, which IMDS requires; add -H Metadata:true';
    }
    const form = /(?:^|\s)(?:-d|--data(?:-raw|-binary|-urlencode|-ascii)?|-F|--form)(?=[\s=]|$)/m;
    if (form.test(command) && !/(?:^|\s)(?:-G|--get)(?=\s|$)/m.test(command)) {
      return 'curl POSTs a form; IMDS takes GET with the query string, as curl -G sends it';
    }
  } else if (/\.post\s*\(|PostAsync|method\s*[:=]\s*['"]post['"]|-Method\s+Post\b/i.test(command)) {
    return 'a POST; IMDS takes GET with the query string';
  }
  // A query added to the URL later (`ENDPOINT + "?resource="`) would follow ours with a second `?`.
  const appended = /(?<!oauth2\/token\/?)\?(?:resource|client_id|object_id|msi_res_id)=/i;
  if (match.query === '' && appended.test(text)) {
    return `the query is appended elsewhere in this file; add ${API_VERSION} to it`;
  }
  return undefined;
}

const everywhere = (): boolean => true;

const legacyUrlRule: Rule = {
  kind: 'legacy-url',
  advice: IMDS_REQUEST,
  appliesTo: everywhere,
  find: (text) =>
    hostMatches(text)
      .filter((m) => m.isToken)
      .map((m) => ({
        offset: m.start,
        what: m.text,
        replacement: imdsUrlFor(m),
        reason: whyNotFixable(text, m),
      })),
  fix: (text) =>
    applyEdits(
      text,
      hostMatches(text)
        .filter((m) => m.isToken && whyNotFixable(text, m) === undefined)
        .map((m) => ({ ...m, text: imdsUrlFor(m) })),
    ),
};

const legacyHostRule: Rule = {
  kind: 'legacy-host',
  advice: IMDS_REQUEST,
  appliesTo: everywhere,
  find: (text) =>
    hostMatches(text)
      .filter((m) => !m.isToken)
      .map((m) => ({
        offset: m.start,
        what: m.text,
        reason: 'not the token URL; change the caller to the IMDS path and api-version',
      })),
};

/** A rule for a command that installs the extension, found by the command's name. */
function installRule(kind: FindingKind, command: RegExp): Rule {
  return {
    kind,
    advice: 'remove this step: IMDS needs no extension',
    appliesTo: everywhere,
    find: (text) =>
      [...text.matchAll(command)].flatMap((m) => {
        const whole = commandAround(text, m.index);
        const named = EXTENSION_TYPE.exec(whole)?.[0];
        if (named === undefined && !/Microsoft\.ManagedIdentity\b/i.test(whole)) return [];
        const what = `${m[0].replace(/\s+/g, ' ')} (Microsoft.ManagedIdentity${named === undefined ? '' : `/${named}`})`;
        return [{ offset: m.index, what, reason: 'scripts are changed by hand' }];
      }),
  };
}

/** A JSON value with its offsets: an object's members (keyed) or an array's items, or a `value`. */
type JsonNode = Readonly<{ kind: 'object' | 'array' | 'value'; start: number; end: number }> &
  Readonly<{ entries: JsonEntry[]; value: unknown }>;
/** A member (starting at its key) or an item. */
type JsonEntry = Readonly<{ key: string | undefined; start: number; node: JsonNode }>;

/** `text` as a tree of offsets, or undefined when `JSON.parse` refuses it. */
function parseJson(text: string): JsonNode | undefined {
  try {
    JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    return undefined;
  }
  // Valid JSON, so its tokens are strings, punctuation and bare literals.
  const tokens = [...text.matchAll(/"(?:[^"\\]|\\.)*"|[{}[\],:]|[^\s{}[\],:"\uFEFF]+/g)];
  let i = 0;
  const take = (): { index: number; 0: string } => {
    const token = tokens[i++];
    if (token === undefined) throw new Error('unexpected end of JSON');
    return token;
  };
  const parse = (): JsonNode => {
    const { index: start, 0: open } = take();
    if (open !== '{' && open !== '[') {
      const value: unknown = JSON.parse(open);
      return { kind: 'value', start, end: start + open.length, entries: [], value };
    }
    const entries: JsonEntry[] = [];
    for (let peek = tokens[i]?.[0]; peek !== '}' && peek !== ']'; peek = tokens[i]?.[0]) {
      if (peek === ',') {
        i++;
        continue;
      }
      const key = open === '{' ? take() : undefined;
      if (key !== undefined) take(); // the ':'
      const node = parse();
      const name = key === undefined ? undefined : (JSON.parse(key[0]) as string);
      entries.push({ key: name, start: key?.index ?? node.start, node });
    }
    const end = take().index + 1;
    return { kind: open === '{' ? 'object' : 'array', start, end, entries, value: undefined };
  };
  return parse();
}

const stringAt = (node: JsonNode | undefined, key: string): string | undefined => {
  const value = node?.entries.find((e) => e.key === key)?.node.value;
  return typeof value === 'string' ? value : undefined;
};

/** An extension, the list holding it (an array, or `resources` keyed by symbolic name), its names. */
type Site = Readonly<{ node: JsonNode; parent?: JsonNode | undefined; removable: boolean }> &
  Readonly<{ names: string[]; type: string }>;

/** Every deprecated extension in the tree, and every `dependsOn`-like list. */
function survey(root: JsonNode): { sites: Site[]; lists: JsonNode[] } {
  const sites: Site[] = [];
  const lists: JsonNode[] = [];
  const walk = (node: JsonNode, parent?: JsonNode, parentKey?: string, key?: string): void => {
    const props = node.entries.find((e) => e.key === 'properties')?.node;
    const type = stringAt(props, 'type');
    if (isLegacyIdentityExtension(stringAt(props, 'publisher'), type)) {
      const name = stringAt(node, 'name');
      sites.push({
        node,
        parent,
        removable: parent?.kind === 'array' || (parent !== undefined && parentKey === 'resources'),
        names: [name, key].filter((n) => n !== undefined),
        type: type ?? '',
      });
      return;
    }
    for (const entry of node.entries) {
      if (entry.key !== undefined && /^(?:dependsOn|provisionAfterExtensions)$/.test(entry.key)) {
        lists.push(entry.node);
      }
      walk(entry.node, node, key, entry.key);
    }
  };
  walk(root);
  return { sites, lists };
}

/** The last literal segment of an ARM name (`[concat(..., '/ext')]` gives `ext`). */
function leafName(name: string): string | undefined {
  const literals = name.startsWith('[')
    ? [...name.matchAll(/'([^']*)'/g)].map((m) => m[1] ?? '')
    : [name];
  return literals.flatMap((l) => l.split('/').filter((s) => s !== '')).at(-1);
}

/** Whether a `dependsOn` entry names one of `names` (a name, or an extension id ending in it). */
function refersTo(entry: string, names: readonly string[]): boolean {
  return names.some((name) => {
    const leaf = leafName(name);
    if (entry === name || entry === leaf) return true;
    if (leaf === undefined || !/extensions/i.test(entry)) return false;
    const quoted = leaf.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`['/]${quoted}(?:['/)\\]]|$)`).test(entry);
  });
}

/** The edits that take `drop` out of the array or object `list`, commas and all. */
function removalEdits(list: JsonNode, drop: ReadonlySet<JsonNode>): Edit[] {
  const { entries } = list;
  const kept = entries.map((e) => !drop.has(e.node));
  if (!kept.includes(false)) return [];
  const lastKept = kept.lastIndexOf(true);
  if (lastKept < 0) return [{ start: list.start + 1, end: list.end - 1, text: '' }];
  // Before the last kept entry, an entry goes with what follows it up to the next; after it, the
  // trailing run goes with the comma that precedes it.
  const edits = entries.flatMap((entry, i): Edit[] => {
    const next = entries[i + 1];
    return kept[i] === false && i < lastKept && next !== undefined
      ? [{ start: entry.start, end: next.start, text: '' }]
      : [];
  });
  const [keptEntry, last] = [entries[lastKept], entries.at(-1)];
  if (lastKept < entries.length - 1 && keptEntry !== undefined && last !== undefined) {
    edits.push({ start: keptEntry.node.end, end: last.node.end, text: '' });
  }
  return edits;
}

/** The plain value of `node` without `drop`. */
function valueOf(node: JsonNode, drop: ReadonlySet<JsonNode>): unknown {
  const kept = node.entries.filter((e) => !drop.has(e.node));
  if (node.kind === 'object') {
    return Object.fromEntries(kept.map((e) => [e.key, valueOf(e.node, drop)]));
  }
  return node.kind === 'array' ? kept.map((e) => valueOf(e.node, drop)) : node.value;
}

/** The hits in an ARM template, and the template without the fixable ones. */
function planArm(text: string): { hits: Hit[]; fixed: string } {
  const root = parseJson(text);
  if (root === undefined) {
    const types = text.matchAll(/"type"\s*:\s*"(ManagedIdentityExtensionFor(?:Linux|Windows))"/gi);
    const reason = 'the file is not plain JSON, e.g. it has comments; edit it by hand';
    const hits = [...types].map((m) => ({
      offset: m.index,
      what: `Microsoft.ManagedIdentity/${m[1] ?? ''} extension`,
      reason,
    }));
    return { hits, fixed: text };
  }
  const { sites, lists } = survey(root);
  const removable = sites.filter((s) => s.removable);
  const drop = new Set<JsonNode>(removable.map((s) => s.node));
  for (const item of lists.flatMap((list) => list.entries.map((e) => e.node))) {
    const named = typeof item.value === 'string' ? item.value : undefined;
    if (named !== undefined && removable.some((s) => refersTo(named, s.names))) drop.add(item);
  }
  const parents = new Set([...removable.map((s) => s.parent), ...lists]);
  const edits = [...parents].flatMap((p) => (p === undefined ? [] : removalEdits(p, drop)));
  const fixed = applyEdits(text, edits);
  let clean: boolean;
  try {
    // The splice must remove exactly what was meant, or nothing is written.
    const expected = JSON.stringify(valueOf(root, drop));
    clean = JSON.stringify(JSON.parse(fixed.replace(/^\uFEFF/, ''))) === expected;
  } catch {
    clean = false;
  }
  const hits = sites.map((site) => ({
    offset: site.node.start,
    what: `Microsoft.ManagedIdentity/${site.type} extension '${site.names[0] ?? '?'}'`,
    reason: !site.removable
      ? 'not in a resources or extensions list; edit it by hand'
      : clean
        ? undefined
        : 'could not remove it cleanly; edit it by hand',
  }));
  return { hits, fixed: clean ? fixed : text };
}

const armRule: Rule = {
  kind: 'arm-extension',
  advice: 'remove it and the references to it: IMDS needs no extension',
  appliesTo: (path) => /\.json$/i.test(path),
  find: (text) => (EXTENSION_TYPE.test(text) ? planArm(text).hits : []),
  fix: (text) => (EXTENSION_TYPE.test(text) ? planArm(text).fixed : text),
};

/** The rules, one per pattern, in the order their fixes run. */
export const RULES: readonly Rule[] = [
  legacyUrlRule,
  legacyHostRule,
  armRule,
  installRule('powershell-extension', /\b(?:Set|Add)-Az(?:ureRm)?(?:VM|Vmss)Extension\b/gi),
  installRule('az-cli-extension', /\baz\s+(?:vm|vmss)\s+extension\s+set\b/gi),
];

/** Every finding of every rule that applies to `path`, in line and column order. */
export function findUses(path: string, text: string): Finding[] {
  return RULES.filter((r) => r.appliesTo(path))
    .flatMap((rule) =>
      rule.find(text).map(({ offset, what, replacement, reason }) => ({
        kind: rule.kind,
        ...positionOf(text, offset),
        what,
        replacement: replacement ?? rule.advice,
        fixable: reason === undefined,
        reason,
      })),
    )
    .sort((a, b) => a.line - b.line || a.column - b.column || a.kind.localeCompare(b.kind));
}

/** `text` with every fixable finding rewritten, rule by rule; the text itself when none are. */
export function fixUses(path: string, text: string): string {
  return RULES.filter((r) => r.appliesTo(path)).reduce((t, r) => (r.fix ? r.fix(t) : t), text);
}
