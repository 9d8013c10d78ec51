// VM extensions on the ARM surface end to end: records, secrets kept out, the legacy extension, errors, rights.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LEGACY_EXTENSION_AUDIT_KIND,
  legacyExtensionWarningHeader,
} from '../../src/core/resources/legacy-extension.js';
import { BUILT_IN_ROLE_IDS } from '../../src/core/rbac/index.js';
import { type ArmHarness, errorCode, startArm } from './arm-harness.js';
import { assignRole, storeSnapshot } from './arm-store-fixtures.js';

const V = 'api-version=2024-07-01';
const EXT_TYPE = 'Microsoft.Compute/virtualMachines/extensions';
const HOST = 'host-ext';
const SECRET = 'do-not-keep-me';
const LEGACY = {
  publisher: 'Microsoft.ManagedIdentity',
  type: 'ManagedIdentityExtensionForLinux',
  typeHandlerVersion: '1.0',
};

/** The `oid` claim of an access token: the caller's object id. */
const objectIdOf = (token: string): unknown =>
  (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { oid?: unknown })
    .oid;

describe('ARM surface: VM extensions', () => {
  let h: ArmHarness;
  let admin: string;
  let sub: string;
  const arm: ArmHarness['arm'] = (method, path, options) => h.arm(method, path, options);
  const vmPath = (name: string, group = 'ext'): string =>
    `/subscriptions/${sub}/resourceGroups/${group}/providers/Microsoft.Compute/virtualMachines/${name}`;
  const extPath = (vm: string, name: string, group = 'ext'): string =>
    `${vmPath(vm, group)}/extensions/${name}`;

  /** Everything an extension request may change: resources, audit, the change feed. */
  const snapshot = async (): Promise<unknown> => ({
    arm: await storeSnapshot(h),
    audit: (await h.store.audit.list({}, { limit: 1000 })).items,
    feed: await h.store.changes.since(HOST, 0, 1000),
  });

  const createVm = async (name: string, ip: string): Promise<void> => {
    const created = await arm('PUT', `${vmPath(name)}?${V}`, {
      token: admin,
      body: {
        location: 'westeurope',
        properties: { tessera: { hostId: HOST, privateIpAddresses: [ip] } },
      },
    });
    expect(created.status).toBe(201);
  };

  beforeAll(async () => {
    h = await startArm();
    ({ admin, sub } = h);
    const group = await arm(
      'PUT',
      `/subscriptions/${sub}/resourceGroups/ext?api-version=2021-04-01`,
      {
        token: admin,
        body: { location: 'westeurope' },
      },
    );
    expect(group.status).toBe(201);
    await h.hosts(HOST);
    await createVm('web-1', '10.1.0.4');
  });
  afterAll(async () => {
    await h.close();
  });

  it('creates, reads, lists, patches and deletes a CustomScript-like extension', async () => {
    const path = extPath('web-1', 'script');
    const created = await arm('PUT', `${path}?${V}`, {
      token: admin,
      body: {
        tags: { team: 'ops' },
        properties: {
          publisher: 'Microsoft.Azure.Extensions',
          type: 'CustomScript',
          typeHandlerVersion: '2.1',
          autoUpgradeMinorVersion: true,
          settings: { commandToExecute: 'echo hi' },
          protectedSettings: { storageAccountKey: SECRET },
          provisioningState: 'Failed',
        },
      },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('warning')).toBeNull();
    expect(created.body).toEqual({
      id: path,
      name: 'script',
      type: EXT_TYPE,
      location: 'westeurope',
      tags: { team: 'ops' },
      properties: {
        publisher: 'Microsoft.Azure.Extensions',
        type: 'CustomScript',
        typeHandlerVersion: '2.1',
        autoUpgradeMinorVersion: true,
        settings: { commandToExecute: 'echo hi' },
        provisioningState: 'Succeeded',
      },
    });

    const read = await arm('GET', `${path}?${V}`, { token: admin });
    expect([read.status, read.body]).toEqual([200, created.body]);

    const patched = await arm('PATCH', `${path}?${V}`, {
      token: admin,
      body: { location: 'eastus', properties: { settings: { commandToExecute: 'echo bye' } } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      location: 'westeurope',
      tags: { team: 'ops' },
      properties: {
        publisher: 'Microsoft.Azure.Extensions',
        typeHandlerVersion: '2.1',
        settings: { commandToExecute: 'echo bye' },
      },
    });

    // A second PUT replaces: 200, tags dropped, location given in any form.
    const replaced = await arm('PUT', `${path}?${V}`, {
      token: admin,
      body: {
        location: 'West Europe',
        properties: {
          publisher: 'Microsoft.Azure.Extensions',
          type: 'CustomScript',
          typeHandlerVersion: '2.1',
        },
      },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body?.tags).toBeUndefined();
    expect(replaced.body?.properties).toEqual({
      publisher: 'Microsoft.Azure.Extensions',
      type: 'CustomScript',
      typeHandlerVersion: '2.1',
      provisioningState: 'Succeeded',
    });

    const listed = await arm('GET', `${vmPath('web-1')}/extensions?${V}`, { token: admin });
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({ value: [replaced.body] });

    const deleted = await arm('DELETE', `${path}?${V}`, { token: admin });
    expect(deleted.status).toBe(200);
    const again = await arm('DELETE', `${path}?${V}`, { token: admin });
    expect(again.status).toBe(204);
    const gone = await arm('GET', `${path}?${V}`, { token: admin });
    expect([gone.status, errorCode(gone.body)]).toEqual([404, 'ResourceNotFound']);
    const empty = await arm('GET', `${vmPath('web-1')}/extensions?${V}`, { token: admin });
    expect(empty.body).toEqual({ value: [] });
  });

  it('never stores nor returns protected settings, whatever their case', async () => {
    const path = extPath('web-1', 'secretive');
    const vault = {
      sourceVault: {
        id: `/subscriptions/${sub}/resourceGroups/ext/providers/Microsoft.KeyVault/vaults/kv`,
      },
      secretUrl: 'https://kv.vault.azure.net/secrets/s/1',
    };
    const created = await arm('PUT', `${path}?${V}`, {
      token: admin,
      body: {
        location: 'westeurope',
        properties: {
          publisher: 'Contoso',
          type: 'Agent',
          typeHandlerVersion: '1.0',
          protectedSettings: { key: SECRET },
          protectedSettingsFromKeyVault: vault,
        },
      },
    });
    expect(created.status).toBe(201);
    const patched = await arm('PATCH', `${path}?${V}`, {
      token: admin,
      body: { properties: { ProtectedSettings: { key: SECRET }, settings: { a: 1 } } },
    });
    expect(patched.status).toBe(200);
    for (const response of [created, patched]) {
      expect(JSON.stringify(response.body)).not.toMatch(/protected|do-not-keep-me|vault/i);
    }
    const stored = await h.store.resources.get(path);
    expect(stored?.properties).toEqual({
      publisher: 'Contoso',
      type: 'Agent',
      typeHandlerVersion: '1.0',
      settings: { a: 1 },
    });
    expect(JSON.stringify(stored)).not.toContain(SECRET);
    await arm('DELETE', `${path}?${V}`, { token: admin });
  });

  it('flags the legacy identity extension: Warning, audit row, port, change feed', async () => {
    const path = extPath('web-1', 'msi');
    const feedBefore = await h.store.changes.since(HOST, 0, 1000);
    const created = await arm('PUT', `${path}?${V}`, {
      token: admin,
      body: { location: 'westeurope', properties: LEGACY },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('warning')).toBe(legacyExtensionWarningHeader());
    // Azure's shape: no port or flag added to what was sent.
    expect(created.body?.properties).toEqual({ ...LEGACY, provisioningState: 'Succeeded' });

    const audit = (await h.store.audit.list({}, { limit: 1000 })).items.filter(
      (event) => event.kind === LEGACY_EXTENSION_AUDIT_KIND,
    );
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      outcome: 'recorded',
      resource: path,
      details: { publisher: LEGACY.publisher, type: LEGACY.type, port: 50342 },
      tenantId: null,
      vmId: null,
      hostId: null,
      tokenId: null,
      reason: null,
    });
    expect(audit[0]?.principalId).toBe(objectIdOf(admin));

    const patched = await arm('PATCH', `${path}?${V}`, {
      token: admin,
      body: { properties: { settings: { port: '50343' } } },
    });
    expect(patched.status).toBe(200);
    expect(patched.headers.get('warning')).toBe(legacyExtensionWarningHeader());
    const latest = (await h.store.audit.list({}, { limit: 1 })).items[0];
    expect(latest).toMatchObject({ kind: LEGACY_EXTENSION_AUDIT_KIND, details: { port: 50343 } });

    const read = await arm('GET', `${path}?${V}`, { token: admin });
    expect(read.headers.get('warning')).toBeNull();
    expect(read.body?.properties).toEqual({
      ...LEGACY,
      settings: { port: '50343' },
      provisioningState: 'Succeeded',
    });

    const deleted = await arm('DELETE', `${path}?${V}`, { token: admin });
    expect(deleted.status).toBe(200);
    // Create, patch and delete each told the agent on the VM's host about the VM.
    const feed = (await h.store.changes.since(HOST, 0, 1000)).slice(feedBefore.length);
    expect(feed.map((entry) => [entry.resourceId, entry.hostId])).toEqual([
      [vmPath('web-1'), HOST],
      [vmPath('web-1'), HOST],
      [vmPath('web-1'), HOST],
    ]);
  });

  it('refuses a bad legacy port with nothing written', async () => {
    const before = await snapshot();
    for (const port of [0, 70000, 'http', 1.5]) {
      const result = await arm('PUT', `${extPath('web-1', 'msi-bad')}?${V}`, {
        token: admin,
        body: { location: 'westeurope', properties: { ...LEGACY, settings: { port } } },
      });
      expect([port, result.status, result.body?.error]).toEqual([
        port,
        400,
        expect.objectContaining({ code: 'InvalidParameter', target: 'properties.settings.port' }),
      ]);
      expect(result.headers.get('warning')).toBeNull();
    }
    expect(await snapshot()).toEqual(before);
  });

  it('goes with its VM when the VM is deleted', async () => {
    await createVm('short-lived', '10.1.0.9');
    const path = extPath('short-lived', 'msi');
    const created = await arm('PUT', `${path}?${V}`, {
      token: admin,
      body: { properties: { ...LEGACY, settings: { port: 50400 } } },
    });
    expect(created.status).toBe(201);
    expect(created.body?.location).toBe('westeurope');
    expect(await h.store.resources.get(path)).toBeDefined();
    const deleted = await arm('DELETE', `${vmPath('short-lived')}?${V}`, { token: admin });
    expect(deleted.status).toBe(200);
    expect(await h.store.resources.get(path)).toBeUndefined();
    await createVm('short-lived', '10.1.0.9');
    const listed = await arm('GET', `${vmPath('short-lived')}/extensions?${V}`, { token: admin });
    expect(listed.body).toEqual({ value: [] });
  });

  it('refuses bad input with ARM codes and changes nothing', async () => {
    const good = { location: 'westeurope', properties: { ...LEGACY, type: 'CustomScript' } };
    const fresh = `${extPath('web-1', 'fresh')}?${V}`;
    const without = (name: string): unknown => ({
      properties: Object.fromEntries(Object.entries(good.properties).filter(([k]) => k !== name)),
    });
    const cases: [string, string, string, unknown, number, string, string?][] = [
      ['bad JSON', 'PUT', fresh, '{"properties": ', 400, 'InvalidRequestContent'],
      ['not an object', 'PUT', fresh, '[]', 400, 'InvalidRequestContent'],
      ['properties not an object', 'PUT', fresh, { properties: 5 }, 400, 'InvalidRequestContent'],
      ['no publisher', 'PUT', fresh, without('publisher'), 400, 'InvalidParameter', 'publisher'],
      ['no type', 'PUT', fresh, without('type'), 400, 'InvalidParameter', 'type'],
      [
        'no version',
        'PUT',
        fresh,
        without('typeHandlerVersion'),
        400,
        'InvalidParameter',
        'typeHandlerVersion',
      ],
      [
        'publisher not a string',
        'PUT',
        fresh,
        { properties: { ...good.properties, publisher: 7 } },
        400,
        'InvalidParameter',
        'publisher',
      ],
      ['no properties', 'PUT', fresh, {}, 400, 'InvalidParameter', 'publisher'],
      ['bad tags', 'PUT', fresh, { ...good, tags: { a: 1 } }, 400, 'InvalidTag'],
      ['no api-version', 'PUT', extPath('web-1', 'fresh'), good, 400, 'MissingApiVersionParameter'],
      [
        'unknown api-version',
        'PUT',
        `${extPath('web-1', 'fresh')}?api-version=2015-01-01`,
        good,
        400,
        'NoRegisteredProviderFound',
      ],
      ['unknown VM', 'PUT', `${extPath('nobody', 'fresh')}?${V}`, good, 404, 'ResourceNotFound'],
      [
        'unknown VM, list',
        'GET',
        `${vmPath('nobody')}/extensions?${V}`,
        undefined,
        404,
        'ResourceNotFound',
      ],
      [
        'unknown VM, delete',
        'DELETE',
        `${extPath('nobody', 'x')}?${V}`,
        undefined,
        404,
        'ResourceNotFound',
      ],
      [
        'unknown group',
        'PUT',
        `${extPath('web-1', 'fresh', 'nogroup')}?${V}`,
        good,
        404,
        'ResourceGroupNotFound',
      ],
      ['PATCH of none', 'PATCH', fresh, { properties: {} }, 404, 'ResourceNotFound'],
      ['bad name', 'PUT', `${extPath('web-1', 'a%5Cb')}?${V}`, good, 400, 'InvalidResourceName'],
      ['bad VM name', 'PUT', `${extPath('_vm', 'fresh')}?${V}`, good, 400, 'InvalidResourceName'],
      ['POST', 'POST', fresh, good, 405, 'MethodNotAllowed'],
    ];
    const before = await snapshot();
    for (const [name, method, path, body, status, code, target] of cases) {
      const result = await arm(method, path, { token: admin, body });
      const error = result.body?.error as { target?: string } | undefined;
      expect([name, result.status, errorCode(result.body), error?.target]).toEqual([
        name,
        status,
        code,
        target ?? error?.target,
      ]);
    }
    const missingVm = await arm('PUT', `${extPath('nobody', 'fresh')}?${V}`, {
      token: admin,
      body: good,
    });
    expect((missingVm.body?.error as { message: string }).message).toContain(
      "'Microsoft.Compute/virtualMachines/nobody'",
    );
    const noPublisher = await arm('PUT', fresh, { token: admin, body: without('publisher') });
    expect((noPublisher.body?.error as { message: string }).message).toBe(
      "Required parameter 'publisher' is missing (null).",
    );
    expect(await snapshot()).toEqual(before);
  });

  it('honours If-Match and If-None-Match with 412', async () => {
    const path = extPath('web-1', 'guarded');
    const body = {
      properties: { publisher: 'Contoso', type: 'Agent', typeHandlerVersion: '1.0' },
    };
    const absent = await arm('PUT', `${path}?${V}`, {
      token: admin,
      body,
      headers: { 'if-match': '*' },
    });
    expect([absent.status, errorCode(absent.body)]).toEqual([412, 'PreconditionFailed']);
    const created = await arm('PUT', `${path}?${V}`, {
      token: admin,
      body,
      headers: { 'if-none-match': '*' },
    });
    expect(created.status).toBe(201);
    const before = await snapshot();
    const mismatch = await arm('PATCH', `${path}?${V}`, {
      token: admin,
      body: { properties: { typeHandlerVersion: '2.0' } },
      headers: { 'if-match': '"not-the-etag"' },
    });
    expect([mismatch.status, errorCode(mismatch.body)]).toEqual([412, 'PreconditionFailed']);
    const exists = await arm('PUT', `${path}?${V}`, {
      token: admin,
      body,
      headers: { 'if-none-match': '*' },
    });
    expect(exists.status).toBe(412);
    const notDeleted = await arm('DELETE', `${path}?${V}`, {
      token: admin,
      headers: { 'if-match': '"not-the-etag"' },
    });
    expect(notDeleted.status).toBe(412);
    expect(await snapshot()).toEqual(before);

    const etag = (await h.store.resources.get(path))?.etag ?? '';
    const matched = await arm('PATCH', `${path}?${V}`, {
      token: admin,
      body: { properties: { typeHandlerVersion: '2.0' } },
      headers: { 'if-match': etag },
    });
    expect(matched.status).toBe(200);
    expect((matched.body?.properties as { typeHandlerVersion: string }).typeHandlerVersion).toBe(
      '2.0',
    );
  });

  it('needs extension rights (AuthorizationFailed) and lists only what the caller may read', async () => {
    const path = extPath('web-1', 'ruled');
    const body = {
      properties: { publisher: 'Contoso', type: 'Agent', typeHandlerVersion: '1.0' },
    };
    expect((await arm('PUT', `${path}?${V}`, { token: admin, body })).status).toBe(201);
    const { principal, token } = await h.newClient('ext-nobody');
    const before = await snapshot();
    for (const [method, action] of [
      ['PUT', 'write'],
      ['PATCH', 'write'],
      ['GET', 'read'],
      ['DELETE', 'delete'],
    ] as const) {
      const denied = await arm(method, `${path}?${V}`, {
        token,
        ...(method === 'PUT' || method === 'PATCH' ? { body } : {}),
      });
      expect([method, denied.status, errorCode(denied.body)]).toEqual([
        method,
        403,
        'AuthorizationFailed',
      ]);
      expect((denied.body?.error as { message: string }).message).toContain(
        `'Microsoft.Compute/virtualMachines/extensions/${action}' over scope '${path}'`,
      );
    }
    const legacy = await arm('PUT', `${extPath('web-1', 'msi-denied')}?${V}`, {
      token,
      body: { properties: LEGACY },
    });
    expect([legacy.status, legacy.headers.get('warning')]).toEqual([403, null]);
    const hidden = await arm('GET', `${vmPath('web-1')}/extensions?${V}`, { token });
    expect(hidden.body).toEqual({ value: [] });
    expect(await snapshot()).toEqual(before);

    await assignRole(h, principal.objectId, BUILT_IN_ROLE_IDS.reader, path);
    const visible = await arm('GET', `${vmPath('web-1')}/extensions?${V}`, { token });
    expect((visible.body?.value as { name: string }[]).map((e) => e.name)).toEqual(['ruled']);
    const stillDenied = await arm('PATCH', `${path}?${V}`, { token, body });
    expect(stillDenied.status).toBe(403);

    await assignRole(
      h,
      principal.objectId,
      BUILT_IN_ROLE_IDS.virtualMachineContributor,
      vmPath('web-1'),
    );
    const allowed = await arm('PATCH', `${path}?${V}`, {
      token,
      body: { tags: { by: 'operator' } },
    });
    expect([allowed.status, allowed.body?.tags]).toEqual([200, { by: 'operator' }]);
  });
});
