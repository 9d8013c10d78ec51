// `POST …/resourceGroups/{g}/exportTemplate`: the group's resources and role assignments read as the caller, made a template.
import {
  EXPORT_COMPLETED_WITH_ERRORS,
  exportGroupTemplate,
  type ExportedResource,
  type ExportOptions,
} from '../../core/deployments/export.js';
import { mapConcurrently } from '../../core/concurrency.js';
import type { Resource } from '../../core/model.js';
import { RESOURCE_TYPES } from '../../core/resource-types.js';
import { newestVersionOf } from '../../wire/arm/api-versions.js';
import { invalidRequestContent, parseJsonBody } from '../../wire/arm/index.js';
import type { ArmResponse } from './context.js';
import type { OperationContext } from './provider.js';
import { groupNotFound } from './scope.js';

/** What the export reads of a group, each at the newest api-version Tessera serves it. */
const EXPORTED = new Set(
  [
    RESOURCE_TYPES.userAssignedIdentities,
    RESOURCE_TYPES.federatedCredentials,
    RESOURCE_TYPES.virtualMachines,
    RESOURCE_TYPES.vmExtensions,
    RESOURCE_TYPES.scaleSets,
    RESOURCE_TYPES.keyVaults,
  ].map((t) => t.toLowerCase()),
);

/** Kept in a group but not its resources: a deployment's history, a scale set's instances. */
const NOT_RESOURCES = new Set(
  [RESOURCE_TYPES.deployments, RESOURCE_TYPES.scaleSetInstances].map((t) => t.toLowerCase()),
);

const ROLE_ASSIGNMENTS = RESOURCE_TYPES.roleAssignments;
/** How many resources an export reads at once (as what-if does). */
const READS_AT_ONCE = 16;

/** The request: `resources` (`["*"]` or ids) and `options` (CSV of ARM's flags). */
function readRequest(context: OperationContext): {
  ids: ReadonlySet<string> | undefined;
  options: ExportOptions;
} {
  const body = parseJsonBody(context.request.body) as
    { resources?: unknown; options?: unknown } | undefined;
  const resources = body?.resources ?? ['*'];
  if (!Array.isArray(resources) || resources.some((r) => typeof r !== 'string')) {
    throw invalidRequestContent(
      "The value of 'resources' must be an array of resource ids or '*'.",
    );
  }
  const all = resources.includes('*');
  const flags = new Set(
    (typeof body?.options === 'string' ? body.options : '')
      .split(',')
      .map((f) => f.trim().toLowerCase()),
  );
  return {
    ids: all ? undefined : new Set((resources as string[]).map((r) => r.toLowerCase())),
    options: {
      includeParameterDefaultValue: flags.has('includeparameterdefaultvalue'),
      includeComments: flags.has('includecomments'),
      skipResourceNameParameterization: flags.has('skipresourcenameparameterization'),
      skipAllParameterization: flags.has('skipallparameterization'),
    },
  };
}

/** Every resource stored under the group. */
async function storedUnder(context: OperationContext, groupId: string): Promise<Resource[]> {
  const out: Resource[] = [];
  let cursor: string | undefined;
  do {
    const page = await context.services.store.resources.listUnder(groupId, {
      limit: 1000,
      ...(cursor === undefined ? {} : { cursor }),
    });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return out;
}

/** The ids of the role assignments at the group or below it. */
async function assignmentIdsUnder(context: OperationContext, groupId: string): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await context.services.store.roles.listAssignments(
      { scopeUnder: groupId },
      { limit: 1000, ...(cursor === undefined ? {} : { cursor }) },
    );
    out.push(...page.items.map((a) => `${a.scope}/providers/${ROLE_ASSIGNMENTS}/${a.id}`));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return out;
}

/** Reads `id` through the pipeline as the caller; undefined when it cannot be read. */
async function readAs(
  context: OperationContext,
  id: string,
  type: string,
): Promise<ExportedResource | undefined> {
  const apiVersion = newestVersionOf(type);
  try {
    const read = await context.dispatch({
      method: 'GET',
      path: id,
      apiVersion,
      correlationId: context.request.correlationId ?? '',
    });
    return { id, type, apiVersion, body: read.body as Record<string, unknown> };
  } catch {
    return undefined;
  }
}

/**
 * Exports the group (PROTOCOL-TOOLS Part C 1.9): its identities, their federated credentials,
 * VMs and their extensions, scale sets, vaults, and the role assignments at or under it, each
 * read through the pipeline as the caller (what the caller may not read is left out), made a
 * template by `exportGroupTemplate`. Answers 200 `{template}`, with `error`
 * (`ExportTemplateCompletedWithErrors`) naming the types it could not export.
 */
export async function exportResourceGroup(context: OperationContext): Promise<ArmResponse> {
  const group = await context.services.store.resources.get(context.id);
  if (group?.type !== RESOURCE_TYPES.resourceGroups) throw groupNotFound(context.name);
  const { ids, options } = readRequest(context);
  const wanted = (id: string): boolean => ids === undefined || ids.has(id.toLowerCase());
  const resources = (await storedUnder(context, group.id)).filter(
    (r) => !NOT_RESOURCES.has(r.type.toLowerCase()) && wanted(r.id),
  );
  const assignments = (await assignmentIdsUnder(context, group.id)).filter(wanted);
  // Read through the pipeline as the caller, READS_AT_ONCE at a time, in the stored order; what
  // the caller may not read is left out.
  const reads = await mapConcurrently(
    [
      ...resources.map((r) => ({ id: r.id, type: r.type })),
      ...assignments.map((id) => ({ id, type: ROLE_ASSIGNMENTS })),
    ],
    READS_AT_ONCE,
    ({ id, type }): Promise<ExportedResource | undefined> =>
      EXPORTED.has(type.toLowerCase()) || type === ROLE_ASSIGNMENTS
        ? readAs(context, id, type)
        : // A type Tessera cannot export goes to the exporter as it is stored, to be reported.
          Promise.resolve({ id, type, apiVersion: '', body: { id } }),
  );
  const exported = reads.filter((read): read is ExportedResource => read !== undefined);
  const result = exportGroupTemplate(
    { subscriptionId: context.where.subscriptionId, name: group.name },
    exported,
    options,
  );
  return {
    status: 200,
    body: {
      template: result.template,
      ...(result.errors.length === 0
        ? {}
        : { error: { ...EXPORT_COMPLETED_WITH_ERRORS, details: result.errors } }),
    },
  };
}
