// The agent API's host reads for the portal: GET /agent/v1/hosts and /hosts/{name}, with certificate expiry and VM counts.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_ROLE_IDS } from '../../src/core/rbac/index.js';
import type { RegisterResponse } from '../../src/wire/agent-api.js';
import { storeTargets } from '../store/targets.js';
import {
  type AgentHarness,
  type Answer,
  csrFor,
  ecKeys,
  errorCode,
  type RegisteredHost,
  startAgentServer,
} from './agent-harness.js';

const VM_V = 'api-version=2024-07-01';
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('agent API host reads', () => {
  let h: AgentHarness;
  let registered: RegisteredHost;
  let pendingId: string;
  let nobody: string;
  let reader: string;

  const read = (path: string, token?: string): Promise<Answer> =>
    h.agent('GET', path, {
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });

  async function newPrincipalToken(name: string): Promise<{ id: string; token: string }> {
    const { directory } = h.server.services;
    const principal = await directory.createPrincipal({
      tenantId: h.tenantId,
      displayName: name,
      type: 'Application',
    });
    const { secret } = await directory.addClientSecret(principal.objectId);
    return { id: principal.objectId, token: await h.token(principal.appId, secret) };
  }

  beforeAll(async () => {
    const [sqlite] = storeTargets();
    if (sqlite === undefined) throw new Error('no store target');
    h = await startAgentServer(sqlite);
    // Created out of name order: the list sorts by name.
    registered = await h.newHost('portal-b');
    const pending = await h.agent('PUT', '/hosts/portal-a', {
      headers: { authorization: `Bearer ${h.admin}` },
    });
    expect(pending.status).toBe(201);
    pendingId = pending.body?.id as string;

    const group = `/subscriptions/${h.sub}/resourceGroups/portal-hosts`;
    expect((await h.arm('PUT', `${group}?api-version=2021-04-01`, { location: 'x' })).status).toBe(
      201,
    );
    for (const name of ['vm-1', 'vm-2']) {
      const vm = await h.arm(
        'PUT',
        `${group}/providers/Microsoft.Compute/virtualMachines/${name}?${VM_V}`,
        {
          location: 'westeurope',
          properties: { tessera: { hostId: registered.id } },
        },
      );
      expect(vm.status).toBe(201);
    }

    nobody = (await newPrincipalToken('portal-hosts-nobody')).token;
    const readerPrincipal = await newPrincipalToken('portal-hosts-reader');
    const assigned = await h.arm(
      'PUT',
      `/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=2022-04-01`,
      {
        properties: {
          roleDefinitionId: `/providers/Microsoft.Authorization/roleDefinitions/${BUILT_IN_ROLE_IDS.reader}`,
          principalId: readerPrincipal.id,
        },
      },
    );
    expect(assigned.status).toBe(201);
    reader = readerPrincipal.token;
  });
  afterAll(async () => {
    await h.close();
  });

  it('lists every host by name with times, certificate expiry and VM count, and no secrets', async () => {
    const answer = await read('/hosts', h.admin);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    const value = answer.body?.value as Record<string, unknown>[];
    expect(value.map((host) => host.name)).toEqual(['portal-a', 'portal-b']);
    const [pending, live] = value;
    expect(pending).toEqual({
      id: pendingId,
      name: 'portal-a',
      createdAt: expect.stringMatching(ISO) as unknown,
      registeredAt: null,
      lastSeenAt: null,
      certificateNotAfter: null,
      vmCount: 0,
    });
    expect(live).toEqual({
      id: registered.id,
      name: 'portal-b',
      createdAt: expect.stringMatching(ISO) as unknown,
      registeredAt: expect.stringMatching(ISO) as unknown,
      lastSeenAt: expect.stringMatching(ISO) as unknown,
      certificateNotAfter: new Date(registered.registration.certificateNotAfter).toISOString(),
      vmCount: 2,
    });
    const stored = await h.store.hosts.get(registered.id);
    expect(JSON.stringify(answer.body)).not.toContain(stored?.certificateThumbprint ?? '?');
    expect(JSON.stringify(answer.body)).not.toMatch(/joinToken|thumbprint|hash/i);
  });

  it('reads one host, and answers an unknown one 404 in the agent API dialect', async () => {
    const one = await read('/hosts/portal-b', reader);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: registered.id, name: 'portal-b', vmCount: 2 });
    const missing = await read('/hosts/portal-z', h.admin);
    expect(missing.status).toBe(404);
    expect(errorCode(missing)).toBe('ResourceNotFound');
    expect(missing.body?.error).toMatchObject({
      message: expect.stringContaining('portal-z') as unknown,
    });
    const bad = await read('/hosts/bad%20name', h.admin);
    expect(bad.status).toBe(400);
    expect(errorCode(bad)).toBe('InvalidParameter');
  });

  it('needs Tessera.Agent/hosts/read at / (Reader has it) and a bearer token', async () => {
    expect((await read('/hosts', reader)).status).toBe(200);
    for (const path of ['/hosts', '/hosts/portal-b']) {
      const denied = await read(path, nobody);
      expect(denied.status, path).toBe(403);
      expect(errorCode(denied)).toBe('AuthorizationFailed');
      expect((denied.body?.error as { message: string }).message).toContain(
        "'Tessera.Agent/hosts/read' over scope '/'",
      );
      const anonymous = await read(path);
      expect(anonymous.status, path).toBe(401);
      expect(errorCode(anonymous)).toBe('AuthenticationFailed');
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer authorization_uri=/);
    }
    // A host's own credentials are no operator token.
    const asHost = await registered.call('GET', '/hosts');
    expect(asHost.status).toBe(401);
  });

  it('records the new certificate expiry when the host renews', async () => {
    const renewed = await registered.call('POST', '/renew', { csr: await csrFor(ecKeys()) });
    expect(renewed.status).toBe(200);
    const { certificateNotAfter } = renewed.body as unknown as RegisterResponse;
    expect((await h.store.hosts.get(registered.id))?.certificateNotAfter).toBe(certificateNotAfter);
    const one = await read('/hosts/portal-b', h.admin);
    expect(one.body?.certificateNotAfter).toBe(new Date(certificateNotAfter).toISOString());
  });
});
