// The agent API's host deletion and lookup by id: DELETE /agent/v1/hosts/{nameOrId}, its RBAC, and what a deleted host loses.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate } from '../../src/core/keys/x509.js';
import { BUILT_IN_ROLE_IDS } from '../../src/core/rbac/index.js';
import type { CertificateResponse, HostView } from '../../src/wire/agent-api.js';
import { storeTargets } from '../store/targets.js';
import {
  type AgentHarness,
  type Answer,
  csrFor,
  ecKeys,
  errorCode,
  type KeyPair,
  type RegisteredHost,
  startAgentServer,
} from './agent-harness.js';

const VM_V = 'api-version=2024-07-01';

describe.each(storeTargets())('agent API host deletion on $name', (target) => {
  let h: AgentHarness;
  let group: string;
  let reader: string;
  let nobody: string;

  const call = (method: string, path: string, token?: string): Promise<Answer> =>
    h.agent(method, path, {
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });

  async function principalToken(name: string, roleId?: string): Promise<string> {
    const { directory } = h.server.services;
    const principal = await directory.createPrincipal({
      tenantId: h.tenantId,
      displayName: name,
      type: 'Application',
    });
    if (roleId !== undefined) {
      const assigned = await h.arm(
        'PUT',
        `/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}?api-version=2022-04-01`,
        {
          properties: {
            roleDefinitionId: `/providers/Microsoft.Authorization/roleDefinitions/${roleId}`,
            principalId: principal.objectId,
          },
        },
      );
      expect(assigned.status).toBe(201);
    }
    const { secret } = await directory.addClientSecret(principal.objectId);
    return h.token(principal.appId, secret);
  }

  /** A VM with a system-assigned identity placed on `host`; returns the identity's ids. */
  async function placedVm(
    name: string,
    host: RegisteredHost,
  ): Promise<{ id: string; principalId: string }> {
    const answer = await h.arm(
      'PUT',
      `${group}/providers/Microsoft.Compute/virtualMachines/${name}?${VM_V}`,
      {
        location: 'westeurope',
        identity: { type: 'SystemAssigned' },
        properties: { tessera: { hostId: host.id, privateIpAddresses: ['10.9.0.4'] } },
      },
    );
    expect(answer.status).toBe(201);
    const body = answer.body as { id: string; identity: { principalId: string } };
    return { id: body.id, principalId: body.identity.principalId };
  }

  /** Certifies a new key of `principalId` on `host`: the agent's step before it mints. */
  async function identityKey(
    host: RegisteredHost,
    principalId: string,
  ): Promise<{ keys: KeyPair; thumbprint: string }> {
    const keys = ecKeys();
    const answer = await host.call('POST', `/identities/${principalId}/certificate`, {
      csr: await csrFor(keys),
    });
    expect(answer.status).toBe(200);
    const { certificate } = answer.body as unknown as CertificateResponse;
    return { keys, thumbprint: parseCertificate(certificate).sha256 };
  }

  /** The token endpoint's answer to a client assertion signed with an identity certificate's key. */
  async function mint(principalId: string, key: { keys: KeyPair; thumbprint: string }) {
    const appId = (await h.store.principals.get(principalId))?.appId ?? '';
    const endpoint = `${h.server.url}/${h.tenantId}/oauth2/v2.0/token`;
    const assertion = await new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', 'x5t#S256': key.thumbprint })
      .setIssuer(appId)
      .setSubject(appId)
      .setAudience(endpoint)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key.keys.privateKey);
    const response = await fetch(endpoint, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: appId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
        scope: 'https://vault.azure.net/.default',
      }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  beforeAll(async () => {
    h = await startAgentServer(target);
    group = `/subscriptions/${h.sub}/resourceGroups/host-delete`;
    const created = await h.arm('PUT', `${group}?api-version=2021-04-01`, {
      location: 'westeurope',
    });
    expect(created.status).toBe(201);
    reader = await principalToken('host-delete-reader', BUILT_IN_ROLE_IDS.reader);
    nobody = await principalToken('host-delete-nobody');
  });
  afterAll(async () => {
    await h.close();
  });

  it('reads a host by its name or by its id', async () => {
    const host = await h.newHost('by-id');
    const byName = await call('GET', '/hosts/by-id', h.admin);
    const byId = await call('GET', `/hosts/${host.id}`, h.admin);
    expect(byName.status).toBe(200);
    expect(byId.status).toBe(200);
    expect(byId.body).toEqual(byName.body);
    expect((byId.body as unknown as HostView).name).toBe('by-id');
    const unknownId = await call('GET', `/hosts/${randomUUID()}`, h.admin);
    expect(unknownId.status).toBe(404);
    expect(errorCode(unknownId)).toBe('ResourceNotFound');
  });

  it('needs Tessera.Agent/hosts/delete at / (Reader has not) and a bearer token', async () => {
    const host = await h.newHost('kept');
    const anonymous = await call('DELETE', '/hosts/kept');
    expect(anonymous.status).toBe(401);
    expect(errorCode(anonymous)).toBe('AuthenticationFailed');
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer authorization_uri=/);
    for (const token of [reader, nobody]) {
      const denied = await call('DELETE', '/hosts/kept', token);
      expect(denied.status).toBe(403);
      expect(errorCode(denied)).toBe('AuthorizationFailed');
      expect((denied.body?.error as { message: string }).message).toContain(
        "'Tessera.Agent/hosts/delete' over scope '/'",
      );
    }
    // A host's own credentials are no operator token.
    expect((await host.call('DELETE', '/hosts/kept')).status).toBe(401);
    expect((await h.store.hosts.getByName('kept'))?.id).toBe(host.id);
    expect((await host.call('GET', '/vms?after=0')).status).toBe(200);
  });

  it('answers an unknown host 404 and a bad name 400, in the agent API dialect', async () => {
    const missing = await call('DELETE', '/hosts/no-such-host', h.admin);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      error: {
        code: 'ResourceNotFound',
        message: "The host 'no-such-host' does not exist.",
      },
    });
    const bad = await call('DELETE', '/hosts/bad%20name', h.admin);
    expect(bad.status).toBe(400);
    expect(errorCode(bad)).toBe('InvalidParameter');
  });

  it('deletes a host: its certificates stop working, its VMs are placed nowhere, others stay', async () => {
    const doomed = await h.newHost('doomed');
    const other = await h.newHost('survivor');
    const vm = await placedVm('on-doomed', doomed);
    const otherVm = await placedVm('on-survivor', other);
    const key = await identityKey(doomed, vm.principalId);
    const otherKey = await identityKey(other, otherVm.principalId);
    expect((await mint(vm.principalId, key)).status).toBe(200);
    const before = (await call('GET', '/hosts/doomed', h.admin)).body as unknown as HostView;
    expect(before.vmCount).toBe(1);

    const deleted = await call('DELETE', '/hosts/doomed', h.admin);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toBeUndefined();
    expect(deleted.headers.get('cache-control')).toBe('no-store');

    // Gone from the reads; a second delete finds nothing.
    expect((await call('GET', '/hosts/doomed', h.admin)).status).toBe(404);
    const names = ((await call('GET', '/hosts', h.admin)).body?.value as HostView[]).map(
      (host) => host.name,
    );
    expect(names).not.toContain('doomed');
    expect(names).toContain('survivor');
    expect((await call('DELETE', `/hosts/${doomed.id}`, h.admin)).status).toBe(404);

    // The host certificate no longer authenticates; the identity certificate no longer mints.
    const refused = await doomed.call('GET', '/vms?after=0');
    expect(refused.status).toBe(401);
    expect(errorCode(refused)).toBe('AuthenticationFailed');
    const stolen = await mint(vm.principalId, key);
    expect(stolen.status).toBe(401);
    expect(stolen.body.error).toBe('invalid_client');
    expect(String(stolen.body.error_description)).toMatch(/^AADSTS700027: .*revoked/);

    // The VM keeps the id it named; no host has it now.
    const kept = await h.arm('GET', `${vm.id}?${VM_V}`);
    expect(kept.body?.properties).toMatchObject({ tessera: { hostId: doomed.id } });

    // The other host and its identity are untouched.
    expect((await other.call('GET', '/vms?after=0')).status).toBe(200);
    expect((await mint(otherVm.principalId, otherKey)).status).toBe(200);
  });

  it('deletes by id as well', async () => {
    const host = await h.newHost('by-id-delete');
    expect((await call('DELETE', `/hosts/${host.id}`, h.admin)).status).toBe(200);
    expect(await h.store.hosts.get(host.id)).toBeUndefined();
  });
});
