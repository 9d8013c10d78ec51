// knownTenants: a tenant found once is not read again; one not found is asked each time.
import { describe, expect, it } from 'vitest';
import type { Tenant } from '../model.js';
import { knownTenants } from './known-tenants.js';

const TENANT: Tenant = {
  id: '5db6cb1e-5d49-4763-be97-a58adf155db1',
  displayName: 'Default',
  isDefault: true,
  createdAt: 0,
};

describe('knownTenants', () => {
  it('reads a tenant from the store once, and a missing one every time until it exists', async () => {
    const rows = new Map<string, Tenant>();
    const asked: string[] = [];
    const lookup = knownTenants({
      get: (id) => {
        asked.push(id);
        return Promise.resolve(rows.get(id));
      },
    });
    expect(await lookup(TENANT.id)).toBeUndefined();
    expect(await lookup(TENANT.id)).toBeUndefined();
    rows.set(TENANT.id, TENANT);
    expect(await lookup(TENANT.id)).toEqual(TENANT);
    expect(await lookup(TENANT.id)).toEqual(TENANT);
    expect(asked).toEqual([TENANT.id, TENANT.id, TENANT.id]);
  });

  it('starts over when full rather than growing without bound', async () => {
    let reads = 0;
    const lookup = knownTenants(
      {
        get: (id) => {
          reads += 1;
          return Promise.resolve({ ...TENANT, id });
        },
      },
      2,
    );
    await lookup('a');
    await lookup('b');
    await lookup('a');
    expect(reads).toBe(2);
    await lookup('c');
    await lookup('a');
    expect(reads).toBe(4);
  });
});
