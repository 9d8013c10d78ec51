// The `$filter` and `$expand` of ARM's generic resource list (`GET /subscriptions/{s}/resources`).
import { AppError } from '../../core/errors.js';

/** What a `$filter` of the resource list asks for; every comparison is case-insensitive. */
export interface ResourceFilter {
  readonly resourceGroup?: string;
  readonly name?: string;
  readonly location?: string;
  readonly resourceType?: string;
  /** `substringof('x', name)`: names containing these. */
  readonly nameContains?: readonly string[];
  /** `substringof('x', resourceGroup)`: groups containing these. */
  readonly groupContains?: readonly string[];
  readonly tagName?: string;
  readonly tagValue?: string;
  /** `startswith(tagName, 'x')`. */
  readonly tagPrefix?: string;
}

/** The fields `$expand` adds to each item. */
export interface ResourceExpand {
  readonly createdTime: boolean;
  readonly changedTime: boolean;
  readonly provisioningState: boolean;
}

/** Longest `$filter` read; longer is refused. */
const MAX_FILTER_LENGTH = 4096;
/** Most clauses joined with `and`. */
const MAX_CLAUSES = 16;

/**
 * ARM's `InvalidFilterInQueryString` (400) "Invalid $filter '…' specified in the query string."
 * (as ARM answered in Azure/azure-sdk-for-net#18748 and Azure/azure-sdk-for-go#2480).
 */
export function invalidFilter(filter: string): AppError {
  return new AppError(
    'InvalidParameter',
    `Invalid $filter '${filter}' specified in the query string.`,
    { status: 400, wire: { arm: 'InvalidFilterInQueryString' } },
  );
}

/** A quoted OData string: `'it''s'` is `it's`. */
const QUOTED = String.raw`'((?:[^']|'')*)'`;
const unquote = (text: string): string => text.replaceAll("''", "'");

const EQ = new RegExp(String.raw`^(\w+)\s+eq\s+${QUOTED}$`, 'i');
const SUBSTRINGOF = new RegExp(String.raw`^substringof\(\s*${QUOTED}\s*,\s*(\w+)\s*\)$`, 'i');
const STARTSWITH = new RegExp(String.raw`^startswith\(\s*tagname\s*,\s*${QUOTED}\s*\)$`, 'i');

/** The field names `eq` compares, in lower case, and what each sets. */
const EQ_FIELDS: Readonly<Record<string, keyof ResourceFilter>> = {
  resourcegroup: 'resourceGroup',
  name: 'name',
  location: 'location',
  resourcetype: 'resourceType',
  tagname: 'tagName',
  tagvalue: 'tagValue',
};

/**
 * Parses the `$filter` forms `az resource list` and the SDKs send (PROTOCOL-TOOLS.md 4.1),
 * joined with `and`: `{resourceGroup|name|location|resourceType|tagName|tagValue} eq '…'`,
 * `substringof('…', name|resourceGroup)`, `startswith(tagName, '…')`. A `tagValue` needs a
 * `tagName`. Anything else, or a field given twice, is `InvalidFilterInQueryString`.
 */
export function parseResourceFilter(filter: string | undefined): ResourceFilter {
  if (filter === undefined || filter.trim() === '') return {};
  if (filter.length > MAX_FILTER_LENGTH) throw invalidFilter(filter.slice(0, 256));
  const clauses = filter.trim().split(/\s+and\s+/i);
  if (clauses.length > MAX_CLAUSES) throw invalidFilter(filter);
  const result: Record<string, unknown> = {};
  const nameContains: string[] = [];
  const groupContains: string[] = [];
  const set = (field: keyof ResourceFilter, value: string): void => {
    if (result[field] !== undefined) throw invalidFilter(filter);
    result[field] = value;
  };
  for (const clause of clauses) {
    const eq = EQ.exec(clause.trim());
    const substring = SUBSTRINGOF.exec(clause.trim());
    const prefix = STARTSWITH.exec(clause.trim());
    if (eq !== null) {
      const field = EQ_FIELDS[(eq[1] ?? '').toLowerCase()];
      if (field === undefined) throw invalidFilter(filter);
      set(field, unquote(eq[2] ?? ''));
    } else if (substring !== null) {
      const within = (substring[2] ?? '').toLowerCase();
      const value = unquote(substring[1] ?? '');
      if (within === 'name') nameContains.push(value);
      else if (within === 'resourcegroup') groupContains.push(value);
      else throw invalidFilter(filter);
    } else if (prefix !== null) {
      set('tagPrefix', unquote(prefix[1] ?? ''));
    } else {
      throw invalidFilter(filter);
    }
  }
  if (result.tagValue !== undefined && result.tagName === undefined) throw invalidFilter(filter);
  if (result.tagPrefix !== undefined && result.tagName !== undefined) throw invalidFilter(filter);
  return {
    ...(result as ResourceFilter),
    ...(nameContains.length === 0 ? {} : { nameContains }),
    ...(groupContains.length === 0 ? {} : { groupContains }),
  };
}

/** Reads `$expand` (`createdTime,changedTime,provisioningState`, any case, any of them). */
export function parseResourceExpand(expand: string | undefined): ResourceExpand {
  const asked = new Set(
    (expand ?? '')
      .split(',')
      .map((part) => part.trim().toLowerCase())
      .filter((part) => part !== ''),
  );
  return {
    createdTime: asked.has('createdtime'),
    changedTime: asked.has('changedtime'),
    provisioningState: asked.has('provisioningstate'),
  };
}

/** What a filter is tested against: one resource's fields as stored. */
export interface FilterSubject {
  readonly name: string;
  readonly type: string;
  readonly resourceGroup: string;
  readonly location: string | null;
  readonly tags: Readonly<Record<string, string>>;
}

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
const contains = (text: string, part: string): boolean =>
  text.toLowerCase().includes(part.toLowerCase());

/** True when `subject` passes every clause of `filter`. */
export function matchesFilter(filter: ResourceFilter, subject: FilterSubject): boolean {
  if (filter.resourceGroup !== undefined && !same(filter.resourceGroup, subject.resourceGroup)) {
    return false;
  }
  if (filter.name !== undefined && !same(filter.name, subject.name)) return false;
  if (filter.resourceType !== undefined && !same(filter.resourceType, subject.type)) return false;
  if (
    filter.location !== undefined &&
    !same(filter.location.replaceAll(' ', ''), subject.location ?? '')
  ) {
    return false;
  }
  if (!(filter.nameContains ?? []).every((part) => contains(subject.name, part))) return false;
  if (!(filter.groupContains ?? []).every((part) => contains(subject.resourceGroup, part))) {
    return false;
  }
  const tags = Object.entries(subject.tags);
  if (filter.tagName !== undefined) {
    const name = filter.tagName;
    const tag = tags.find(([key]) => same(key, name));
    if (tag === undefined) return false;
    if (filter.tagValue !== undefined && !same(tag[1], filter.tagValue)) return false;
  }
  if (filter.tagPrefix !== undefined) {
    const prefix = filter.tagPrefix.toLowerCase();
    if (!tags.some(([key]) => key.toLowerCase().startsWith(prefix))) return false;
  }
  return true;
}
