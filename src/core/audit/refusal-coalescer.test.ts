// Tests for counting repeated refusals: first row at once, then one per window, bounded keys.
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../model.js';
import { createRefusalCoalescer } from './refusal-coalescer.js';

const T0 = 1_763_900_000_000;
let n = 0;
const refusal = (at: number, clientId = 'c'): AuditEvent => ({
  id: `e${++n}`,
  at,
  kind: 'token',
  outcome: 'refused',
  tenantId: 't',
  principalId: null,
  resource: 'r',
  vmId: null,
  hostId: null,
  tokenId: null,
  reason: 'AADSTS700016',
  details: { clientId, peer: '10.0.0.1' },
});
const count = (rows: readonly (AuditEvent | undefined)[]): number =>
  rows.reduce((sum, row) => sum + Number(row?.details.count ?? 0), 0);

describe('createRefusalCoalescer', () => {
  it('writes the first refusal at once and counts the rest into one row per window', () => {
    const c = createRefusalCoalescer({ windowMs: 60_000, maxKeys: 10 });
    const first = c.admit('k', refusal(T0));
    expect(first?.details).toMatchObject({ count: 1, firstAt: new Date(T0).toISOString() });
    for (let i = 1; i < 1000; i++) expect(c.admit('k', refusal(T0 + i))).toBeUndefined();
    expect(c.drain(T0 + 59_999)).toEqual([]);
    const [row, ...more] = c.drain(T0 + 60_000);
    expect(more).toEqual([]);
    expect(row?.at).toBe(T0 + 999);
    expect(row?.details).toEqual({
      clientId: 'c',
      peer: '10.0.0.1',
      count: 999,
      firstAt: new Date(T0 + 1).toISOString(),
      lastAt: new Date(T0 + 999).toISOString(),
    });
    // The key keeps counting in its next window; a quiet window forgets it.
    expect(c.admit('k', refusal(T0 + 60_001))).toBeUndefined();
    expect(count(c.drain(T0 + 120_000))).toBe(1);
    expect(c.drain(T0 + 180_000)).toEqual([]);
    expect(c.size).toBe(0);
    expect(c.admit('k', refusal(T0 + 180_001))?.details.count).toBe(1);
  });

  it('carries the count with the next refusal when no drain came in between', () => {
    const c = createRefusalCoalescer({ windowMs: 1000, maxKeys: 10 });
    c.admit('k', refusal(T0));
    c.admit('k', refusal(T0 + 10));
    c.admit('k', refusal(T0 + 20));
    const row = c.admit('k', refusal(T0 + 5000));
    expect(row?.details).toMatchObject({
      count: 3,
      firstAt: new Date(T0 + 10).toISOString(),
      lastAt: new Date(T0 + 5000).toISOString(),
    });
    expect(c.drain(T0 + 6000)).toEqual([]);
  });

  it('counts keys beyond the cap together, and every refusal is in some row', () => {
    const c = createRefusalCoalescer({ windowMs: 60_000, maxKeys: 3 });
    const rows: (AuditEvent | undefined)[] = [];
    for (let i = 0; i < 10_000; i++) rows.push(c.admit(`k${i % 500}`, refusal(T0 + i, `c${i}`)));
    expect(c.size).toBe(3);
    const written = rows.filter((r) => r !== undefined);
    // Three keys and the overflow tally wrote their first refusal; nothing else yet.
    expect(written).toHaveLength(4);
    expect(written.filter((r) => r.details.overflow === true)).toHaveLength(1);
    const drained = c.drain(T0 + 60_000, true);
    expect(drained).toHaveLength(4);
    expect(count(written) + count(drained)).toBe(10_000);
    expect(c.size).toBe(0);
  });
});
