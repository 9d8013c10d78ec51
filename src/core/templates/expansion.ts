// Expands resource declarations into concrete resources: conditions, copy loops, nested children, names, types, ids and scopes.
import { TemplateExpressionError, type TemplateValue } from './context.js';
import { interleaved, type GraphResource } from './dependencies.js';
import {
  apiVersionMissing,
  incorrectSegmentLengths,
  invalidCopy,
  literalRequired,
  resourceInvalid,
  resourceNameEmpty,
  type Located,
} from './errors.js';
import {
  conditionValue,
  type CopyFrame,
  type Place,
  type TemplateEvaluator,
} from './evaluation.js';
import { isExpression } from './expressions.js';
import type { ResourceDeclaration } from './template.js';
import { findKey, isArray, isObject } from './values.js';

function child(at: Located, ...segments: (string | number)[]): Located {
  return { source: at.source, path: [...at.path, ...segments] };
}

/** A concrete resource while the plan is made. */
export interface Instance extends GraphResource {
  readonly declaration: ResourceDeclaration;
  readonly apiVersion: string;
  readonly resourceType: string;
  readonly scope: string;
  /** The scope id its children are built on. */
  readonly base: string;
  readonly location?: string;
  readonly copy?: { readonly name: string; readonly index: number };
  readonly place: Place;
  readonly dependsOn: readonly { readonly entry: string; readonly at: Located }[];
}

export interface Loop {
  readonly name: string;
  readonly serial: boolean;
  readonly batchSize: number;
  readonly members: number[];
}

/** Expands resource declarations, evaluating what must be known before anything is deployed. */
export class Expander {
  readonly instances: Instance[] = [];
  readonly loops: Loop[] = [];

  constructor(
    private readonly evaluator: TemplateEvaluator,
    private readonly deploymentScope: string,
    private readonly subscriptionId: string,
    private readonly atSubscription: boolean,
  ) {}

  expand(
    declaration: ResourceDeclaration,
    parent?: Instance,
    frames: readonly CopyFrame[] = [],
  ): void {
    const copyKey = findKey(declaration.raw, 'copy');
    if (copyKey === undefined) {
      this.instance(declaration, parent, frames);
      return;
    }
    const at = child(declaration, copyKey);
    if (parent !== undefined) {
      throw invalidCopy(
        at,
        'copy is not supported on a nested resource; declare it at the top level',
      );
    }
    const loop = this.readCopy(declaration.raw[copyKey] ?? null, { kind: 'resource', frames }, at);
    this.loops.push(loop);
    for (let index = 0; index < loop.count; index++) {
      loop.members.push(this.instances.length);
      const frame: CopyFrame = { name: loop.name, index, implicit: true };
      this.instance(declaration, parent, [...frames, frame], { name: loop.name, index });
    }
  }

  private readCopy(value: TemplateValue, place: Place, at: Located): Loop & { count: number } {
    if (!isObject(value)) throw invalidCopy(at, "'copy' must be an object");
    const member = (name: string): TemplateValue | undefined => {
      const key = findKey(value, name);
      return key === undefined ? undefined : (value[key] ?? null);
    };
    const name = member('name');
    if (typeof name !== 'string' || name === '')
      throw invalidCopy(at, "the copy 'name' is required");
    const count = this.evaluator.copyCount(member('count') ?? null, place, child(at, 'count'));
    const mode = member('mode');
    const modeText =
      mode === undefined || mode === null ? 'parallel' : this.evaluator.tree(mode, place, at);
    if (typeof modeText !== 'string' || !['serial', 'parallel'].includes(modeText.toLowerCase())) {
      throw invalidCopy(at, "the copy 'mode' must be 'Serial' or 'Parallel'");
    }
    const batch = member('batchSize');
    const batchSize =
      batch === undefined || batch === null ? 1 : this.evaluator.tree(batch, place, at);
    if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1) {
      throw invalidCopy(at, "the copy 'batchSize' must be a positive integer");
    }
    return { name, count, serial: modeText.toLowerCase() === 'serial', batchSize, members: [] };
  }

  private instance(
    declaration: ResourceDeclaration,
    parent: Instance | undefined,
    frames: readonly CopyFrame[],
    copy?: { readonly name: string; readonly index: number },
  ): void {
    const raw = declaration.raw;
    const place: Place = { kind: 'resource', frames };
    const rawName = raw[findKey(raw, 'name') ?? 'name'];
    let shown = typeof rawName === 'string' ? rawName : JSON.stringify(rawName ?? null);
    const evaluate = (key: string): TemplateValue | undefined => {
      const found = findKey(raw, key);
      if (found === undefined) return undefined;
      try {
        return this.evaluator.tree(raw[found] ?? null, place, child(declaration, found));
      } catch (error) {
        if (error instanceof TemplateExpressionError)
          throw resourceInvalid(declaration, shown, error.message);
        throw error;
      }
    };
    // ARM checks these before it evaluates anything, and names the resource as written.
    const type = this.literal(declaration, 'type', shown);
    const apiVersion = this.literal(declaration, 'apiVersion', shown);
    const condition = evaluate('condition');
    const decided = condition === undefined ? true : conditionValue(condition);
    if (decided === undefined) {
      throw resourceInvalid(
        declaration,
        shown,
        'The template resource condition must evaluate to a boolean value.',
      );
    }
    const name = evaluate('name');
    if (typeof name !== 'string' || name === '') throw resourceNameEmpty(declaration);
    const fullName = parent === undefined ? name : `${parent.name}/${name}`;
    shown = fullName;
    const typeSegments = type.split('/').length;
    const nameSegments = name.split('/').length;
    if (parent === undefined ? typeSegments !== nameSegments + 1 : typeSegments !== nameSegments) {
      throw incorrectSegmentLengths(declaration, name, type);
    }
    const fullType = parent === undefined ? type : `${parent.type}/${type}`;
    const base = parent?.base ?? this.baseOf(evaluate);
    const location = evaluate('location');
    if (location !== undefined && location !== null && typeof location !== 'string') {
      throw resourceInvalid(declaration, shown, 'The resource location must be a string.');
    }
    const instance: Instance = {
      id: this.idOf(base, fullType, fullName),
      type: fullType,
      name: fullName,
      skipped: !decided,
      at: declaration,
      declaration,
      apiVersion,
      ...extensionParts(base, fullType, fullName),
      base,
      ...(typeof location === 'string' ? { location } : {}),
      ...(copy === undefined ? {} : { copy, loop: copy.name }),
      place,
      dependsOn: this.dependsOnEntries(declaration, evaluate('dependsOn')),
    };
    this.instances.push(instance);
    for (const nested of declaration.children) this.expand(nested, instance, frames);
  }

  private literal(
    declaration: ResourceDeclaration,
    property: 'type' | 'apiVersion',
    shown: string,
  ): string {
    const key = findKey(declaration.raw, property);
    const value = key === undefined ? undefined : declaration.raw[key];
    if (property === 'apiVersion' && (value === undefined || value === null || value === '')) {
      throw apiVersionMissing(declaration, shown);
    }
    if (typeof value !== 'string' || isExpression(value))
      throw literalRequired(declaration, shown, property);
    return value;
  }

  /** The scope id a top-level resource is built on: `scope`, `subscriptionId`/`resourceGroup`, or the deployment's. */
  private baseOf(evaluate: (key: string) => TemplateValue | undefined): string {
    const scope = evaluate('scope');
    if (typeof scope === 'string' && scope !== '') {
      if (scope.startsWith('/')) return scope.replace(/\/+$/, '');
      return `${this.deploymentScope}/providers/${scope.replace(/^\/+|\/+$/g, '')}`;
    }
    const subscription = evaluate('subscriptionId');
    const group = evaluate('resourceGroup');
    if (typeof subscription !== 'string' && typeof group !== 'string') return this.deploymentScope;
    const sub = typeof subscription === 'string' ? subscription : this.subscriptionId;
    return typeof group === 'string'
      ? `/subscriptions/${sub}/resourceGroups/${group}`
      : `/subscriptions/${sub}`;
  }

  private idOf(base: string, type: string, name: string): string {
    // A resource group created by a subscription-scope template has ARM's short id.
    if (
      this.atSubscription &&
      base === this.deploymentScope &&
      type.toLowerCase() === 'microsoft.resources/resourcegroups'
    ) {
      return `${base}/resourceGroups/${name}`;
    }
    return `${base}/providers/${interleaved(type, name)}`;
  }

  private dependsOnEntries(
    declaration: ResourceDeclaration,
    value: TemplateValue | undefined,
  ): Instance['dependsOn'] {
    if (value === undefined || value === null) return [];
    const key = findKey(declaration.raw, 'dependsOn') ?? 'dependsOn';
    const entries = isArray(value) ? value : [value];
    return entries.flatMap((entry, i) => {
      const at = child(declaration, key, i);
      const list = isArray(entry) ? entry : [entry];
      return list.map((item) => {
        if (typeof item !== 'string') {
          throw resourceInvalid(
            declaration,
            JSON.stringify(item),
            'The dependsOn entries must be strings.',
          );
        }
        return { entry: item, at };
      });
    });
  }
}

/** For the legacy `{type}/providers/{extension type}` naming: the extension's own type, and the resource it sits on. */
function extensionParts(
  base: string,
  type: string,
  name: string,
): { resourceType: string; scope: string } {
  const [namespace = '', ...types] = type.split('/');
  const names = name.split('/');
  const at = types.map((t) => t.toLowerCase()).lastIndexOf('providers');
  if (at < 0) return { resourceType: type, scope: base };
  const target = interleaved(
    [namespace, ...types.slice(0, at)].join('/'),
    names.slice(0, at).join('/'),
  );
  return {
    resourceType: [names[at] ?? '', ...types.slice(at + 1)].join('/'),
    scope: `${base}/providers/${target}`,
  };
}
