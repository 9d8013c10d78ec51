// What Tessera keeps of a scale set besides what clients see: its sku and the next instance id.
import { isRecord } from '../guards.js';
import type { Resource } from '../model.js';

/**
 * The member of a scale set's stored `properties` that holds its {@link ScaleSetState}. Never
 * shown, and dropped when a client sends it.
 */
export const SCALE_SET_STATE_MEMBER = '_tessera';

/** A scale set's `sku`: `capacity` is how many instances it has. */
export interface ScaleSetSku {
  readonly name?: string;
  readonly tier?: string;
  readonly capacity: number;
}

/** What Tessera keeps about a scale set besides its `properties`. */
export interface ScaleSetState {
  readonly sku: ScaleSetSku;
  /** The id the next new instance gets: ids only grow, so none is used twice. */
  readonly nextInstanceId: number;
}

/** A scale set's {@link ScaleSetState} (a scale set without one has no instances yet). */
export function scaleSetState(scaleSet: Resource): ScaleSetState {
  const raw = scaleSet.properties[SCALE_SET_STATE_MEMBER];
  const state = isRecord(raw) ? raw : {};
  const sku = isRecord(state.sku) ? state.sku : {};
  const next = state.nextInstanceId;
  return {
    sku: {
      ...(typeof sku.name === 'string' ? { name: sku.name } : {}),
      ...(typeof sku.tier === 'string' ? { tier: sku.tier } : {}),
      capacity: typeof sku.capacity === 'number' ? sku.capacity : 0,
    },
    nextInstanceId: typeof next === 'number' ? next : 0,
  };
}

/** `scaleSet` with its {@link ScaleSetState} replaced. */
export function withState(scaleSet: Resource, state: ScaleSetState): Resource {
  return {
    ...scaleSet,
    properties: {
      ...publicProperties(scaleSet),
      [SCALE_SET_STATE_MEMBER]: { ...state, sku: { ...state.sku } },
    },
  };
}

/** A scale set's `properties` as clients see them (without Tessera's own state). */
export function publicProperties(scaleSet: Resource): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(scaleSet.properties).filter(([key]) => key !== SCALE_SET_STATE_MEMBER),
  );
}
