// Microsoft.Resources/providers: the namespaces Tessera serves, their types and api-versions, as `az provider` reads them.
import { notFound } from '../../../core/errors.js';
import { listPage, renderProvider, versionsOf } from '../../../wire/arm/index.js';
import type { OperationContext, ResourceTypeDeclaration } from '../provider.js';
import { type Registry, namespaceOf } from '../registry.js';
import { OWN_TYPES } from '../../../wire/arm/target.js';

/** One provider of the registry, as ARM shows it at `scope`. */
function renderOne(registry: Registry, namespace: string, scope: string): unknown {
  const types = registry.inNamespace(namespace).map((declaration) => ({
    resourceType: declaration.type.slice(namespace.length + 1),
    apiVersions: declaration.apiVersions.versions,
    capabilities: declaration.capabilities,
  }));
  return renderProvider(namespace, scope, types);
}

function providerNotFound(namespace: string): Error {
  return notFound(`The resource namespace '${namespace}' is invalid.`, {
    wire: { arm: 'InvalidResourceNamespace' },
  });
}

function namespaces(registry: Registry): string[] {
  return [...new Set(registry.types.map((declaration) => namespaceOf(declaration.type)))];
}

async function read(
  registry: Registry,
  context: OperationContext,
): Promise<{ status: number; body: unknown }> {
  const namespace = registry.namespace(context.name);
  if (namespace === undefined) throw providerNotFound(context.name);
  return Promise.resolve({
    status: 200,
    body: renderOne(registry, namespace, context.target.scope),
  });
}

/**
 * `GET [/subscriptions/{s}]/providers[/{namespace}]`. Provider metadata is no tenant data: any
 * authenticated caller may read it (an identity scoped to one group resolves api-versions too).
 */
export function resourceProviders(registry: () => Registry): ResourceTypeDeclaration {
  return {
    type: OWN_TYPES.providers,
    apiVersions: versionsOf(OWN_TYPES.providers),
    placement: ['tenant', 'subscription'],
    validateName: () => undefined,
    operations: {
      read: { run: (context) => read(registry(), context), authorizeAt: 'none' },
      list: {
        run: (context) => {
          const all = registry();
          const value = namespaces(all).map((namespace) =>
            renderOne(all, namespace, context.target.scope),
          );
          return Promise.resolve({
            status: 200,
            body: listPage(value, { requestUrl: context.request.url }),
          });
        },
      },
    },
  };
}
