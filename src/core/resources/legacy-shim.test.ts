// Tests for which VMs and scale-set instances expect the legacy extension shim, on a real SQLite store.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTempStore, type TempStore } from '../../../test/fixtures/temp-store.js';
import type { Resource } from '../model.js';
import type { Store } from '../ports.js';
import {
  SCALE_SET_INSTANCE_TYPE,
  SCALE_SET_RESOURCE_TYPE,
  VM_RESOURCE_TYPE,
} from './change-feed.js';
import { legacyShimPort, VM_EXTENSION_RESOURCE_TYPE } from './legacy-shim.js';

const T0 = Date.UTC(2025, 0, 1);
const SUB = '0b1f6e3a-5d1c-4b8e-9f2a-7c3d4e5f6a7b';
const GROUP = `/subscriptions/${SUB}/resourceGroups/Apps`;
const VM = `${GROUP}/providers/Microsoft.Compute/virtualMachines/web-1`;
const SCALE_SET = `${GROUP}/providers/Microsoft.Compute/virtualMachineScaleSets/pool`;
const LINUX = { publisher: 'Microsoft.ManagedIdentity', type: 'ManagedIdentityExtensionForLinux' };

let tmp: TempStore;
let store: Store;

beforeEach(async () => {
  tmp = await openTempStore('tessera-legacy-shim-');
  store = tmp.store;
});
afterEach(async () => {
  await tmp.close();
});

async function put(id: string, type: string, properties: Record<string, unknown> = {}) {
  const resource: Resource = {
    id,
    type,
    name: id.split('/').at(-1) ?? '',
    subscriptionId: SUB,
    resourceGroup: 'Apps',
    location: 'westeurope',
    tags: {},
    properties,
    createdAt: T0,
    updatedAt: T0,
  };
  await store.resources.put(resource);
}

const extension = (name: string, properties: Record<string, unknown>) =>
  put(`${VM}/extensions/${name}`, VM_EXTENSION_RESOURCE_TYPE, properties);

describe('legacyShimPort', () => {
  it('is undefined for a VM without the legacy extension, or for an unknown id', async () => {
    await put(VM, VM_RESOURCE_TYPE);
    expect(await legacyShimPort(store, VM)).toBeUndefined();
    await extension('script', {
      publisher: 'Microsoft.Azure.Extensions',
      type: 'CustomScript',
      settings: { port: 8080 },
    });
    expect(await legacyShimPort(store, VM)).toBeUndefined();
    expect(await legacyShimPort(store, `${VM}-missing`)).toBeUndefined();
  });

  it("reads a VM's legacy extension: default port, explicit port, any id case", async () => {
    await put(VM, VM_RESOURCE_TYPE);
    await extension('msi', { ...LINUX, typeHandlerVersion: '1.0' });
    expect(await legacyShimPort(store, VM)).toBe(50342);
    expect(await legacyShimPort(store, VM.toLowerCase())).toBe(50342);
    await extension('msi', { ...LINUX, settings: { port: '50343' } });
    expect(await legacyShimPort(store, VM)).toBe(50343);
  });

  it('passes over an entry whose port is not a port, and ignores other VMs', async () => {
    await put(VM, VM_RESOURCE_TYPE);
    await put(`${VM}-2`, VM_RESOURCE_TYPE);
    await put(`${VM}-2/extensions/msi`, VM_EXTENSION_RESOURCE_TYPE, LINUX);
    expect(await legacyShimPort(store, VM)).toBeUndefined();
    await extension('a-bad', { ...LINUX, settings: { port: 70000 } });
    expect(await legacyShimPort(store, VM)).toBeUndefined();
    await extension('b-good', {
      publisher: 'microsoft.managedidentity',
      type: 'ManagedIdentityExtensionForWindows',
      settings: { port: 9000 },
    });
    expect(await legacyShimPort(store, VM)).toBe(9000);
  });

  it("reads a scale-set instance's port from the scale set's extension profile", async () => {
    const instance = `${SCALE_SET}/virtualMachines/3`;
    await put(SCALE_SET, SCALE_SET_RESOURCE_TYPE, {
      virtualMachineProfile: { extensionProfile: { extensions: [] } },
    });
    await put(instance, SCALE_SET_INSTANCE_TYPE);
    expect(await legacyShimPort(store, instance)).toBeUndefined();

    await put(SCALE_SET, SCALE_SET_RESOURCE_TYPE, {
      virtualMachineProfile: {
        extensionProfile: {
          extensions: [
            { name: 'script', properties: { publisher: 'Microsoft.Compute', type: 'Custom' } },
            'not an entry',
            { name: 'msi', properties: { ...LINUX, settings: { port: 51000 } } },
          ],
        },
      },
    });
    expect(await legacyShimPort(store, instance)).toBe(51000);
    // The scale set itself is not an instance: the agent asks per VM.
    expect(await legacyShimPort(store, SCALE_SET)).toBeUndefined();
  });

  it('is undefined for an instance whose scale set has no profile or is gone', async () => {
    const instance = `${SCALE_SET}/virtualMachines/0`;
    await put(SCALE_SET, SCALE_SET_RESOURCE_TYPE, {});
    await put(instance, SCALE_SET_INSTANCE_TYPE);
    expect(await legacyShimPort(store, instance)).toBeUndefined();
    await store.resources.delete(SCALE_SET);
    expect(await legacyShimPort(store, instance)).toBeUndefined();
  });
});
