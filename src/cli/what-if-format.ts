// What-if results as `az deployment group what-if` prints them: the noise notice, the legend of symbols, each change by scope, the summary line.
import { isRecord } from '../core/guards.js';
import { splitResourceId } from './deployment-shape.js';

/** One predicted property change (`WhatIfPropertyChange`). */
export interface WhatIfPropertyChange {
  readonly path: string;
  readonly propertyChangeType: string;
  readonly before?: unknown;
  readonly after?: unknown;
  readonly children?: readonly WhatIfPropertyChange[] | null;
}

/** One predicted resource change (`WhatIfChange`). */
export interface WhatIfChange {
  readonly resourceId: string;
  readonly changeType: string;
  readonly unsupportedReason?: string | null;
  readonly before?: unknown;
  readonly after?: unknown;
  readonly delta?: readonly WhatIfPropertyChange[] | null;
}

/** az's terminal colours (256-colour escapes), and its reset. */
const COLOR = {
  orange: '\u001b[38;5;208m',
  green: '\u001b[38;5;77m',
  purple: '\u001b[38;5;141m',
  blue: '\u001b[38;5;39m',
  gray: '\u001b[38;5;246m',
  reset: '\u001b[0m',
} as const;
type Color = (typeof COLOR)[keyof typeof COLOR];

/**
 * The kinds of change and of property change as the API names them, each with az's symbol,
 * colour, order among resources (`weight`) and among properties, and words in the summary.
 */
const KINDS = {
  Delete: { symbol: '-', color: COLOR.orange, weight: 0, propertyWeight: 0, counted: 'to delete' },
  Create: { symbol: '+', color: COLOR.green, weight: 1, propertyWeight: 1, counted: 'to create' },
  Deploy: { symbol: '!', color: COLOR.blue, weight: 2, propertyWeight: 2, counted: 'to deploy' },
  Modify: { symbol: '~', color: COLOR.purple, weight: 3, propertyWeight: 2, counted: 'to modify' },
  Array: { symbol: '~', color: COLOR.purple, weight: 3, propertyWeight: 2, counted: undefined },
  NoChange: { symbol: '=', color: COLOR.reset, weight: 4, propertyWeight: 3, counted: 'no change' },
  Unsupported: {
    symbol: 'x',
    color: COLOR.gray,
    weight: 5,
    propertyWeight: 3,
    counted: 'unsupported',
  },
  Ignore: { symbol: '*', color: COLOR.gray, weight: 6, propertyWeight: 3, counted: 'to ignore' },
  NoEffect: { symbol: 'x', color: COLOR.gray, weight: 7, propertyWeight: 3, counted: undefined },
} as const;
type Kind = keyof typeof KINDS;

/** A change type in any case as its kind; anything else is an error, as in az. */
function kindOf(name: string): Kind {
  const found = Object.keys(KINDS).find((k) => k.toLowerCase() === name.toLowerCase());
  if (found === undefined) throw new Error(`Invalid change type: ${name}`);
  return found as Kind;
}

/** `items` sorted (stably, as Python's `sorted`) by each key in turn. */
function sortBy<T>(items: readonly T[], ...keys: ((item: T) => number | string)[]): T[] {
  return [...items].sort((x, y) => {
    for (const key of keys) {
      const [a, b] = [key(x), key(y)];
      if (a !== b) return a < b ? -1 : 1;
    }
    return 0;
  });
}

const weight = (c: WhatIfChange): number => KINDS[kindOf(c.changeType)].weight;
const propertyWeight = (c: WhatIfPropertyChange): number =>
  KINDS[kindOf(c.propertyChangeType)].propertyWeight;

/** Text with colour scopes, as az's ColoredStringBuilder: without colour, colours are dropped. */
class Builder {
  private readonly parts: string[] = [];
  private readonly colors: Color[] = [];

  constructor(private readonly colored: boolean) {}

  text(): string {
    return this.parts.join('');
  }

  append(value: string, color?: Color): this {
    if (color !== undefined) this.push(color);
    this.parts.push(value);
    if (color !== undefined) this.pop();
    return this;
  }

  line(value = '', color?: Color): this {
    return this.append(`${value}\n`, color);
  }

  push(color: Color): this {
    if (!this.colored) return this;
    this.colors.push(color);
    this.parts.push(color);
    return this;
  }

  pop(): this {
    if (!this.colored) return this;
    this.colors.pop();
    this.parts.push(this.colors.at(-1) ?? COLOR.reset);
    return this;
  }
}

// Python's len: code points, not UTF-16 units.
const length = (text: string): number => Array.from(text).length;
function indent(b: Builder, level = 1): void {
  b.append('  '.repeat(Math.max(0, level)));
}
function colon(b: Builder): void {
  b.append(':', COLOR.reset);
}

const isNonEmptyArray = (v: unknown): v is readonly unknown[] => Array.isArray(v) && v.length > 0;
const isNonEmptyObject = (v: unknown): v is Record<string, unknown> =>
  isRecord(v) && Object.keys(v).length > 0;
const isLeaf = (v: unknown): boolean => !isNonEmptyArray(v) && !isNonEmptyObject(v);

/** `indent`, `head`, the path, `tail`, then `padding` spaces; nothing for an empty path. */
function path(
  b: Builder,
  text: string,
  padding: number,
  level: number,
  head?: (b: Builder) => void,
  tail?: (b: Builder) => void,
): void {
  if (text === '') return;
  indent(b, level);
  head?.(b);
  b.append(text);
  tail?.(b);
  b.append(' '.repeat(Math.max(0, padding)));
}

function leaf(b: Builder, value: unknown): void {
  if (value === null || value === undefined) b.append('null');
  else if (typeof value === 'string') b.append(`"${value}"`);
  else if (Array.isArray(value)) b.append('[]');
  else if (isRecord(value)) b.append('{}');
  else b.append(JSON.stringify(value));
}

function objectPathLength(value: Record<string, unknown>): number {
  let longest = 0;
  for (const [key, child] of Object.entries(value)) {
    // Array paths are left out, so a long one does not pad every line.
    if (isNonEmptyArray(child)) continue;
    const own = isNonEmptyObject(child) ? length(key) + 1 + objectPathLength(child) : length(key);
    longest = Math.max(longest, own);
  }
  return longest;
}

function json(b: Builder, value: unknown, at = '', longest = 0, level = 0): void {
  if (isNonEmptyArray(value)) {
    path(b, at, 1, level, undefined, colon);
    array(b, value, level);
  } else if (isNonEmptyObject(value)) {
    object(b, value, at, longest, level);
  } else {
    path(b, at, longest - length(at) + 1, level, undefined, colon);
    leaf(b, value);
  }
}

/** A value written in `color` (az's `_format_property_create`, `_delete`, `_no_effect`). */
function colored(b: Builder, color: Color, value: unknown, level: number): void {
  b.push(color);
  json(b, value, '', 0, level);
  b.pop();
}

function array(b: Builder, value: readonly unknown[], level: number): void {
  b.append('[', COLOR.reset).line();
  let lastLeaf = 0;
  value.forEach((child, i) => {
    if (isLeaf(child)) lastLeaf = i;
  });
  const longest = String(lastLeaf).length;
  value.forEach((child, i) => {
    if (isNonEmptyObject(child)) {
      path(b, String(i), 0, level + 1, undefined, colon);
      object(b, child, '', 0, level + 1);
    } else {
      json(b, child, String(i), longest, level + 1);
    }
    b.line();
  });
  indent(b, level);
  b.append(']', COLOR.reset);
}

function object(
  b: Builder,
  value: Record<string, unknown>,
  at: string,
  longest: number,
  level: number,
): void {
  const root = at === '';
  if (root) {
    b.line().line();
    longest = objectPathLength(value);
    level += 1;
  }
  for (const [key, child] of Object.entries(value)) {
    json(b, child, root ? key : `${at}.${key}`, longest, level);
    if (!isNonEmptyObject(child)) b.line();
  }
}

/** A property change whose path counts toward the column its values line up in. */
function countsTowardWidth(change: WhatIfPropertyChange): boolean {
  const kind = kindOf(change.propertyChangeType);
  if (kind === 'Create') return isLeaf(change.after);
  if (kind === 'Delete' || kind === 'Modify') return isLeaf(change.before);
  return (change.children ?? []).length === 0;
}

const byWeightThenPath = (changes: readonly WhatIfPropertyChange[]): WhatIfPropertyChange[] =>
  sortBy(changes, propertyWeight, (c) => c.path);

function propertyChanges(b: Builder, changes: readonly WhatIfPropertyChange[], level = 2): void {
  const longest = Math.max(0, ...changes.filter(countsTowardWidth).map((c) => length(c.path)));
  for (const change of changes) {
    propertyChange(b, change, longest, level);
    b.line();
  }
}

function propertyChange(
  b: Builder,
  change: WhatIfPropertyChange,
  longest: number,
  level: number,
): void {
  const kind = kindOf(change.propertyChangeType);
  const children = change.children ?? [];
  const shown =
    kind === 'Array'
      ? children
      : kind === 'Delete' || kind === 'Modify'
        ? change.before
        : change.after;
  if (change.path !== '') {
    let padding = longest - length(change.path) + 1;
    if (isNonEmptyArray(shown)) padding = 1;
    if (isNonEmptyObject(shown)) padding = 0;
    if (kind === 'Modify' && children.length > 0) padding = 0;
    const head = (h: Builder): void => {
      h.append(KINDS[kind].symbol, KINDS[kind].color).append(' ');
    };
    path(b, change.path, padding, level, head, colon);
  }
  const inner = level + 1;
  if (kind === 'Create' || kind === 'NoEffect') colored(b, KINDS[kind].color, change.after, inner);
  else if (kind === 'Delete') colored(b, KINDS.Delete.color, change.before, inner);
  else if (kind === 'Modify') modify(b, change, inner);
  else if (kind === 'Array') arrayChange(b, change, inner);
  else throw new Error(`Unknown property change type: ${change.propertyChangeType}.`);
}

function modify(b: Builder, change: WhatIfPropertyChange, level: number): void {
  const children = change.children ?? [];
  if (children.length > 0) {
    b.line().line();
    propertyChanges(b, byWeightThenPath(children), level);
    return;
  }
  colored(b, KINDS.Delete.color, change.before, level);
  if (isNonEmptyObject(change.before)) {
    b.line();
    indent(b, level);
  } else {
    b.append(' ');
  }
  b.append('=>');
  if (!isNonEmptyObject(change.after)) b.append(' ');
  colored(b, KINDS.Create.color, change.after, level);
  if (!isLeaf(change.before) && isLeaf(change.after)) b.line();
}

function arrayChange(b: Builder, parent: WhatIfPropertyChange, level: number): void {
  if (parent.path === '') {
    // A nested array change has no path: its "[" goes on a line of its own.
    level -= 1;
    indent(b, level);
  }
  const children = parent.children ?? [];
  if (children.length === 0) {
    b.line('[]');
    return;
  }
  b.append('[').line();
  const sorted = sortBy(children, (c) => Number(c.path), propertyWeight);
  propertyChanges(b, sorted, level);
  indent(b, level);
  b.append(']');
}

const apiVersionOf = (change: WhatIfChange): string | undefined => {
  const body = isRecord(change.before) ? change.before : isRecord(change.after) ? change.after : {};
  return typeof body.apiVersion === 'string' && body.apiVersion !== ''
    ? body.apiVersion
    : undefined;
};

function resourceChange(b: Builder, change: WhatIfChange, last: boolean): void {
  const kind = kindOf(change.changeType);
  const version = apiVersionOf(change);
  b.line();
  const head = (h: Builder): Builder => h.append(`${KINDS[kind].symbol} `);
  const tail = (h: Builder): void => {
    if (version !== undefined) h.push(COLOR.reset).append(` [${version}]`).pop();
  };
  path(b, splitResourceId(change.resourceId).relative, 0, 1, head, tail);
  const delta = change.delta ?? [];
  if (kind === 'Create' && isNonEmptyObject(change.after)) {
    json(b, change.after, '', 0, 2);
  } else if (kind === 'Delete' && isNonEmptyObject(change.before)) {
    json(b, change.before, '', 0, 2);
  } else if (delta.length > 0) {
    b.push(COLOR.reset).line();
    propertyChanges(b, byWeightThenPath(delta));
    b.pop();
  } else if (last) {
    b.line();
  }
}

function legend(b: Builder, changes: readonly WhatIfChange[]): void {
  if (changes.length === 0) return;
  const kinds = new Set<Kind>();
  const addProperties = (properties: readonly WhatIfPropertyChange[] | null | undefined): void => {
    for (const p of properties ?? []) {
      const kind = kindOf(p.propertyChangeType);
      kinds.add(kind === 'Array' ? 'Modify' : kind);
      addProperties(p.children);
    }
  };
  for (const change of changes) {
    kinds.add(kindOf(change.changeType));
    addProperties(change.delta);
  }
  const sorted = sortBy([...kinds], (kind) => KINDS[kind].weight);
  b.append('Resource and property changes are indicated with ');
  b.line(sorted.length === 1 ? 'this symbol:' : 'these symbols:');
  for (const kind of sorted) {
    indent(b);
    // Python's str.title(): `NoChange` is shown as `Nochange`.
    b.append(KINDS[kind].symbol, KINDS[kind].color).append(' ');
    b.line(`${kind.charAt(0)}${kind.slice(1).toLowerCase()}`);
  }
}

function byScope(b: Builder, changes: readonly WhatIfChange[]): void {
  if (changes.length === 0) return;
  const scopes = new Map<string, WhatIfChange[]>();
  const scopeKey = (c: WhatIfChange): string => splitResourceId(c.resourceId).scope.toUpperCase();
  for (const change of sortBy(changes, scopeKey)) {
    scopes.set(scopeKey(change), [...(scopes.get(scopeKey(change)) ?? []), change]);
  }
  b.line();
  // az's words, the missing colon after "scopes" included.
  b.line(`The deployment will update the following ${scopes.size === 1 ? 'scope:' : 'scopes'}`);
  for (const inScope of scopes.values()) {
    b.line().line(`Scope: ${splitResourceId(inScope[0]?.resourceId ?? '').scope}`);
    const sorted = sortBy(inScope, weight, (c) => splitResourceId(c.resourceId).relative);
    // One colour scope per run of the same kind, as az's groupby.
    sorted.forEach((change, i) => {
      const kind = kindOf(change.changeType);
      const color = KINDS[kind].color;
      if (i === 0 || kindOf(sorted[i - 1]?.changeType ?? '') !== kind) b.push(color);
      resourceChange(b, change, i === sorted.length - 1);
      if (i === sorted.length - 1 || kindOf(sorted[i + 1]?.changeType ?? '') !== kind) b.pop();
    });
  }
}

function summary(b: Builder, changes: readonly WhatIfChange[]): void {
  b.line().append('Resource changes: ');
  if (changes.length === 0) {
    b.append('no change.');
    return;
  }
  const counts = new Map<Kind, number>();
  for (const change of sortBy(changes, weight)) {
    const kind = kindOf(change.changeType);
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  const words = [...counts].map(([kind, n]) => {
    const counted = KINDS[kind].counted;
    if (counted === undefined) throw new Error(`Invalid ChangeType: ${kind}`);
    return `${String(n)} ${counted}`;
  });
  b.append(words.join(', ')).append('.');
}

/**
 * A what-if result's changes as az 2.45's `format_what_if_operation_result` prints them, ending
 * with the summary ("Resource changes: 1 to create, 2 no change."), without the final line break
 * az's `print` adds. `colored` adds az's terminal colours.
 *
 * @throws {Error} on a change type az does not know.
 */
export function formatWhatIf(changes: readonly WhatIfChange[], colored: boolean): string {
  const b = new Builder(colored);
  b.line(
    'Note: The result may contain false positive predictions (noise).\nYou can help us improve the accuracy of the result by opening an issue here: https://aka.ms/WhatIfIssues',
  );
  b.line();
  legend(b, changes);
  byScope(b, changes);
  summary(b, changes);
  return b.text();
}

/** `--exclude-change-types`: the changes whose type is not among `excluded` (any case). */
export function excludeChangeTypes(
  changes: readonly WhatIfChange[],
  excluded: readonly string[] | undefined,
): WhatIfChange[] {
  if (excluded === undefined || excluded.length === 0) return [...changes];
  const out = new Set(excluded.map((t) => t.toLowerCase()));
  return changes.filter((c) => !out.has(c.changeType.toLowerCase()));
}
