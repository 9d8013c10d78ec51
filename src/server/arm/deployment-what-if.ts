// `POST …/deployments/{name}/whatIf`: what a deployment would change, read from the resources as they are now.
import { mapConcurrently } from '../../core/concurrency.js';
import { ReferenceBook, ReferenceFailed } from '../../core/deployments/references.js';
import {
  TESSERA_READ_ONLY_PATHS,
  whatIfChanges,
  type WhatIfSubject,
} from '../../core/deployments/what-if.js';
import type { PlannedResource } from '../../core/templates/plan.js';
import { armErrorObject } from '../../wire/errors/index.js';
import type { ArmResponse } from './context.js';
import { groupResourcesBesides } from './deployment-record.js';
import { dispatcherFor, prepareDeployment } from './deployment-run.js';
import type { OperationContext } from './provider.js';

/** The codes ARM answers for a type no provider serves: what-if calls such a resource Unsupported. */
const NOT_SERVED = new Set([
  'invalidresourcenamespace',
  'invalidresourcetype',
  'noregisteredproviderfound',
]);

/** How far what-if reads resources at once. */
const READS_AT_ONCE = 16;

/** The envelope a resource would be written as: id, name, type and api-version, then its body. */
function afterOf(resource: PlannedResource, body: unknown): Record<string, unknown> {
  return {
    id: resource.id,
    name: resource.name.split('/').at(-1) ?? resource.name,
    type: resource.type,
    apiVersion: resource.apiVersion,
    ...(body as Record<string, unknown>),
  };
}

/**
 * What-if (PROTOCOL-TOOLS Part C 1.7): plans the request as a PUT would, reads each resource it
 * names as it is now (through the pipeline, as the caller), evaluates each body (a `reference()`
 * to a template resource that does not exist yet leaves that member as the template wrote it, as
 * Azure's what-if does) and answers `changes[]` at once with 200 (clients accept 200 as final).
 */
export async function whatIfDeployment(context: OperationContext): Promise<ArmResponse> {
  const { plan, request, record } = await prepareDeployment(context);
  const dispatcher = dispatcherFor(context, record.correlationId);
  const reads = await mapConcurrently(plan.resources, READS_AT_ONCE, (r) =>
    dispatcher.get(r.id, r.apiVersion),
  );
  const missing = new Set<string>();
  const ids = new Set(plan.resources.map((r) => r.id.toLowerCase()));
  plan.resources.forEach((r, i) => {
    if ((reads[i]?.status ?? 404) >= 300) missing.add(r.id.toLowerCase());
  });
  const book = new ReferenceBook(dispatcher, ids, missing);
  plan.resources.forEach((r, i) => {
    const read = reads[i];
    if (read?.status === 200) book.record(r.id, read.body);
  });
  const subjects: WhatIfSubject[] = [];
  try {
    for (const [i, resource] of plan.resources.entries()) {
      const read = reads[i];
      const code = read?.error?.code.toLowerCase() ?? '';
      if (
        read !== undefined &&
        read.status >= 300 &&
        (read.status !== 404 || NOT_SERVED.has(code))
      ) {
        subjects.push({
          resourceId: resource.id,
          unsupportedReason: read.error?.message ?? 'Unsupported',
        });
        continue;
      }
      const before =
        read?.status === 200
          ? { ...(read.body as object), apiVersion: resource.apiVersion }
          : undefined;
      const body = await book.evaluate(() => resource.body(book));
      subjects.push({
        resourceId: resource.id,
        ...(before === undefined ? {} : { before }),
        after: afterOf(resource, body),
      });
    }
  } catch (error) {
    const described = error instanceof ReferenceFailed ? error.error : armErrorObject(error);
    return { status: 200, body: { status: 'Failed', error: described } };
  }
  for (const resource of await groupResourcesBesides(context, ids)) {
    const { id, name, type } = resource;
    subjects.push({ resourceId: id, before: { id, name, type } });
  }
  const changes = whatIfChanges(subjects, {
    mode: request.mode,
    resultFormat: request.resultFormat,
    readOnly: TESSERA_READ_ONLY_PATHS,
  });
  return { status: 200, body: { status: 'Succeeded', properties: { changes } } };
}
