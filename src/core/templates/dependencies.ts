// The deployment's dependency graph: dependsOn and reference() targets resolved to resources, cycles found, waves ordered.
import { circularDependency, resourceNotDefined, type Located } from './errors.js';

/** A concrete resource as the graph sees it. */
export interface GraphResource {
  readonly id: string;
  /** Full type, e.g. `Microsoft.Compute/virtualMachines/extensions`. */
  readonly type: string;
  /** Full name, e.g. `vm1/ext`. */
  readonly name: string;
  /** The copy loop it came from, if any. */
  readonly loop?: string;
  /** Conditioned out: it can be named, but nothing waits for it. */
  readonly skipped: boolean;
  readonly at: Located;
}

function trimSlashes(text: string): string {
  return text.replace(/^\/+|\/+$/g, '');
}

/** `ns/t1/n1/t2/n2`: the id after its scope's `/providers/`. */
export function interleaved(type: string, name: string): string {
  const [namespace, ...types] = type.split('/');
  const names = name.split('/');
  return [namespace, ...types.flatMap((t, i) => [t, names[i] ?? ''])].join('/');
}

/**
 * The resources of a deployment by every way a template names them: id, `type/name` (both the
 * interleaved `ns/t1/n1/t2/n2` form and `ns/t1/t2/n1/n2`), plain name, and copy loop name. All
 * compared case-insensitively.
 */
export class ResourceIndex<R extends GraphResource = GraphResource> {
  private readonly byKey = new Map<string, number[]>();
  private readonly byLoop = new Map<string, number[]>();

  constructor(readonly resources: readonly R[]) {
    resources.forEach((resource, index) => {
      const keys = new Set([
        resource.id,
        interleaved(resource.type, resource.name),
        `${resource.type}/${resource.name}`,
        resource.name,
      ]);
      for (const key of keys) this.add(this.byKey, key.toLowerCase(), index);
      if (resource.loop !== undefined) this.add(this.byLoop, resource.loop.toLowerCase(), index);
    });
  }

  private add(map: Map<string, number[]>, key: string, index: number): void {
    const list = map.get(key);
    if (list === undefined) map.set(key, [index]);
    else list.push(index);
  }

  /** The resources a name, id or relative id designates (conditioned-out ones included). */
  find(reference: string): readonly number[] {
    const key = reference.startsWith('/') ? reference.replace(/\/+$/, '') : trimSlashes(reference);
    return this.byKey.get(key.toLowerCase()) ?? [];
  }

  /** The instances of a copy loop, or undefined when no loop has that name. */
  loop(name: string): readonly number[] | undefined {
    return this.byLoop.get(name.toLowerCase());
  }
}

// ARM names a missing target by its type and name, even when the template gave a full id.
function shownTarget(entry: string): string {
  const at = entry.toLowerCase().indexOf('/providers/');
  return entry.startsWith('/') && at >= 0 ? entry.slice(at + '/providers/'.length) : entry;
}

/**
 * The resources one `dependsOn` entry designates: a copy loop name (all its instances), a
 * resource id, `type/name`, or a name (deployment-dependencies.md). Conditioned-out targets are
 * dropped.
 *
 * @throws {AppError} `InvalidTemplate` "The resource '…' is not defined in the template."
 */
export function dependsOnTargets<R extends GraphResource>(
  index: ResourceIndex<R>,
  entry: string,
  at: Located,
): number[] {
  const loop = index.loop(entry);
  const found = loop ?? index.find(entry);
  if (loop === undefined && found.length === 0) throw resourceNotDefined(at, shownTarget(entry));
  return found.filter((i) => index.resources[i]?.skipped !== true);
}

/**
 * The first arguments (as expression text) of the `reference(…)` and `list*(…)` calls in a
 * template expression: the plan evaluates them to find implicit dependencies. Quoted strings are
 * skipped; namespaced user functions (`ns.listX`) are not ARM's `list*`.
 */
export function referenceArguments(expression: string): string[] {
  const found: string[] = [];
  let i = 0;
  while (i < expression.length) {
    const c = expression.charAt(i);
    if (c === "'") {
      i = skipQuoted(expression, i);
      continue;
    }
    if (/[A-Za-z_]/.test(c) && !/[\w.$]/.test(expression.charAt(i - 1))) {
      const word = /^[\w.$]+/.exec(expression.slice(i))?.[0] ?? c;
      const name = word.toLowerCase();
      const open = skipSpaces(expression, i + word.length);
      if ((name === 'reference' || name.startsWith('list')) && expression.charAt(open) === '(') {
        found.push(firstArgument(expression, open + 1).trim());
      }
      i += word.length;
      continue;
    }
    i++;
  }
  return found.filter((arg) => arg !== '');
}

function skipQuoted(text: string, open: number): number {
  let i = open + 1;
  while (i < text.length) {
    if (text.charAt(i) === "'") {
      if (text.charAt(i + 1) !== "'") return i + 1;
      i++;
    }
    i++;
  }
  return i;
}

function skipSpaces(text: string, from: number): number {
  let i = from;
  while (/\s/.test(text.charAt(i))) i++;
  return i;
}

function firstArgument(text: string, from: number): string {
  let depth = 0;
  let i = from;
  while (i < text.length) {
    const c = text.charAt(i);
    if (c === "'") {
      i = skipQuoted(text, i);
      continue;
    }
    if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') {
      if (depth === 0) break;
      depth--;
    } else if (c === ',' && depth === 0) break;
    i++;
  }
  return text.slice(from, i);
}

/**
 * Orders the graph into waves: every resource of a wave depends only on resources of earlier
 * waves, so an executor may run a wave's resources concurrently (or walk `edges` as a DAG).
 * `edges[i]` are the indexes resource `i` waits for.
 *
 * @throws {AppError} `InvalidTemplate` "Circular dependency detected on resource: '{id}'." naming
 *   the first resource, in template order, at which a cycle closes.
 */
export function orderWaves(
  resources: readonly GraphResource[],
  edges: readonly ReadonlySet<number>[],
): number[][] {
  const remaining = new Map<number, number>();
  const dependents = resources.map((): number[] => []);
  edges.forEach((targets, i) => {
    remaining.set(i, targets.size);
    for (const target of targets) dependents[target]?.push(i);
  });
  const waves: number[][] = [];
  let ready = [...remaining].filter(([, count]) => count === 0).map(([i]) => i);
  let placed = 0;
  while (ready.length > 0) {
    waves.push(ready);
    placed += ready.length;
    const next: number[] = [];
    for (const i of ready) {
      for (const dependent of dependents[i] ?? []) {
        const count = (remaining.get(dependent) ?? 0) - 1;
        remaining.set(dependent, count);
        if (count === 0) next.push(dependent);
      }
    }
    ready = next.sort((a, b) => a - b);
  }
  if (placed < resources.length) throw cycleError(resources, edges);
  return waves;
}

function cycleError(
  resources: readonly GraphResource[],
  edges: readonly ReadonlySet<number>[],
): Error {
  const state = new Map<number, 'open' | 'done'>();
  const visit = (i: number): number | undefined => {
    state.set(i, 'open');
    for (const target of edges[i] ?? []) {
      const seen = state.get(target);
      if (seen === 'open') return target;
      if (seen === undefined) {
        const closed = visit(target);
        if (closed !== undefined) return closed;
      }
    }
    state.set(i, 'done');
    return undefined;
  };
  for (let i = 0; i < resources.length; i++) {
    if (state.has(i)) continue;
    const closed = visit(i);
    const resource = closed === undefined ? undefined : resources[closed];
    if (resource !== undefined) return circularDependency(resource.at, resource.id);
  }
  throw new Error('unreachable: the waves left resources out but no cycle was found');
}
