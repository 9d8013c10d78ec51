// Tests of the rendered `/metadata/instance` answers: reused per VM record, never stale, bounded.
import { describe, expect, it } from 'vitest';
import type { AgentVm } from '../../wire/agent-api.js';
import { createInstanceRenderer } from './instance-cache.js';

const VM: AgentVm = {
  id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web',
  vmId: '02aab8a4-74ef-476e-8182-f6d2ba4166a6',
  kind: 'vm',
  name: 'web',
  subscriptionId: 's',
  resourceGroup: 'rg',
  location: 'westus',
  tags: { env: 'dev' },
  scaleSetName: '',
  vmSize: 'Standard_A3',
  osType: 'Linux',
  addresses: ['10.1.0.4'],
  identities: [],
};

describe('createInstanceRenderer', () => {
  it('renders an answer once per VM record, version, route and format', () => {
    const render = createInstanceRenderer();
    const whole = render(VM, '2021-02-01', [], undefined);
    expect(render(VM, '2021-02-01', [], undefined)).toBe(whole);
    expect(JSON.parse(whole.body)).toMatchObject({ compute: { name: 'web' } });
    expect(whole.headers).toEqual([
      'Content-Type',
      'application/json; charset=utf-8',
      'Server',
      expect.any(String) as unknown,
      'Content-Length',
      String(Buffer.byteLength(whole.body)),
    ]);
    const name = render(VM, '2021-02-01', ['compute', 'name'], 'text');
    expect(name.body).toBe('web');
    expect(render(VM, '2021-02-01', ['compute', 'name'], 'text')).toBe(name);
    expect(render(VM, '2017-08-01', [], undefined)).not.toBe(whole);
  });

  it('answers from the new record after a change: nothing outlives the facts it was made from', () => {
    const render = createInstanceRenderer();
    expect(render(VM, '2021-02-01', ['compute', 'tags'], 'text').body).toBe('env:dev');
    const changed: AgentVm = { ...VM, tags: { env: 'prod' } };
    expect(render(changed, '2021-02-01', ['compute', 'tags'], 'text').body).toBe('env:prod');
  });

  it('keeps no errors and at most the limit of routes, still answering past it', () => {
    const render = createInstanceRenderer(2);
    expect(() => render(VM, '2021-02-01', ['nope'], undefined)).toThrow('Not found');
    const a = render(VM, '2021-02-01', ['compute'], undefined);
    const b = render(VM, '2021-02-01', ['network'], undefined);
    const c = render(VM, '2021-02-01', ['compute', 'name'], 'text');
    expect(render(VM, '2021-02-01', ['compute'], undefined)).toBe(a);
    expect(render(VM, '2021-02-01', ['network'], undefined)).toBe(b);
    expect(render(VM, '2021-02-01', ['compute', 'name'], 'text')).not.toBe(c);
    expect(render(VM, '2021-02-01', ['compute', 'name'], 'text').body).toBe('web');
  });

  it('keeps at most the overall limit, dropping the VMs used longest ago first', () => {
    const render = createInstanceRenderer(64, 2);
    const other: AgentVm = { ...VM, name: 'db' };
    const third: AgentVm = { ...VM, name: 'cache' };
    const a = render(VM, '2021-02-01', [], undefined);
    const b = render(other, '2021-02-01', [], undefined);
    expect(render(VM, '2021-02-01', [], undefined)).toBe(a);
    const c = render(third, '2021-02-01', [], undefined);
    expect(render(VM, '2021-02-01', [], undefined)).toBe(a);
    expect(render(third, '2021-02-01', [], undefined)).toBe(c);
    const again = render(other, '2021-02-01', [], undefined);
    expect(again).not.toBe(b);
    expect(again.body).toBe(b.body);
  });
});
