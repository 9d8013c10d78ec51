import { describe, expect, it } from 'vitest';
import type { AgentIdentity, AgentVm } from '../agent-api.js';
import { parseImdsQuery } from './query.js';
import { infoIdentity, parseTokenRequest, resolveIdentity } from './token-request.js';

const identity = (kind: AgentIdentity['kind'], n: number): AgentIdentity => ({
  kind,
  principalId: `0000000${String(n)}-aaaa-4000-8000-000000000000`,
  clientId: `0000000${String(n)}-bbbb-4000-8000-000000000000`,
  tenantId: `0000000${String(n)}-cccc-4000-8000-000000000000`,
  resourceId: `/subscriptions/s/resourceGroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id${String(n)}`,
});
const vm = (identities: AgentIdentity[]): AgentVm => ({
  id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm',
  vmId: 'v',
  kind: 'vm',
  name: 'vm',
  subscriptionId: 's',
  resourceGroup: 'rg',
  location: 'l',
  tags: {},
  scaleSetName: '',
  vmSize: '',
  osType: '',
  addresses: [],
  identities,
});
const SYS = identity('SystemAssigned', 1);
const U2 = identity('UserAssigned', 2);
const U3 = identity('UserAssigned', 3);

const parse = (q: string) => parseTokenRequest(parseImdsQuery(q));

describe('parseTokenRequest', () => {
  it('reads api-version, resource, one selector and bypass_cache', () => {
    expect(parse('api-version=2018-02-01&resource=https%3A%2F%2Fx%2F')).toEqual({
      apiVersion: '2018-02-01',
      resource: 'https://x/',
      selector: undefined,
      bypassCache: false,
    });
    expect(parse('api-version=2023-07-01&resource=r&mi_res_id=%2Fa&bypass_cache=true')).toEqual({
      apiVersion: '2023-07-01',
      resource: 'r',
      selector: { kind: 'resourceId', value: '/a' },
      bypassCache: true,
    });
    expect(parse('api-version=2018-02-01&resource=r&object_id=o').selector).toEqual({
      kind: 'objectId',
      value: 'o',
    });
  });

  it('checks in IMDS’s order: api-version, resource, selectors, bypass_cache', () => {
    const code = (q: string): string => {
      try {
        parse(q);
        return 'ok';
      } catch (e) {
        return (e as { code: string }).code;
      }
    };
    expect(code('client_id=a&object_id=b&bypass_cache=no')).toBe('MissingApiVersion');
    expect(code('api-version=2018-02-01&client_id=a&object_id=b')).toBe('MissingParameter');
    expect(code('api-version=2018-02-01&resource=r&client_id=a&object_id=b&bypass_cache=no')).toBe(
      'InvalidRequest',
    );
    expect(code('api-version=2018-02-01&resource=r&bypass_cache=True')).toBe('InvalidParameter');
    expect(code('api-version=2018-02-01&resource=r&bypass_cache=')).toBe('InvalidParameter');
  });

  it('refuses control characters in resource and selectors, and an over-long resource', () => {
    const refusal = (q: string): unknown => {
      try {
        parse(q);
        return 'ok';
      } catch (e) {
        const { code, target, message } = e as { code: string; target: string; message: string };
        return { code, target, message };
      }
    };
    for (const bad of ['%0D%0A', '%0A', '%00', '%09', '%7F', '%C2%85']) {
      expect(refusal(`api-version=2018-02-01&resource=https%3A%2F%2Fx%2F${bad}y`)).toEqual({
        code: 'InvalidParameter',
        target: 'resource',
        message: "Bad request. Query parameter 'resource' must not contain control characters.",
      });
    }
    for (const name of ['client_id', 'object_id', 'msi_res_id', 'mi_res_id']) {
      expect(refusal(`api-version=2018-02-01&resource=r&${name}=a%0D%0Ab`)).toMatchObject({
        code: 'InvalidParameter',
        target: name,
      });
    }
    expect(refusal(`api-version=2018-02-01&resource=${'r'.repeat(2048)}`)).toBe('ok');
    expect(refusal(`api-version=2018-02-01&resource=${'r'.repeat(2049)}`)).toMatchObject({
      code: 'InvalidParameter',
      target: 'resource',
    });
    // Spaces and non-ASCII letters are not control characters.
    expect(refusal('api-version=2018-02-01&resource=api%3A%2F%2Fd%C3%A9mo+app')).toBe('ok');
  });
});

describe('resolveIdentity', () => {
  it('applies Azure’s default rules', () => {
    expect(resolveIdentity(vm([SYS, U2, U3]), undefined)).toBe(SYS);
    expect(resolveIdentity(vm([U2, SYS]), undefined)).toBe(SYS);
    expect(resolveIdentity(vm([U3]), undefined)).toBe(U3);
    expect(() => resolveIdentity(vm([U2, U3]), undefined)).toThrow(
      expect.objectContaining({ code: 'MultipleUserAssignedIdentities', status: 400 }),
    );
    expect(() => resolveIdentity(vm([]), undefined)).toThrow(
      expect.objectContaining({ code: 'IdentityNotFound', status: 400 }),
    );
  });

  it('matches selectors case-insensitively', () => {
    const v = vm([SYS, U2, U3]);
    expect(resolveIdentity(v, { kind: 'clientId', value: U3.clientId.toUpperCase() })).toBe(U3);
    expect(resolveIdentity(v, { kind: 'objectId', value: U2.principalId })).toBe(U2);
    expect(resolveIdentity(v, { kind: 'resourceId', value: U2.resourceId.toLowerCase() })).toBe(U2);
    expect(() => resolveIdentity(v, { kind: 'clientId', value: U2.principalId })).toThrow(
      expect.objectContaining({ code: 'IdentityNotFound' }),
    );
  });

  it('sees the identities of a new VM record, not a stale index', () => {
    const before = vm([U2]);
    expect(resolveIdentity(before, { kind: 'clientId', value: U2.clientId })).toBe(U2);
    const after = vm([U3]);
    expect(() => resolveIdentity(after, { kind: 'clientId', value: U2.clientId })).toThrow();
  });
});

describe('infoIdentity', () => {
  it('is the default identity, or the first with several user-assigned ones', () => {
    expect(infoIdentity(vm([U2, SYS]))).toBe(SYS);
    expect(infoIdentity(vm([U2, U3]))).toBe(U2);
    expect(() => infoIdentity(vm([]))).toThrow(
      expect.objectContaining({ code: 'IdentityNotFound' }),
    );
  });
});
