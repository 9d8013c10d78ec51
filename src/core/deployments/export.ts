// The template a resource group's exportTemplate answers (`az group export`), built from its resources as ARM GET shows them.
import { isRecord } from '../guards.js';
import { RESOURCE_TYPES } from '../resource-types.js';

/** One resource of the group, as ARM GET returned it. */
export interface ExportedResource {
  /** Full ARM id as ARM renders it. */
  readonly id: string;
  /** Full type, e.g. `Microsoft.Compute/virtualMachines/extensions`. */
  readonly type: string;
  /** The api-version the body was read with. */
  readonly apiVersion: string;
  /** The GET body: `id`, `name`, `type`, `location`, `tags`, `identity`, `properties`, … */
  readonly body: Readonly<Record<string, unknown>>;
}

/** The request's `options` (a CSV string on the wire), one flag each. */
export interface ExportOptions {
  includeParameterDefaultValue?: boolean;
  /** Accepted; adds nothing (what Azure writes for it is not documented closely enough to copy). */
  includeComments?: boolean;
  skipResourceNameParameterization?: boolean;
  skipAllParameterization?: boolean;
}

/** One entry of the response's `error.details`. */
export interface ExportError {
  readonly code: string;
  readonly message: string;
  readonly target?: string;
}

/** `ResourceGroupExportResult`: the template, and what was left out of it. */
export interface ExportResult {
  readonly template: Record<string, unknown>;
  readonly errors: readonly ExportError[];
}

/**
 * The `error` a 200 carries when `errors` is not empty (they are its `details`), in Azure's words
 * as captured in Azure/azure-cli#448 and #3889.
 */
export const EXPORT_COMPLETED_WITH_ERRORS = {
  code: 'ExportTemplateCompletedWithErrors',
  message:
    'Export template operation completed with errors. Some resources were not exported. Please see details for more information.',
} as const;

const SCHEMA = 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#';
const T = RESOURCE_TYPES;
const ROLE_ASSIGNMENTS = T.roleAssignments.toLowerCase();
const ASSIGNMENT_MARKER = `/providers/${ROLE_ASSIGNMENTS}/`;

/**
 * The types export writes, each with the members of `properties` its provider computes (lower
 * case): Tessera's renderers in src/wire/arm, the Compute, Key Vault, MSI and Authorization specs.
 */
const READ_ONLY: ReadonlyMap<string, ReadonlySet<string>> = new Map(
  [
    [T.userAssignedIdentities, 'tenantid principalid clientid'],
    [T.federatedCredentials, ''],
    [T.virtualMachines, 'provisioningstate vmid timecreated instanceview'],
    [T.vmExtensions, 'provisioningstate instanceview'],
    [T.scaleSets, 'provisioningstate uniqueid timecreated'],
    [T.keyVaults, 'provisioningstate vaulturi hsmpoolresourceid privateendpointconnections'],
    [T.roleAssignments, 'scope createdon updatedon createdby updatedby'],
  ].map(([type = '', members = '']) => [type.toLowerCase(), new Set(members.split(' '))]),
);

/** Body members a template resource keeps, in the order Azure's exports write them. */
const BODY_MEMBERS = ['tags', 'sku', 'kind', 'plan', 'zones', 'identity', 'properties'] as const;

/** A resource by type and names: `Microsoft.Compute/virtualMachines/extensions`, `[vm, ext]`. */
interface Target {
  readonly type: string;
  readonly names: readonly string[];
}

/** A resource export writes; `kind` is its type in lower case, `key` its id in lower case. */
interface Entry extends Target {
  readonly resource: ExportedResource;
  readonly kind: string;
  readonly key: string;
  /** A role assignment's scope (`key`: its id, lower case); undefined for the group itself. */
  readonly scope?: Target & { readonly key: string };
}

/** What a string of a body becomes, and the resource (an index of the entries) it then needs. */
interface Replacement {
  readonly expression: string;
  readonly target: number;
}

/** How one body is rewritten: `deps` collects what it references; `tenant` is a vault's. */
interface Rewrite {
  readonly ids: ReadonlyMap<string, Replacement>;
  readonly principals?: ReadonlyMap<string, Replacement>;
  readonly tenant?: string;
  readonly self: number;
  readonly deps: Set<number>;
}

/** A string literal inside an expression: `'it''s'`. */
const quote = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/** A literal JSON string ARM would read as an expression gets its `[[` escape. */
const literal = (text: string): string =>
  text.startsWith('[') && text.endsWith(']') ? `[${text}` : text;

/** The resource `id` names in the group `prefix` (lower case): `…/providers/ns/t1/n1/t2/n2`. */
function targetIn(id: string, prefix: string): Target | undefined {
  const head = `${prefix}/providers/`;
  if (!id.toLowerCase().startsWith(head)) return undefined;
  const [namespace = '', ...rest] = id.slice(head.length).split('/');
  const names = rest.filter((_, i) => i % 2 === 1);
  if (namespace === '' || rest.length % 2 !== 0 || names.includes('')) return undefined;
  return { type: [namespace, ...rest.filter((_, i) => i % 2 === 0)].join('/'), names };
}

/** An entry for `resource`, or undefined when its id is not a resource of the group. */
function toEntry(resource: ExportedResource, prefix: string): Entry | undefined {
  const id = resource.id.replace(/\/+$/, '');
  const head = { resource, kind: resource.type.toLowerCase(), key: id.toLowerCase() };
  if (head.kind !== ROLE_ASSIGNMENTS) {
    const target = targetIn(id, prefix);
    if (target?.type.toLowerCase() !== head.kind) return undefined;
    return { ...head, type: resource.type, names: target.names };
  }
  const at = head.key.lastIndexOf(ASSIGNMENT_MARKER);
  const name = id.slice(at + ASSIGNMENT_MARKER.length);
  if (at < 0 || name === '' || name.includes('/')) return undefined;
  const assignment = { ...head, type: resource.type, names: [name] };
  const scopeKey = head.key.slice(0, at);
  if (scopeKey === prefix) return assignment;
  const scope = targetIn(id.slice(0, at), prefix);
  return scope === undefined ? undefined : { ...assignment, scope: { ...scope, key: scopeKey } };
}

const byTypeThenName = (a: Entry, b: Entry): number => {
  const [left, right] = [a, b].map((e) => `${e.kind}\n${e.names.join('/').toLowerCase()}`);
  return left === right ? 0 : (left ?? '') < (right ?? '') ? -1 : 1;
};

/**
 * The resources export writes, sorted by type then name, and errors for the others: Azure's
 * `ExportTemplateProviderError` once per type it cannot write (its text from Azure/azure-cli#3889
 * and #5555), and `ExportTemplateInvalidResource` (a code Azure uses; Tessera's text) for a
 * resource whose id is not in the group.
 */
function classify(
  group: { subscriptionId: string; name: string },
  resources: readonly ExportedResource[],
): { entries: Entry[]; errors: ExportError[] } {
  const prefix = `/subscriptions/${group.subscriptionId}/resourcegroups/${group.name}`;
  const entries: Entry[] = [];
  const unsupported = new Map<string, string>();
  const invalid: ExportError[] = [];
  for (const resource of resources) {
    const kind = resource.type.toLowerCase();
    const entry = READ_ONLY.has(kind) ? toEntry(resource, prefix.toLowerCase()) : undefined;
    if (entry !== undefined) entries.push(entry);
    else if (!READ_ONLY.has(kind)) unsupported.set(kind, unsupported.get(kind) ?? resource.type);
    else {
      const message = `The resource '${resource.id}' is not in the resource group '${group.name}'. It will not be exported.`;
      invalid.push({ code: 'ExportTemplateInvalidResource', message, target: resource.id });
    }
  }
  const errors = [...unsupported.keys()].sort().map((kind): ExportError => {
    const type = unsupported.get(kind) ?? kind;
    const message = `Could not get resources of the type '${type}'. Resources of this type will not be exported.`;
    return { code: 'ExportTemplateProviderError', message, target: type };
  });
  return { entries: entries.sort(byTypeThenName), errors: [...errors, ...invalid] };
}

/**
 * Names of the exported resources: one `String` parameter per top-level name, named
 * `{lastTypeSegment}_{name}_name` with every character but letters, digits and `_` written `_`,
 * as Azure's exports in public repositories show: `networkSecurityGroups_ckan_vm_nsg_name` for
 * `ckan-vm-nsg`, `privateDnsZones_privatelink_documents_azure_com_name` for
 * `privatelink.documents.azure.com` (and `userAssignedIdentities_parent_uami_name` in Microsoft's
 * workload identity docs). Two names that sanitise alike get `_2`, `_3`, … (Tessera's choice).
 */
class Names {
  private readonly roots = new Map<string, { parameter: string; value: string }>();

  constructor(entries: readonly Entry[], parameterize: boolean) {
    const taken = new Set<string>();
    for (const entry of parameterize ? entries : []) {
      const key = Names.key(entry);
      if (entry.kind === ROLE_ASSIGNMENTS || this.roots.has(key)) continue;
      const value = entry.names[0] ?? '';
      const base = `${entry.type.split('/')[1] ?? ''}_${value.replace(/[^A-Za-z0-9_]/g, '_')}_name`;
      let parameter = base;
      for (let n = 2; taken.has(parameter.toLowerCase()); n++) parameter = `${base}_${n}`;
      taken.add(parameter.toLowerCase());
      this.roots.set(key, { parameter, value });
    }
  }

  private static key(target: Target): string {
    return `${target.type.split('/').slice(0, 2).join('/')}/${target.names[0] ?? ''}`.toLowerCase();
  }

  /** `parameters('…')` for the top-level name of `target`, when it is a parameter. */
  private root(target: Target): string | undefined {
    const root = this.roots.get(Names.key(target));
    return root === undefined ? undefined : `parameters(${quote(root.parameter)})`;
  }

  /** `before` + the top-level name + `after`: a literal, or an expression of its parameter. */
  private around(target: Target, before: string, after: string): string {
    const root = this.root(target);
    if (root === undefined) return literal(`${before}${target.names[0] ?? ''}${after}`);
    const args = [...(before === '' ? [] : [quote(before)]), root];
    if (after !== '') args.push(quote(after));
    return args.length === 1 ? `[${root}]` : `[concat(${args.join(', ')})]`;
  }

  /** `resourceId('type', …names)`, without brackets. */
  resourceId(target: Target): string {
    const [first = '', ...rest] = target.names;
    const args = [quote(target.type), this.root(target) ?? quote(first), ...rest.map(quote)];
    return `resourceId(${args.join(', ')})`;
  }

  /** The template `name`: `[parameters('p')]`, `[concat(parameters('p'), '/ext')]` or a literal. */
  templateName(target: Target): string {
    const after = target.names.slice(1).map((name) => `/${name}`);
    return this.around(target, '', after.join(''));
  }

  /** The relative `scope` of an extension resource: `Microsoft.KeyVault/vaults/{name}`. */
  relativePath(target: Target): string {
    const [namespace = '', first = '', ...types] = target.type.split('/');
    const after = types.map((type, i) => `/${type}/${target.names[i + 1] ?? ''}`).join('');
    return this.around(target, `${namespace}/${first}/`, after);
  }

  /** The `parameters` section, in resource order. */
  parameters(withDefaults: boolean): Record<string, unknown> {
    const section: Record<string, unknown> = {};
    for (const { parameter, value } of this.roots.values()) {
      section[parameter] = { ...(withDefaults ? { defaultValue: value } : {}), type: 'String' };
    }
    return section;
  }
}

/** What {@link exportEntry} needs: `ids` and `principals` are keyed by lower-case text. */
interface Context {
  readonly entries: readonly Entry[];
  readonly names: Names;
  readonly ids: ReadonlyMap<string, Replacement>;
  readonly principals: ReadonlyMap<string, Replacement>;
}

/** The members that come before `location`. */
type Head = { readonly name: string; readonly scope?: string };

/**
 * Strings that become expressions: the id of each exported resource (`resourceId(…)`), and the
 * principal id of each exported identity: a user-assigned one's `reference(…).principalId`, a VM's
 * or scale set's own `reference(…, 'Full').identity.principalId` (template-functions-resource.md).
 */
function replacements(
  entries: readonly Entry[],
  names: Names,
): Pick<Context, 'ids' | 'principals'> {
  const ids = new Map<string, Replacement>();
  const principals = new Map<string, Replacement>();
  entries.forEach((entry, target) => {
    if (entry.kind === ROLE_ASSIGNMENTS) return;
    const id = names.resourceId(entry);
    ids.set(entry.key, { expression: `[${id}]`, target });
    const version = quote(entry.resource.apiVersion);
    const { properties, identity } = entry.resource.body;
    const own = entry.kind === T.userAssignedIdentities.toLowerCase() ? properties : undefined;
    if (isRecord(own) && typeof own.principalId === 'string' && own.principalId !== '') {
      const expression = `[reference(${id}, ${version}).principalId]`;
      principals.set(own.principalId.toLowerCase(), { expression, target });
    }
    if (isRecord(identity) && typeof identity.principalId === 'string') {
      const expression = `[reference(${id}, ${version}, 'Full').identity.principalId]`;
      principals.set(identity.principalId.toLowerCase(), { expression, target });
    }
  });
  return { ids, principals };
}

/** One string rewritten; a resource cannot reference() its own principal, which stays literal. */
function rewriteString(text: string, rw: Rewrite): string {
  const key = text.toLowerCase();
  const id = rw.ids.get(key.replace(/\/+$/, ''));
  const principal = rw.principals?.get(key);
  const found = id ?? (principal?.target === rw.self ? undefined : principal);
  if (found !== undefined) {
    if (found.target !== rw.self) rw.deps.add(found.target);
    return found.expression;
  }
  return rw.tenant !== undefined && key === rw.tenant ? '[subscription().tenantId]' : literal(text);
}

/** `value` with its strings rewritten (keys only when they are ids) and null members dropped. */
function rewrite(value: unknown, rw: Rewrite): unknown {
  if (typeof value === 'string') return rewriteString(value, rw);
  if (Array.isArray(value)) return value.map((item: unknown) => rewrite(item, rw));
  if (!isRecord(value)) return value;
  const keys: Rewrite = { ids: rw.ids, self: rw.self, deps: rw.deps };
  const out: Record<string, unknown> = {};
  for (const [k, member] of Object.entries(value)) {
    if (member !== null && member !== undefined) out[rewriteString(k, keys)] = rewrite(member, rw);
  }
  return out;
}

/** `object` without the members named in `readOnly` (lower case). */
function without(object: Record<string, unknown>, readOnly?: ReadonlySet<string>): object {
  return Object.fromEntries(
    Object.entries(object).filter(([k]) => !readOnly?.has(k.toLowerCase())),
  );
}

/** `identity` without principal and tenant ids; each user-assigned entry `{}`. */
function writableIdentity(identity: Record<string, unknown>): object {
  const { userAssignedIdentities: assigned, ...rest } = identity;
  const kept = without(rest, new Set(['principalid', 'tenantid']));
  if (!isRecord(assigned)) return kept;
  return {
    ...kept,
    userAssignedIdentities: Object.fromEntries(Object.keys(assigned).map((id) => [id, {}])),
  };
}

/**
 * A role assignment's `name` and `scope`. Its GUID would clash in another group, so the name is
 * `guid(scope, principal, role definition)` of expressions that name the copies (the principal's
 * holder by id: `reference()` is not allowed in a name); `scope` is the relative
 * `Microsoft.KeyVault/vaults/{name}` of scope-extension-resources.md for one on a resource.
 */
function assignmentHead(entry: Entry, ctx: Context, deps: Set<number>): Head {
  const raw = entry.resource.body.properties;
  const text = (key: string): string =>
    isRecord(raw) && typeof raw[key] === 'string' ? raw[key] : '';
  const owner = ctx.principals.get(text('principalId').toLowerCase());
  const holder = owner === undefined ? undefined : ctx.entries[owner.target];
  const { scope } = entry;
  const args = [
    scope === undefined ? 'resourceGroup().id' : ctx.names.resourceId(scope),
    holder === undefined ? quote(text('principalId')) : ctx.names.resourceId(holder),
    quote(text('roleDefinitionId')),
  ];
  const scoped = scope === undefined ? undefined : ctx.ids.get(scope.key);
  if (scoped !== undefined) deps.add(scoped.target);
  const name = `[guid(${args.join(', ')})]`;
  return scope === undefined ? { name } : { name, scope: ctx.names.relativePath(scope) };
}

/** Any other resource's `name`, and a dependency on its parent when that is exported. */
function resourceHead(entry: Entry, ctx: Context, deps: Set<number>): Head {
  const parent = ctx.ids.get(entry.key.split('/').slice(0, -2).join('/'));
  if (entry.names.length > 1 && parent !== undefined) deps.add(parent.target);
  return { name: ctx.names.templateName(entry) };
}

/** The members of {@link BODY_MEMBERS} the body has, rewritten (a vault's tenant too). */
function bodyMembers(entry: Entry, plain: Rewrite, inProperties: Rewrite): Record<string, unknown> {
  const { body } = entry.resource;
  const members: Record<string, unknown> = {};
  for (const key of BODY_MEMBERS) {
    const value = body[key];
    if (value === undefined || value === null) continue;
    if (key === 'tags' && isRecord(value) && Object.keys(value).length === 0) continue;
    if (key === 'identity' && isRecord(value)) {
      members[key] = rewrite(writableIdentity(value), plain);
    } else if (key !== 'properties') members[key] = rewrite(value, plain);
    else if (isRecord(value)) {
      const kept = without(value, READ_ONLY.get(entry.kind));
      const { tenantId } = value;
      const vault = entry.kind === T.keyVaults.toLowerCase() && typeof tenantId === 'string';
      const rw = vault ? { ...inProperties, tenant: tenantId.toLowerCase() } : inProperties;
      if (Object.keys(kept).length > 0) members[key] = rewrite(kept, rw);
    }
  }
  return members;
}

/** One template resource for `entries[index]`, members in the order Azure's exports write them. */
function exportEntry(index: number, ctx: Context): Record<string, unknown> {
  const entry = ctx.entries[index] as Entry;
  const { body, apiVersion } = entry.resource;
  const deps = new Set<number>();
  const plain: Rewrite = { ids: ctx.ids, self: index, deps };
  const head =
    entry.kind === ROLE_ASSIGNMENTS
      ? assignmentHead(entry, ctx, deps)
      : resourceHead(entry, ctx, deps);
  const members = bodyMembers(entry, plain, { ...plain, principals: ctx.principals });
  const dependsOn = [...deps]
    .sort((a, b) => a - b)
    .map((target) => ctx.ids.get((ctx.entries[target] as Entry).key)?.expression);
  const { location } = body;
  return {
    type: entry.type,
    apiVersion,
    ...head,
    ...(typeof location === 'string' && location !== '' ? { location: literal(location) } : {}),
    ...(dependsOn.length === 0 ? {} : { dependsOn }),
    ...members,
  };
}

/**
 * Builds the template `POST …/resourcegroups/{rg}/exportTemplate` answers (PROTOCOL-TOOLS Part C
 * section 1.9, export-template-cli.md): `$schema` 2019-04-01, `contentVersion` `1.0.0.0`, one
 * `String` parameter per top-level name (`defaultValue` only with `includeParameterDefaultValue`;
 * none, and literal names, with either skip option), `variables` `{}`, and the resources sorted by
 * type then name, children among them named `[concat(parameters('…'), '/child')]` and depending
 * on their parent. Each keeps `location`, `tags` (when any), `sku`, `kind`, `plan`, `zones`,
 * `identity` (no principal or tenant id, user-assigned entries `{}`) and `properties` minus what
 * its provider computes. Ids of exported resources anywhere in a body become `[resourceId(…)]`,
 * and in `properties` an exported identity's principal id becomes a `reference()`, each with a
 * `dependsOn`; a vault's tenant becomes `[subscription().tenantId]`. Role assignments (Azure's
 * export leaves them out; Tessera writes them so the template redeploys whole) get a `guid(…)`
 * name. Literal strings ARM would read as expressions are escaped with `[[`.
 *
 * Never throws: what it cannot write is left out and reported in `errors` (see {@link classify});
 * the server then answers 200 with {@link EXPORT_COMPLETED_WITH_ERRORS} and them as `details`.
 */
export function exportGroupTemplate(
  group: { subscriptionId: string; name: string },
  resources: readonly ExportedResource[],
  options: ExportOptions,
): ExportResult {
  const { entries, errors } = classify(group, resources);
  const parameterize =
    options.skipResourceNameParameterization !== true && options.skipAllParameterization !== true;
  const names = new Names(entries, parameterize);
  const ctx: Context = { entries, names, ...replacements(entries, names) };
  return {
    template: {
      $schema: SCHEMA,
      contentVersion: '1.0.0.0',
      parameters: names.parameters(options.includeParameterDefaultValue === true),
      variables: {},
      resources: entries.map((_, i) => exportEntry(i, ctx)),
    },
    errors,
  };
}
