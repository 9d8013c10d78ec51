// The Deployments page's pure logic: order, durations, running states, outputs, its address.
import { describe, expect, it } from 'vitest';
import type { Deployment } from '../../portal/src/api/deployments.js';
import {
  deploymentsHref,
  deploymentsPlace,
  formatDuration,
  isActive,
  newestFirst,
  outputRows,
} from '../../portal/src/lib/deployments.js';

const at = (name: string, timestamp?: string): Deployment => ({
  id: `/subscriptions/s/resourceGroups/g/providers/Microsoft.Resources/deployments/${name}`,
  name,
  properties: timestamp === undefined ? {} : { timestamp },
});

describe('deployments newest first', () => {
  it('orders by timestamp (ARM writes seven fraction digits), then by name, timeless ones last', () => {
    const list = [
      at('b-old', '2026-12-07T08:57:21.9670000Z'),
      at('no-time'),
      at('c-new', '2026-12-07T08:57:21.9890000Z'),
      at('a-old', '2026-12-07T08:57:21.9670000Z'),
      at('d-yesterday', '2026-12-06T23:00:00.0000000Z'),
    ];
    expect(newestFirst(list).map((d) => d.name)).toEqual([
      'c-new',
      'a-old',
      'b-old',
      'd-yesterday',
      'no-time',
    ]);
    // The list given stays as it was.
    expect(list[0]?.name).toBe('b-old');
  });
});

describe('durations for people', () => {
  it('reads ARM durations', () => {
    expect(formatDuration('PT0S')).toBe('0 s');
    expect(formatDuration('PT0.016S')).toBe('0.016 s');
    expect(formatDuration('PT2M3.5S')).toBe('2 min 3.5 s');
    expect(formatDuration('PT1H')).toBe('1 h');
    expect(formatDuration('PT1H0M7S')).toBe('1 h 0 min 7 s');
    expect(formatDuration('P1DT2H')).toBe('1 d 2 h');
  });

  it('shows anything else as given', () => {
    for (const odd of ['', 'P', 'PT', '1.5 s', 'PT1.S', 'pt1s']) {
      expect(formatDuration(odd)).toBe(odd);
    }
  });
});

describe('running states', () => {
  it('reads a deployment again until it succeeded, failed or was canceled', () => {
    for (const state of ['Accepted', 'Running', 'Creating', 'Updating', 'Waiting']) {
      expect(isActive(state), state).toBe(true);
    }
    for (const state of ['Succeeded', 'Failed', 'Canceled', 'failed', undefined, '']) {
      expect(isActive(state), String(state)).toBe(false);
    }
  });
});

describe('outputs', () => {
  it('shows strings as they are and anything else as JSON, in the template order', () => {
    expect(
      outputRows({
        principalId: { type: 'String', value: '52658a78-ba16-49fe-b06d-7d0ced0bef6d' },
        count: { type: 'Int', value: 3 },
        ids: { type: 'Array', value: ['a', 'b'] },
        flag: { type: 'Bool', value: false },
        missing: { type: 'Object' },
      }),
    ).toEqual([
      { name: 'principalId', type: 'String', value: '52658a78-ba16-49fe-b06d-7d0ced0bef6d' },
      { name: 'count', type: 'Int', value: '3' },
      { name: 'ids', type: 'Array', value: '["a","b"]' },
      { name: 'flag', type: 'Bool', value: 'false' },
      { name: 'missing', type: 'Object', value: '' },
    ]);
    expect(outputRows(undefined)).toEqual([]);
  });
});

describe("the page's address", () => {
  it('names the group and the deployment, and reads back what it wrote', () => {
    expect(deploymentsHref('demo-rg')).toBe('#/deployments/demo-rg');
    const href = deploymentsHref('rg (prod)', 'main/v2?');
    expect(href).toBe('#/deployments/rg%20(prod)/main%2Fv2%3F');
    expect(deploymentsPlace(href)).toEqual({ group: 'rg (prod)', deployment: 'main/v2?' });
    expect(deploymentsPlace('#/deployments/demo-rg')).toEqual({ group: 'demo-rg' });
  });

  it('names nothing on another page, without a group, or when a part is not valid', () => {
    expect(deploymentsPlace('#/deployments')).toEqual({});
    expect(deploymentsPlace('#/deployments/')).toEqual({});
    expect(deploymentsPlace('')).toEqual({});
    expect(deploymentsPlace('#/roles/demo-rg/main')).toEqual({});
    expect(deploymentsPlace('#/deployments/%E0%A4%A/main')).toEqual({});
    expect(deploymentsPlace('#/deployments/demo-rg/%E0%A4%A')).toEqual({ group: 'demo-rg' });
  });
});
