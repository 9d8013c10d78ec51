// Issue 18, ARM input rules in one place, against a real `tessera server`: VMs are placed only on
// hosts that exist, private addresses are unique per host, deep JSON is refused before anything
// runs, fixed path segments match in any case.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminTokenFromFile } from '../fixtures/admin.js';
import { closeStarted, startTesseraServer, type TesseraServer } from '../compat/processes.js';

const RG_V = 'api-version=2021-04-01';
const VM_V = 'api-version=2024-07-01';
const VMS = 'Microsoft.Compute/virtualMachines';
const SCALE_SETS = 'Microsoft.Compute/virtualMachineScaleSets';
const GROUP = 'arm-input';

interface Reply {
  readonly status: number;
  readonly contentType: string | null;
  readonly body: {
    error?: { code?: string; message?: string; target?: string };
    [key: string]: unknown;
  };
}

/** The expected Json.NET sentence for the first container beyond depth 64 in `text`. */
function maxDepthMessage(text: string, path: string): string {
  let depth = 0;
  let position = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === '{' || c === '[') {
      depth++;
      if (depth === 65) {
        position = i + 1;
        break;
      }
    } else if (c === '}' || c === ']') {
      depth--;
    }
  }
  return `The request content was invalid and could not be deserialized: 'The reader's MaxDepth of 64 has been exceeded. Path '${path}', line 1, position ${position}.'.`;
}

/** `{"a":{"a":…{}…}}`: `levels` objects, the outermost included. */
const nested = (levels: number): string =>
  `${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`;

describe('ARM input rules (real tessera server)', () => {
  let server: TesseraServer;
  let token: string;
  let group: string;
  // Ids of hosts created through the agent API: VMs are placed on them by id.
  let host1: string;
  let host2: string;
  let host3: string;
  let hostRace: string;

  /** Sends `body` as raw text (so it can be deeper than JSON.stringify manages). */
  const send = async (method: string, path: string, body?: string): Promise<Reply> => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    return {
      status: response.status,
      contentType: response.headers.get('content-type'),
      body: (text === '' ? {} : JSON.parse(text)) as Reply['body'],
    };
  };
  const put = (path: string, body: unknown): Promise<Reply> =>
    send('PUT', path, JSON.stringify(body));
  const vmPath = (name: string): string => `${group}/providers/${VMS}/${name}?${VM_V}`;
  const placedVm = (hostId: string, ...privateIpAddresses: string[]) => ({
    location: 'westeurope',
    properties: { tessera: { hostId, privateIpAddresses } },
  });
  /** Creates host `name` through the agent API as the administrator; resolves with its id. */
  const createHost = async (name: string): Promise<string> => {
    const created = await server.arm('PUT', `/agent/v1/hosts/${name}`);
    expect([name, created.status]).toEqual([name, 201]);
    return (created.body as { id: string }).id;
  };

  beforeAll(async () => {
    server = await startTesseraServer();
    token = await adminTokenFromFile(server.url, join(server.dataDir, 'admin.json'));
    group = `${server.subscriptionPath}/resourceGroups/${GROUP}`;
    expect((await put(`${group}?${RG_V}`, { location: 'westeurope' })).status).toBe(201);
    host1 = await createHost('host-1');
    host2 = await createHost('host-2');
    host3 = await createHost('host-3');
    hostRace = await createHost('host-race');
  }, 120_000);

  afterAll(async () => {
    await closeStarted();
  }, 30_000);

  describe('a VM is placed only on a host that exists', () => {
    it('refuses a host id no host has, and stores nothing', async () => {
      const refused = await put(vmPath('nowhere'), placedVm('nosuchhost', '10.60.0.4'));
      expect([refused.status, refused.body.error?.code, refused.body.error?.target]).toEqual([
        400,
        'InvalidParameter',
        'properties.tessera.hostId',
      ]);
      expect(refused.body.error?.message).toContain(
        "The host 'nosuchhost' in 'properties.tessera.hostId' does not exist.",
      );
      expect((await send('GET', vmPath('nowhere'))).status).toBe(404);
    });

    it('keeps a VM on a host deleted since editable while its hostId stays', async () => {
      const gone = await createHost('host-gone');
      expect((await put(vmPath('orphan'), placedVm(gone, '10.61.0.4'))).status).toBe(201);
      expect((await server.arm('DELETE', '/agent/v1/hosts/host-gone')).status).toBe(200);

      const tagged = await send('PATCH', vmPath('orphan'), JSON.stringify({ tags: { v: '1' } }));
      expect([tagged.status, tagged.body.tags]).toEqual([200, { v: '1' }]);
      const replaced = await put(vmPath('orphan'), {
        ...placedVm(gone, '10.61.0.4'),
        tags: { v: '2' },
      });
      expect([replaced.status, replaced.body.tags]).toEqual([200, { v: '2' }]);
      const read = await send('GET', vmPath('orphan'));
      expect([read.status, read.body.tags]).toEqual([200, { v: '2' }]);
      expect(read.body.properties).toMatchObject({
        tessera: { hostId: gone, privateIpAddresses: ['10.61.0.4'] },
      });

      // Placing it anew on the deleted host, or on another unknown one, is refused.
      const moved = await send(
        'PATCH',
        vmPath('orphan'),
        JSON.stringify({ properties: { tessera: { hostId: 'nosuchhost' } } }),
      );
      expect([moved.status, moved.body.error?.target]).toEqual([400, 'properties.tessera.hostId']);
      expect((await send('DELETE', vmPath('orphan'))).status).toBe(200);
      const again = await put(vmPath('orphan'), placedVm(gone, '10.61.0.4'));
      expect([again.status, again.body.error?.code]).toEqual([400, 'InvalidParameter']);
    });
  });

  describe('a private address is unique per host', () => {
    it('refuses a second VM claiming an address on the same host, in any spelling', async () => {
      expect((await put(vmPath('owner'), placedVm(host1, '10.20.0.4', 'fd00::a'))).status).toBe(
        201,
      );
      // The same body again is the same VM keeping its own address.
      expect((await put(vmPath('owner'), placedVm(host1, '10.20.0.4', 'fd00::a'))).status).toBe(
        200,
      );

      for (const [name, address] of [
        ['plain', '10.20.0.4'],
        ['mapped', '::ffff:10.20.0.4'],
        ['mapped-hex', '::FFFF:0A14:0004'],
        ['ipv6-spelling', 'FD00:0:0:0::A'],
      ] as const) {
        const refused = await put(vmPath(name), placedVm(host1, address));
        expect([name, refused.status, refused.body.error?.code]).toEqual([
          name,
          400,
          'PrivateIPAddressIsAllocated',
        ]);
        expect(refused.body.error?.message).toBe(
          `IP configuration ${group}/providers/${VMS}/${name} is using the private IP address ${address} which is already allocated to resource ${group}/providers/${VMS}/owner.`,
        );
        // Nothing was stored.
        expect((await send('GET', vmPath(name))).status).toBe(404);
      }

      // Another host may use the address; moving onto the first host with it is refused.
      expect((await put(vmPath('elsewhere'), placedVm(host2, '10.20.0.4'))).status).toBe(201);
      const moved = await send(
        'PATCH',
        vmPath('elsewhere'),
        JSON.stringify({ properties: { tessera: { hostId: host1 } } }),
      );
      expect([moved.status, moved.body.error?.code]).toEqual([400, 'PrivateIPAddressIsAllocated']);

      // Once the owner is gone, the address is free again.
      expect((await send('DELETE', vmPath('owner'))).status).toBe(200);
      expect((await put(vmPath('plain'), placedVm(host1, '10.20.0.4'))).status).toBe(201);
    });

    it('holds between VMs and scale-set instances', async () => {
      const scaleSet = `${group}/providers/${SCALE_SETS}/pool`;
      expect(
        (await put(`${scaleSet}?${VM_V}`, { location: 'westeurope', sku: { capacity: 2 } })).status,
      ).toBe(201);
      const instance = (n: number): string => `${scaleSet}/virtualMachines/${n}?${VM_V}`;
      const placed = await put(instance(0), {
        properties: { tessera: { hostId: host3, privateIpAddresses: ['10.30.0.4'] } },
      });
      expect(placed.status).toBe(200);

      const vm = await put(vmPath('beside-pool'), placedVm(host3, '::ffff:10.30.0.4'));
      expect([vm.status, vm.body.error?.code]).toEqual([400, 'PrivateIPAddressIsAllocated']);
      expect(vm.body.error?.message).toContain(`${scaleSet}/virtualMachines/0.`);

      expect((await put(vmPath('first-on-3'), placedVm(host3, '10.30.0.5'))).status).toBe(201);
      const sibling = await put(instance(1), {
        properties: { tessera: { hostId: host3, privateIpAddresses: ['10.30.0.5'] } },
      });
      expect([sibling.status, sibling.body.error?.code]).toEqual([
        400,
        'PrivateIPAddressIsAllocated',
      ]);
    });

    it('lets exactly one of 20 concurrent PUTs claim an address', async () => {
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, n) =>
          put(vmPath(`race-${n}`), placedVm(hostRace, '10.40.0.4')),
        ),
      );
      const statuses = replies.map((r) => r.status).sort();
      expect(statuses).toEqual([201, ...Array<number>(19).fill(400)]);
      expect(
        replies.filter((r) => r.body.error?.code === 'PrivateIPAddressIsAllocated'),
      ).toHaveLength(19);
      const stored = await send('GET', `${group}/providers/${VMS}?${VM_V}`);
      const racers = (stored.body.value as { name: string }[]).filter((vm) =>
        vm.name.startsWith('race-'),
      );
      expect(racers).toHaveLength(1);
    });
  });

  describe('JSON nesting is limited to 64 levels, checked before anything runs', () => {
    const deepVm = (levels: number): string =>
      `{"location":"westeurope","properties":${nested(levels - 1)}}`;

    it.each([
      ['5,000', 5000],
      ['100', 100],
      ['65', 65],
    ])('refuses a VM body %s levels deep and stores nothing', async (_, levels) => {
      const text = deepVm(levels);
      const name = `deep-${levels}`;
      const refused = await send('PUT', vmPath(name), text);
      expect([refused.status, refused.body.error?.code]).toEqual([400, 'InvalidRequestContent']);
      expect(refused.body.error?.message).toBe(
        maxDepthMessage(text, `properties${'.a'.repeat(63)}`),
      );
      expect((await send('GET', vmPath(name))).status).toBe(404);
    });

    it('accepts a body exactly 64 levels deep', async () => {
      expect((await send('PUT', vmPath('deep-64'), deepVm(64))).status).toBe(201);
    });

    it('refuses deep bodies on every route, before authorization or api-version checks', async () => {
      const text = `[${nested(100)}]`;
      const message = maxDepthMessage(text, `[0]${'.a'.repeat(63)}`);
      for (const path of [
        `${group}?${RG_V}`,
        `${group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/deep`,
        `/providers/Microsoft.Authorization/roleDefinitions`,
        `${server.subscriptionPath}/nothing/served/here`,
      ]) {
        const refused = await send('PUT', path, text);
        expect([path, refused.status, refused.body.error]).toEqual([
          path,
          400,
          { code: 'InvalidRequestContent', message },
        ]);
      }
    });
  });

  describe('fixed path segments and provider namespaces match in any case', () => {
    it('serves upper-case fixed segments and keeps the names as given', async () => {
      const upperGroup = `/SUBSCRIPTIONS/${server.subscriptionId}/RESOURCEGROUPS/Upper-Case-RG`;
      const created = await put(`${upperGroup}?${RG_V}`, { location: 'westeurope' });
      expect([created.status, created.body.name]).toEqual([201, 'Upper-Case-RG']);
      const again = await put(`${upperGroup}?${RG_V}`, { location: 'westeurope' });
      expect([again.status, again.body.name]).toEqual([200, 'Upper-Case-RG']);

      const vm = await put(
        `/Subscriptions/${server.subscriptionId}/ResourceGroups/upper-case-rg/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/Vm-Mixed?${VM_V}`,
        { location: 'westeurope' },
      );
      expect([vm.status, vm.body.name]).toEqual([201, 'Vm-Mixed']);
      const read = await send(
        'GET',
        `${server.subscriptionPath}/resourceGroups/Upper-Case-RG/providers/${VMS}/Vm-Mixed?${VM_V}`,
      );
      expect([read.status, read.body.name]).toEqual([200, 'Vm-Mixed']);
    });

    it.each([
      `/SUBSCRIPTIONS/{sub}/nothingHere?${RG_V}`,
      `/Subscriptions/{sub}/resourceGroups/${GROUP}/providers/Unknown.Namespace/things/x?${RG_V}`,
      `/subscriptions/{sub}/nothingHere?${RG_V}`,
      `/PROVIDERS/Microsoft.Nothing/x?${RG_V}`,
    ])('answers an unknown ARM path %s with an ARM error', async (template) => {
      const path = template.replace('{sub}', server.subscriptionId);
      const reply = await send('GET', path);
      expect(reply.status).toBe(404);
      expect(reply.contentType).toMatch(/^application\/json/);
      expect(Object.keys(reply.body)).toEqual(['error']);
      expect(reply.body.error?.code).toMatch(/^Invalid(ResourceType|ResourceNamespace)$/);
      expect(typeof reply.body.error?.message).toBe('string');
    });
  });
});
