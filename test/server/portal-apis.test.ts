// The ARM APIs the portal reads: the caller's own permissions at a scope, and the audit events list.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/core/model.js';
import { BUILT_IN_ROLE_IDS } from '../../src/core/rbac/index.js';
import { storeTargets } from '../store/targets.js';
import { type AgentHarness, type Answer, errorCode, startAgentServer } from './agent-harness.js';

const AUTH = 'providers/Microsoft.Authorization';
const PERMISSIONS_V = 'api-version=2022-04-01';
const EVENTS = '/providers/Tessera.Audit/events';
const EVENTS_V = 'api-version=2026-11-01';
const VM_V = 'api-version=2024-07-01';

const OWNER_BLOCK = { actions: ['*'], notActions: [], dataActions: [], notDataActions: [] };
const READER_BLOCK = { actions: ['*/read'], notActions: [], dataActions: [], notDataActions: [] };

describe('portal ARM APIs', () => {
  let h: AgentHarness;
  let group: string;
  let otherGroup: string;
  let vm: string;
  /** A principal with Reader on `group` only. */
  let groupReader: string;
  /** A principal with Reader at `/`. */
  let rootReader: string;
  /** A principal with no role anywhere. */
  let nobody: string;

  async function newPrincipalToken(displayName: string): Promise<{ id: string; token: string }> {
    const { directory } = h.server.services;
    const principal = await directory.createPrincipal({
      tenantId: h.tenantId,
      displayName,
      type: 'Application',
    });
    const { secret } = await directory.addClientSecret(principal.objectId);
    return { id: principal.objectId, token: await h.token(principal.appId, secret) };
  }

  async function assignReader(scope: string, principalId: string): Promise<void> {
    const at = scope === '/' ? '' : scope;
    const assigned = await h.arm(
      'PUT',
      `${at}/${AUTH}/roleAssignments/${randomUUID()}?${PERMISSIONS_V}`,
      {
        properties: {
          roleDefinitionId: `/${AUTH}/roleDefinitions/${BUILT_IN_ROLE_IDS.reader}`,
          principalId,
        },
      },
    );
    expect(assigned.status).toBe(201);
  }

  beforeAll(async () => {
    const [sqlite] = storeTargets();
    if (sqlite === undefined) throw new Error('no store target');
    h = await startAgentServer(sqlite);
    group = `/subscriptions/${h.sub}/resourceGroups/portal`;
    otherGroup = `/subscriptions/${h.sub}/resourceGroups/portal-other`;
    for (const g of [group, otherGroup]) {
      const created = await h.arm('PUT', `${g}?api-version=2021-04-01`, { location: 'westeurope' });
      expect(created.status).toBe(201);
    }
    vm = `${group}/providers/Microsoft.Compute/virtualMachines/portal-vm`;
    const put = await h.arm('PUT', `${vm}?${VM_V}`, { location: 'westeurope', properties: {} });
    expect(put.status).toBe(201);

    const reader = await newPrincipalToken('portal-group-reader');
    await assignReader(group, reader.id);
    groupReader = reader.token;
    const root = await newPrincipalToken('portal-root-reader');
    await assignReader('/', root.id);
    rootReader = root.token;
    nobody = (await newPrincipalToken('portal-nobody')).token;
  });
  afterAll(async () => {
    await h.close();
  });

  describe('permissions', () => {
    const permissions = (scope: string, token: string, version = PERMISSIONS_V): Promise<Answer> =>
      h.arm(
        'GET',
        `${scope === '/' ? '' : scope}/${AUTH}/permissions?${version}`,
        undefined,
        token,
      );

    it("lists Owner's block at / for the administrator, at every scope below", async () => {
      for (const scope of ['/', `/subscriptions/${h.sub}`, group, vm]) {
        const answer = await permissions(scope, h.admin);
        expect(answer.status, scope).toBe(200);
        expect(answer.body, scope).toEqual({ value: [OWNER_BLOCK] });
      }
    });

    it("shows a group Reader Reader's block at the group and below, nothing above or beside", async () => {
      for (const scope of [
        group,
        vm,
        group.toUpperCase().replace('/SUBSCRIPTIONS/', '/subscriptions/'),
      ]) {
        const answer = await permissions(scope, groupReader);
        expect(answer.status, scope).toBe(200);
        expect(answer.body, scope).toEqual({ value: [READER_BLOCK] });
      }
      for (const scope of [`/subscriptions/${h.sub}`, otherGroup, '/']) {
        const answer = await permissions(scope, groupReader);
        expect(answer.status, scope).toBe(200);
        expect(answer.body, scope).toEqual({ value: [] });
      }
    });

    it('serves nested resource scopes (a VM extension) through the same scope rules', async () => {
      const extension = `${vm}/extensions/portal-ext`;
      const put = await h.arm('PUT', `${extension}?${VM_V}`, {
        location: 'westeurope',
        properties: {
          publisher: 'Microsoft.Azure.Extensions',
          type: 'CustomScript',
          typeHandlerVersion: '2.1',
          settings: {},
        },
      });
      expect(put.status).toBe(201);
      const answer = await permissions(extension, groupReader);
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ value: [READER_BLOCK] });
      const missing = await permissions(`${vm}/extensions/nope`, groupReader);
      expect(missing.status).toBe(404);
    });

    it('answers an empty list to a principal with no role (no permission needed to ask)', async () => {
      const answer = await permissions(`/subscriptions/${h.sub}`, nobody);
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ value: [] });
    });

    it('accepts the Authorization api-versions and refuses others as ARM does', async () => {
      expect((await permissions(group, h.admin, 'api-version=2015-07-01')).status).toBe(200);
      expect((await permissions(group, h.admin, 'api-version=2022-05-01-preview')).status).toBe(
        200,
      );
      const bad = await permissions(group, h.admin, 'api-version=2019-01-01');
      expect(bad.status).toBe(404);
      expect(errorCode(bad)).toBe('InvalidResourceType');
      const missing = await permissions(group, h.admin, 'x=1');
      expect(missing.status).toBe(400);
      expect(errorCode(missing)).toBe('MissingApiVersionParameter');
    });

    it('answers a missing subscription, group or resource with their usual errors', async () => {
      const sub = await permissions(`/subscriptions/${randomUUID()}`, h.admin);
      expect(sub.status).toBe(404);
      expect(errorCode(sub)).toBe('SubscriptionNotFound');
      const rg = await permissions(`/subscriptions/${h.sub}/resourceGroups/nope`, h.admin);
      expect(rg.status).toBe(404);
      expect(errorCode(rg)).toBe('ResourceGroupNotFound');
      const res = await permissions(
        `${group}/providers/Microsoft.Compute/virtualMachines/nope`,
        h.admin,
      );
      expect(res.status).toBe(404);
      expect(errorCode(res)).toBe('ResourceNotFound');
    });

    it('needs a bearer token and answers GET only', async () => {
      const anonymous = await fetch(`${h.server.url}${group}/${AUTH}/permissions?${PERMISSIONS_V}`);
      expect(anonymous.status).toBe(401);
      const post = await h.arm('POST', `${group}/${AUTH}/permissions?${PERMISSIONS_V}`, {});
      expect(post.status).toBe(405);
    });
  });

  describe('audit events', () => {
    const KIND = 'portal.test';
    const alice = randomUUID();
    const bob = randomUUID();
    const base = Date.parse('2026-11-20T10:00:00Z');
    const events = async (query: string, token = h.admin): Promise<Answer> =>
      h.arm('GET', `${EVENTS}?${EVENTS_V}${query}`, undefined, token);
    const ids = (answer: Answer): string[] =>
      (answer.body?.value as { id: string }[]).map((e) => e.id);

    beforeAll(async () => {
      const event = (i: number, over: Partial<AuditEvent>): AuditEvent => ({
        id: `portal-${String(i)}`,
        at: base + i * 60_000,
        kind: KIND,
        outcome: 'issued',
        tenantId: h.tenantId,
        principalId: alice,
        resource: 'https://vault.azure.net',
        vmId: null,
        hostId: null,
        tokenId: `uti-${String(i)}`,
        reason: null,
        details: { secretish: 'never shown' },
        ...over,
      });
      // Appended oldest first: the log reads newest first.
      await h.store.audit.append(event(0, {}));
      await h.store.audit.append(event(1, { outcome: 'refused', tokenId: null, reason: 'no' }));
      await h.store.audit.append(event(2, { principalId: bob, vmId: 'vm-1', hostId: 'host-1' }));
      await h.store.audit.append(event(3, { outcome: 'recorded', tokenId: null }));
      await h.store.audit.append(event(4, { principalId: bob }));
    });

    it('lists newest first with exactly the listed fields', async () => {
      const answer = await events(`&kind=${KIND}`);
      expect(answer.status).toBe(200);
      expect(ids(answer)).toEqual(['portal-4', 'portal-3', 'portal-2', 'portal-1', 'portal-0']);
      const third = (answer.body?.value as Record<string, unknown>[])[2];
      expect(third).toEqual({
        id: 'portal-2',
        time: '2026-11-20T10:02:00.000Z',
        kind: KIND,
        outcome: 'issued',
        principalId: bob,
        resource: 'https://vault.azure.net',
        vmId: 'vm-1',
        hostId: 'host-1',
        reason: null,
        tokenId: 'uti-2',
      });
      expect(JSON.stringify(answer.body)).not.toContain('never shown');
    });

    it('filters by outcome, principal, time and kind', async () => {
      expect(ids(await events(`&kind=${KIND}&outcome=refused`))).toEqual(['portal-1']);
      expect(ids(await events(`&kind=${KIND}&principalId=${bob.toUpperCase()}`))).toEqual([
        'portal-4',
        'portal-2',
      ]);
      expect(ids(await events(`&kind=${KIND}&since=2026-11-20T10:03:00Z`))).toEqual([
        'portal-4',
        'portal-3',
      ]);
      expect(ids(await events(`&kind=${KIND}&since=2026-11-20T11:02:30%2B01:00`))).toEqual([
        'portal-4',
        'portal-3',
      ]);
      expect(ids(await events(`&principalId=${alice}&outcome=recorded`))).toEqual(['portal-3']);
      expect(ids(await events('&kind=portal.none'))).toEqual([]);
      // Token issuance is audited: the harness's own token requests are there.
      const tokens = await events('&kind=token&outcome=issued&$top=1');
      expect(ids(tokens)).toHaveLength(1);
    });

    it('pages with $top and a nextLink that carries the filters', async () => {
      const first = await events(`&kind=${KIND}&$top=2`);
      expect(ids(first)).toEqual(['portal-4', 'portal-3']);
      const next = first.body?.nextLink as string;
      expect(next).toContain('$skipToken=');
      expect(next).toContain(`kind=${KIND}`);
      const url = new URL(next);
      const second = await h.arm('GET', `${url.pathname}${url.search}`, undefined, h.admin);
      expect(ids(second)).toEqual(['portal-2', 'portal-1']);
      const last = new URL(second.body?.nextLink as string);
      const third = await h.arm('GET', `${last.pathname}${last.search}`, undefined, h.admin);
      expect(ids(third)).toEqual(['portal-0']);
      expect(third.body?.nextLink).toBeUndefined();
    });

    it('refuses each bad parameter with 400 InvalidParameter naming it', async () => {
      const cases: [string, string][] = [
        ['since', 'since=yesterday'],
        ['since', 'since=2026-13-45T00:00:00Z'],
        ['since', 'since=2026-11-20T10:00:00'],
        ['since', 'since='],
        ['outcome', 'outcome=maybe'],
        ['outcome', 'outcome=issued&outcome=refused'],
        ['principalId', 'principalId=not-a-guid'],
        ['kind', 'kind=bad%20kind'],
        ['kind', `kind=${'k'.repeat(65)}`],
        ['$top', '$top=0'],
        ['$top', '$top=1001'],
        ['$top', '$top=ten'],
        ['$skipToken', '$skipToken=garbage'],
      ];
      for (const [name, query] of cases) {
        const answer = await events(`&${query}`);
        expect(answer.status, query).toBe(400);
        expect(errorCode(answer), query).toBe('InvalidParameter');
        const message = (answer.body?.error as { message: string }).message;
        expect(message, query).toContain(`'${name}'`);
      }
    });

    it('checks the api-version', async () => {
      const missing = await h.arm('GET', EVENTS, undefined, h.admin);
      expect(missing.status).toBe(400);
      expect(errorCode(missing)).toBe('MissingApiVersionParameter');
      const wrong = await h.arm('GET', `${EVENTS}?api-version=2022-04-01`, undefined, h.admin);
      expect(wrong.status).toBe(400);
      expect(errorCode(wrong)).toBe('InvalidApiVersionParameter');
    });

    it('needs Tessera.Audit/events/read at / (Reader there has it; a group Reader does not)', async () => {
      expect((await events(`&kind=${KIND}`, rootReader)).status).toBe(200);
      for (const token of [nobody, groupReader]) {
        const denied = await events(`&kind=${KIND}`, token);
        expect(denied.status).toBe(403);
        expect(errorCode(denied)).toBe('AuthorizationFailed');
        expect((denied.body?.error as { message: string }).message).toContain(
          "'Tessera.Audit/events/read' over scope '/'",
        );
      }
      const anonymous = await fetch(`${h.server.url}${EVENTS}?${EVENTS_V}`);
      expect(anonymous.status).toBe(401);
    });
  });
});
