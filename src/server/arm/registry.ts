// The resource types ARM serves, each declared once by its provider module, looked up by type.
import { notFound } from '../../core/errors.js';
import type { AppError } from '../../core/errors.js';
import { invalidResourceNamespace, invalidResourceType } from '../../wire/arm/index.js';
import type { ResourceTypeDeclaration } from './provider.js';
import type { ArmTarget } from '../../wire/arm/target.js';

/** The declared types, by type and by namespace (both case-insensitive). */
export interface Registry {
  /** Every declaration, in the order given. */
  readonly types: readonly ResourceTypeDeclaration[];
  /** The declaration of a full type (`microsoft.compute/virtualmachines`), any case. */
  get(type: string): ResourceTypeDeclaration | undefined;
  /** The namespace in its canonical case (`Microsoft.Compute`), or undefined if none is served. */
  namespace(name: string): string | undefined;
  /** The declarations of one namespace (canonical or any case). */
  inNamespace(name: string): readonly ResourceTypeDeclaration[];
}

/** The namespace of a full type: `Microsoft.Compute` of `Microsoft.Compute/virtualMachines`. */
export const namespaceOf = (type: string): string => type.split('/', 1)[0] ?? '';

/**
 * Builds the registry. Throws a plain `Error` (a programming fault) when two declarations name
 * the same type.
 */
export function createRegistry(types: readonly ResourceTypeDeclaration[]): Registry {
  const byType = new Map<string, ResourceTypeDeclaration>();
  const byNamespace = new Map<string, { name: string; types: ResourceTypeDeclaration[] }>();
  for (const declaration of types) {
    const key = declaration.type.toLowerCase();
    if (byType.has(key)) throw new Error(`resource type ${declaration.type} is declared twice`);
    byType.set(key, declaration);
    const namespace = namespaceOf(declaration.type);
    const entry = byNamespace.get(namespace.toLowerCase()) ?? { name: namespace, types: [] };
    entry.types.push(declaration);
    byNamespace.set(namespace.toLowerCase(), entry);
  }
  return {
    types,
    get: (type) => byType.get(type.toLowerCase()),
    namespace: (name) => byNamespace.get(name.toLowerCase())?.name,
    inNamespace: (name) => byNamespace.get(name.toLowerCase())?.types ?? [],
  };
}

/**
 * ARM's answer for a path Tessera does not serve: `InvalidResourceNamespace` (404) when the
 * path names a namespace no provider serves; `InvalidResourceType` (404) in ARM's words for a
 * type its namespace does not have ("The resource type '…' could not be found in the namespace
 * '…' for api version '…'."), or naming the path when it has no ARM shape at all.
 */
export function notServed(
  registry: Registry,
  path: string,
  target?: ArmTarget,
  apiVersion?: string,
): AppError {
  const namespace = target?.namespace ?? lastNamespace(path);
  if (namespace !== undefined && registry.namespace(namespace) === undefined) {
    return invalidResourceNamespace(namespace);
  }
  if (target?.namespace !== undefined && target.type.includes('/')) {
    const type = target.type.slice(target.namespace.length + 1);
    return invalidResourceType(
      type,
      registry.namespace(target.namespace) ?? target.namespace,
      apiVersion ?? '',
    );
  }
  return pathNotServed(path);
}

/** `InvalidResourceType` (404) naming a path of no ARM shape, or one no type serves. */
export function pathNotServed(path: string): AppError {
  return notFound(`The resource path '${path}' is not served by Tessera.`, {
    wire: { arm: 'InvalidResourceType' },
  });
}

/** The segment after the last `providers` of a path that did not parse, if any. */
function lastNamespace(path: string): string | undefined {
  const segments = path.split('/');
  const at = segments.findLastIndex((segment) => segment.toLowerCase() === 'providers');
  return at < 0 ? undefined : segments[at + 1];
}
