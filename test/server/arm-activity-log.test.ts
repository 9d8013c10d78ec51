// ARM's Activity Log on a real store: events recorded per operation, then listed, filtered, selected and paged as az reads them.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityEvent } from '../../src/core/model.js';
import {
  BUILT_IN_ROLE_IDS,
  createRbacEvaluator,
  seedBuiltInRoles,
} from '../../src/core/rbac/index.js';
import type { VerifiedAccessToken } from '../../src/core/tokens/index.js';
import { activityEventsFor, type ArmOperationFacts } from '../../src/core/audit/activity-events.js';
import { runPipeline } from '../../src/server/arm/pipeline.js';
import { DIRECT_PIPELINE } from '../fixtures/arm-pipeline.js';
import { ACTIVITY_LOG_PAGE_SIZE } from '../../src/server/arm/providers/activity-log.js';
import { ARM_REGISTRY } from '../../src/server/arm/providers/index.js';
import type { ArmRequest, ArmResponse, ArmServices } from '../../src/server/arm/context.js';
import { renderArmError } from '../../src/wire/errors/arm.js';
import { openTempStore, type TempStore } from '../fixtures/temp-store.js';

const SUB = '3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c';
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const NOW = Date.UTC(2026, 4, 1, 12);
const MINUTE = 60_000;
const baseOf = (sub: string): string =>
  `https://tessera.example/subscriptions/${sub}/providers/Microsoft.Insights/eventtypes/management/values`;
const BASE = baseOf(SUB);
const VM = `/subscriptions/${SUB}/resourceGroups/web/providers/Microsoft.Compute/virtualMachines/vm1`;

const token = (objectId: string, claims: Record<string, unknown> = {}): VerifiedAccessToken => ({
  claims: { oid: objectId, tid: TENANT, appid: `app-${objectId}`, iat: 1_777_000_000, ...claims },
  objectId,
  tenantId: TENANT,
  appId: `app-${objectId}`,
  audience: 'https://management.azure.com/',
  issuer: `https://tessera.example/${TENANT}/`,
  expiresAt: NOW + 3_600_000,
});

const reader = token('reader-oid');
const stranger = token('stranger-oid');

/** The facts of one VM PUT by the reader's principal (a writer in real life) `minutes` before NOW. */
const facts = (minutes: number, over: Partial<ArmOperationFacts> = {}): ArmOperationFacts => ({
  caller: reader,
  subscriptionId: SUB,
  resourceGroup: 'web',
  resourceId: VM,
  resourceType: 'Microsoft.Compute/virtualMachines',
  action: 'Microsoft.Compute/virtualMachines/write',
  method: 'PUT',
  uri: `https://tessera.example${VM}?api-version=2024-03-01`,
  httpStatus: 201,
  correlationId: randomUUID(),
  clientRequestId: randomUUID(),
  serviceRequestId: randomUUID(),
  clientIp: '10.1.2.3',
  startedAt: NOW - minutes * MINUTE,
  endedAt: NOW - minutes * MINUTE + 250,
  ...over,
});

describe('ARM Activity Log (the pipeline on a real store)', () => {
  let temp: TempStore;
  let services: ArmServices;

  /** GET with `params` (api-version 2015-04-01 unless given) as `caller`. */
  const get = (
    params: Record<string, string>,
    caller = reader,
    sub = SUB,
  ): Promise<ArmResponse> => {
    const search = new URLSearchParams({ 'api-version': '2015-04-01', ...params });
    return call(`${baseOf(sub)}?${search.toString()}`, caller);
  };
  const call = (url: string, caller: VerifiedAccessToken): Promise<ArmResponse> => {
    const parsed = new URL(url);
    const request: ArmRequest = {
      caller,
      method: 'GET',
      path: parsed.pathname,
      query: Object.fromEntries(parsed.searchParams),
      headers: {},
      body: '',
      url,
    };
    return runPipeline({ services, registry: ARM_REGISTRY, ...DIRECT_PIPELINE }, request);
  };
  /** The ARM error `promise` rejects with, rendered. */
  const failure = async (promise: Promise<unknown>) => {
    const error: unknown = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    const rendered = renderArmError(error);
    const body = JSON.parse(rendered.body) as { error: { code: string; message: string } };
    return { status: rendered.status, code: body.error.code, message: body.error.message };
  };
  const page = (response: ArmResponse) =>
    response.body as { value: Record<string, unknown>[]; nextLink?: string };
  const since = (minutes: number) =>
    `eventTimestamp ge '${new Date(NOW - minutes * MINUTE).toISOString()}'`;

  beforeAll(async () => {
    temp = await openTempStore('tessera-activity-');
    const { store } = temp;
    await seedBuiltInRoles(store, NOW);
    await store.resources.put({
      id: `/subscriptions/${SUB}`,
      type: 'Microsoft.Resources/subscriptions',
      name: SUB,
      subscriptionId: SUB,
      resourceGroup: null,
      location: null,
      tags: {},
      properties: { displayName: 'Activity', tenantId: TENANT },
      createdAt: NOW,
      updatedAt: NOW,
    });
    await store.roles.createAssignment({
      id: randomUUID(),
      scope: `/subscriptions/${SUB}`,
      roleDefinitionId: BUILT_IN_ROLE_IDS.reader,
      principalId: reader.objectId,
      principalType: 'ServicePrincipal',
      createdAt: NOW,
      createdBy: null,
    });
    const clock = { now: () => NOW };
    services = { store, clock, rbac: createRbacEvaluator({ store, clock }), newId: randomUUID };
  });
  afterAll(async () => {
    await temp.close();
  });

  it('makes a Begin and an End event per operation, sharing the operation id', () => {
    const ids = ['op', 'begin', 'end'];
    const [begin, end] = activityEventsFor(
      facts(0, {
        httpStatus: 409,
        caller: token('user-oid', { upn: 'ana@contoso.com', amr: ['pwd', 'mfa'] }),
      }),
      () => ids.shift() ?? 'none',
    );
    expect(begin).toMatchObject({
      operationId: 'op',
      eventDataId: 'begin',
      eventName: 'BeginRequest',
      status: 'Started',
      httpStatus: null,
      level: 'Informational',
      at: NOW,
      caller: 'ana@contoso.com',
      resourceProvider: 'Microsoft.Compute',
      operationName: 'Microsoft.Compute/virtualMachines/write',
      tenantId: TENANT,
    });
    expect(end).toMatchObject({
      operationId: 'op',
      eventDataId: 'end',
      eventName: 'EndRequest',
      status: 'Failed',
      httpStatus: 409,
      level: 'Error',
      at: NOW + 250,
    });
    // Every claim a string, as Azure shows them.
    expect(end.claims).toMatchObject({ iat: '1777000000', amr: 'pwd,mfa', upn: 'ana@contoso.com' });
    // A service principal is shown by its object id.
    expect(activityEventsFor(facts(0), randomUUID)[1]).toMatchObject({
      caller: 'reader-oid',
      status: 'Succeeded',
      level: 'Informational',
      callerAppId: 'app-reader-oid',
    });
  });

  it('lists what was recorded, newest first, as EventData', async () => {
    const correlationId = randomUUID();
    const recorded: ActivityEvent[] = [
      ...activityEventsFor(facts(30, { correlationId }), randomUUID),
      ...activityEventsFor(facts(20, { correlationId, httpStatus: 400 }), randomUUID),
    ];
    await services.store.activity.append(recorded);
    const response = await get({ $filter: `${since(40)} and correlationId eq '${correlationId}'` });
    expect(response.status).toBe(200);
    const { value, nextLink } = page(response);
    expect(nextLink).toBeUndefined();
    expect(value.map((e) => e.eventDataId)).toEqual(
      [...recorded].reverse().map((e) => e.eventDataId),
    );
    const [failedEnd] = value;
    expect(failedEnd).toMatchObject({
      channels: 'Operation',
      category: { value: 'Administrative', localizedValue: 'Administrative' },
      eventName: { value: 'EndRequest', localizedValue: 'End request' },
      status: { value: 'Failed', localizedValue: 'Failed' },
      subStatus: { value: 'BadRequest', localizedValue: 'Bad Request (HTTP Status Code: 400)' },
      level: 'Error',
      resourceId: VM,
      resourceGroupName: 'web',
      resourceType: { value: 'Microsoft.Compute/virtualMachines' },
      authorization: { action: 'Microsoft.Compute/virtualMachines/write', scope: VM },
      properties: { statusCode: 'BadRequest' },
      httpRequest: { method: 'PUT', clientIpAddress: '10.1.2.3' },
    });
    expect(failedEnd?.id).toMatch(
      new RegExp(`^${VM}/events/${String(failedEnd?.eventDataId)}/ticks/\\d{18}$`),
    );
  });

  it("filters by group, resource and status in what az sends, and trims to az's $select", async () => {
    const other = `/subscriptions/${SUB}/resourceGroups/DATA/providers/Microsoft.Compute/virtualMachines/db1`;
    await services.store.activity.append([
      ...activityEventsFor(
        facts(15, { resourceGroup: 'DATA', resourceId: other, httpStatus: 200 }),
        randomUUID,
      ),
    ]);
    const bare = (minutes: number) => new Date(NOW - minutes * MINUTE).toISOString().slice(0, -1);
    const byGroup = page(
      await get({
        $filter: `eventTimestamp ge ${bare(16)} and eventTimestamp le ${bare(0)} and resourceGroupName eq 'data'`,
        $select: 'eventName , resourceId , status , subStatus',
      }),
    );
    expect(byGroup.value).toEqual([
      {
        eventName: { value: 'EndRequest', localizedValue: 'End request' },
        resourceId: other,
        status: { value: 'Succeeded', localizedValue: 'Succeeded' },
        subStatus: { value: 'OK', localizedValue: 'OK (HTTP Status Code: 200)' },
      },
      {
        eventName: { value: 'BeginRequest', localizedValue: 'Begin request' },
        resourceId: other,
        status: { value: 'Started', localizedValue: 'Started' },
        subStatus: { value: '', localizedValue: '' },
      },
    ]);
    const failed = page(
      await get({
        $filter: `${since(60)} and resourceId eq '${VM.toUpperCase()}' and status eq 'Failed'`,
      }),
    );
    expect(failed.value.map((e) => (e.status as { value: string }).value)).toEqual(['Failed']);
  });

  it('pages with an absolute nextLink that keeps api-version, $filter and $select', async () => {
    const correlationId = randomUUID();
    const many: ActivityEvent[] = [];
    for (let i = 0; i < 130; i++) {
      many.push(...activityEventsFor(facts(100 - i / 10, { correlationId }), randomUUID));
    }
    await services.store.activity.append(many);
    const filter = `${since(120)} and correlationId eq '${correlationId}'`;
    const first = page(await get({ $filter: filter, $select: 'eventDataId,eventTimestamp' }));
    expect(first.value).toHaveLength(ACTIVITY_LOG_PAGE_SIZE);
    const next = new URL(first.nextLink ?? '');
    expect(next.origin + next.pathname).toBe(BASE);
    expect(next.searchParams.get('api-version')).toBe('2015-04-01');
    expect(next.searchParams.get('$filter')).toBe(filter);
    expect(next.searchParams.get('$select')).toBe('eventDataId,eventTimestamp');
    // Followed verbatim, as the Python SDK does.
    const second = page(await call(first.nextLink ?? '', reader));
    expect(second.nextLink).toBeUndefined();
    const seen = [...first.value, ...second.value].map((e) => e.eventDataId);
    expect(seen).toHaveLength(260);
    expect(new Set(seen).size).toBe(260);
    const times = [...first.value, ...second.value].map((e) => String(e.eventTimestamp));
    expect([...times].sort().reverse()).toEqual(times);
  });

  it.each([
    [{ 'api-version': '2017-03-01-preview' }, 400, 'NoRegisteredProviderFound'],
    [{ $filter: "eventTimestamp le '2026-05-01T00:00:00Z'" }, 400, 'BadRequest'],
    [{}, 400, 'BadRequest'],
    [{ $filter: "eventTimestamp ge '2025-01-01T00:00:00Z'" }, 400, 'BadRequest'],
    [{ $filter: "eventTimestamp ge '2026-05-01T00:00:00Z'", $select: 'nope' }, 400, 'BadRequest'],
    [
      { $filter: "eventTimestamp ge '2026-05-01T00:00:00Z'", $skipToken: 'bm9wZQ' },
      400,
      'InvalidParameter',
    ],
  ])('refuses %j with %i %s', async (params, status, code) => {
    expect(await failure(get(params))).toMatchObject({ status, code });
  });

  it('refuses a missing api-version, an unknown subscription and a caller without read access', async () => {
    expect(await failure(call(`${BASE}?$filter=x`, reader))).toMatchObject({
      status: 400,
      code: 'MissingApiVersionParameter',
    });
    expect(await failure(get({ $filter: since(5) }, reader, 'not-a-guid'))).toMatchObject({
      status: 400,
      code: 'InvalidSubscriptionId',
    });
    expect(await failure(get({ $filter: since(5) }, reader, randomUUID()))).toMatchObject({
      status: 404,
      code: 'SubscriptionNotFound',
    });
    const refused = await failure(get({ $filter: since(5) }, stranger));
    expect(refused).toMatchObject({ status: 403, code: 'AuthorizationFailed' });
    expect(refused.message).toContain(
      `'Microsoft.Insights/eventtypes/values/read' over scope '/subscriptions/${SUB}'`,
    );
  });
});
