import { describe, expect, it } from 'vitest';
import type { AgentVm } from '../agent-api.js';
import { instanceDocument, parseFormat, selectInstance } from './instance.js';

const VM: AgentVm = {
  id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/ss/virtualMachines/3',
  vmId: '02aab8a4-74ef-476e-8182-f6d2ba4166a6',
  kind: 'scaleSetInstance',
  name: 'ss_3',
  subscriptionId: 's',
  resourceGroup: 'rg',
  location: 'westus',
  tags: { baz: 'bash', foo: 'bar' },
  scaleSetName: 'ss',
  vmSize: 'Standard_A3',
  osType: 'Linux',
  addresses: ['::ffff:10.1.0.4', 'FD00::5'],
  identities: [],
};

describe('instance document', () => {
  const doc = instanceDocument(VM, '2021-02-01');

  it('renders tags as IMDS does and the scale set name', () => {
    expect(selectInstance(doc, ['compute', 'tags'], 'text').body).toBe('baz:bash;foo:bar');
    expect(selectInstance(doc, ['compute', 'vmScaleSetName'], 'text').body).toBe('ss');
    expect(selectInstance(doc, ['compute', 'name'], 'text').body).toBe('ss_3');
  });

  it('puts normalised addresses in the one interface', () => {
    expect(
      selectInstance(
        doc,
        ['network', 'interface', '0', 'ipv4', 'ipAddress', '0', 'privateIpAddress'],
        'text',
      ).body,
    ).toBe('10.1.0.4');
    expect(
      selectInstance(
        doc,
        ['network', 'interface', '0', 'ipv6', 'ipAddress', '0', 'privateIpAddress'],
        'text',
      ).body,
    ).toBe('fd00::5');
  });

  it('walks arrays by decimal index only', () => {
    expect(() => selectInstance(doc, ['network', 'interface', '00'], undefined)).toThrow(
      expect.objectContaining({ code: 'NotFound', status: 404 }),
    );
    expect(() => selectInstance(doc, ['network', 'interface', 'length'], undefined)).toThrow(
      expect.objectContaining({ code: 'NotFound' }),
    );
    expect(() => selectInstance(doc, ['compute', 'toString'], undefined)).toThrow(
      expect.objectContaining({ code: 'NotFound' }),
    );
    expect(() => selectInstance(doc, ['compute', 'name', 'x'], 'text')).toThrow(
      expect.objectContaining({ code: 'NotFound' }),
    );
  });

  it('lists arrays with format=text', () => {
    expect(selectInstance(doc, ['network', 'interface'], 'text').body).toBe('0/');
    expect(selectInstance(doc, ['compute', 'publicKeys'], 'text').body).toBe('');
  });

  it('accepts only json and text as format', () => {
    expect(parseFormat(undefined)).toBe(undefined);
    expect(parseFormat('text')).toBe('text');
    expect(() => parseFormat('TEXT')).toThrow(expect.objectContaining({ status: 400 }));
  });
});
