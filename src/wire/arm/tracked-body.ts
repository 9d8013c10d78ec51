// What the body of every tracked resource says alike: its envelope's head, its location and tags, and that it never moves.
import type { Resource } from '../../core/model.js';
import { invalidResourceLocation, locationRequired } from './arm-errors.js';
import { validateTags } from './envelope.js';

/** ARM normalises locations: `West Europe` is `westeurope`. */
export const normaliseLocation = (location: string): string =>
  location.toLowerCase().replaceAll(' ', '');

/** A PUT body's `location`, normalised; `LocationRequired` (400) when absent or blank. */
export function requiredLocation(body: Readonly<Record<string, unknown>>): string {
  const { location } = body;
  if (typeof location !== 'string' || location.trim() === '') throw locationRequired();
  return normaliseLocation(location);
}

/** A body's `location`, normalised, when it is a string that is not blank; else undefined. */
export function optionalLocation(body: Readonly<Record<string, unknown>>): string | undefined {
  const { location } = body;
  return typeof location === 'string' && location.trim() !== ''
    ? normaliseLocation(location)
    : undefined;
}

/** A body's `tags` checked (`validateTags`), or undefined when absent or `null`. */
export function tagsOf(
  body: Readonly<Record<string, unknown>>,
): Record<string, string> | undefined {
  return body.tags === undefined || body.tags === null ? undefined : validateTags(body.tags);
}

/**
 * Refuses to move `existing` to `location` (normalised): ARM's `InvalidResourceLocation` (409)
 * naming `group`. A resource not stored yet, or without a location, moves nowhere.
 */
export function refuseMove(existing: Resource | undefined, location: string, group: string): void {
  if (existing?.location == null || existing.location === location) return;
  throw invalidResourceLocation(existing.name, existing.location, group, location);
}

/** The members a tracked resource's body starts with, in ARM's order. */
export interface EnvelopeHead {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly location: string;
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * {@link EnvelopeHead} of `resource` as type `type` (its canonical case). Compute leaves `tags`
 * out when there are none (`tags` `'when-any'`, the default); other providers always show them.
 */
export function envelopeHead(
  resource: Resource,
  type: string,
  tags: 'always' | 'when-any' = 'when-any',
): EnvelopeHead {
  const hasTags = tags === 'always' || Object.keys(resource.tags).length > 0;
  return {
    id: resource.id,
    name: resource.name,
    type,
    location: resource.location ?? '',
    ...(hasTags ? { tags: resource.tags } : {}),
  };
}
