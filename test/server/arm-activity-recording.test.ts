// The Activity Log records what ARM did: a scripted sequence of writes over HTTP, a denied one
// included, read back through Azure's API with the right callers, statuses and trace ids.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ArmHarness, startArm } from './arm-harness.js';

const V = 'api-version=2021-04-01';
const UAI = 'Microsoft.ManagedIdentity/userAssignedIdentities';

interface Event {
  caller: string;
  operationName: { value: string };
  eventName: { value: string };
  status: { value: string };
  subStatus: { value: string };
  correlationId: string;
  resourceId: string;
  resourceGroupName: string;
  httpRequest: { method: string };
  properties: Record<string, string>;
}

describe('ARM surface: the Activity Log records writes, deletes and denials', () => {
  let h: ArmHarness;
  let clientId: string;
  let correlation: string;
  let events: Event[];
  const started = new Date(Date.now() - 1000).toISOString();

  beforeAll(async () => {
    h = await startArm();
    const group = `/subscriptions/${h.sub}/resourceGroups/Audit-RG`;
    const identity = `${group}/providers/${UAI}/audited?api-version=2023-01-31`;
    expect(
      (await h.arm('PUT', `${group}?${V}`, { token: h.admin, body: { location: 'westeurope' } }))
        .status,
    ).toBe(201);
    const made = await h.arm('PUT', identity, {
      token: h.admin,
      body: { location: 'westeurope' },
      headers: { 'x-ms-correlation-request-id': '6f1c0c52-2f8e-4a55-9a57-6c3f0c1d2e3f' },
    });
    expect(made.status).toBe(201);
    correlation = made.headers.get('x-ms-correlation-request-id') ?? '';
    // A read is not recorded.
    expect((await h.arm('GET', identity, { token: h.admin })).status).toBe(200);
    const { principal, token } = await h.newClient('denied writer');
    clientId = principal.objectId;
    const denied = await h.arm('DELETE', identity, { token });
    expect(denied.status).toBe(403);
    expect((await h.arm('DELETE', identity, { token: h.admin })).status).toBe(200);
    const filter = encodeURIComponent(`eventTimestamp ge '${started}'`);
    const listed = await h.arm(
      'GET',
      `/subscriptions/${h.sub}/providers/microsoft.insights/eventtypes/management/values?api-version=2015-04-01&$filter=${filter}`,
      { token: h.admin },
    );
    expect(listed.status).toBe(200);
    events = (listed.body?.value as Event[]).toReversed();
  });

  afterAll(async () => {
    await h.close();
  });

  it('has a Begin and an End event for each write, delete and denial, oldest last in the list', () => {
    const line = (e: Event): string =>
      `${e.operationName.value} ${e.eventName.value} ${e.status.value}`;
    expect(events.map(line)).toEqual([
      'Microsoft.Resources/subscriptions/resourceGroups/write BeginRequest Started',
      'Microsoft.Resources/subscriptions/resourceGroups/write EndRequest Succeeded',
      `${UAI}/write BeginRequest Started`,
      `${UAI}/write EndRequest Succeeded`,
      `${UAI}/delete BeginRequest Started`,
      `${UAI}/delete EndRequest Failed`,
      `${UAI}/delete BeginRequest Started`,
      `${UAI}/delete EndRequest Succeeded`,
    ]);
  });

  it('names the caller of each, the denied one included', () => {
    const admin = events[0]!.caller;
    expect(events.map((e) => e.caller)).toEqual([
      admin,
      admin,
      admin,
      admin,
      clientId,
      clientId,
      admin,
      admin,
    ]);
    expect(admin).not.toBe(clientId);
    const denied = events[5]!;
    expect(denied.subStatus.value).toBe('Forbidden');
    expect(denied.properties.statusCode).toBe('Forbidden');
    expect(denied.httpRequest.method).toBe('DELETE');
  });

  it('carries the request’s correlation id, and finds the events by it', async () => {
    expect(correlation).toBe('6f1c0c52-2f8e-4a55-9a57-6c3f0c1d2e3f');
    expect(events[3]).toMatchObject({
      correlationId: correlation,
      resourceGroupName: 'Audit-RG',
      resourceId: expect.stringContaining('/userAssignedIdentities/audited') as unknown,
    });
    const filter = encodeURIComponent(
      `eventTimestamp ge '${started}' and correlationId eq '${correlation}'`,
    );
    const byCorrelation = await h.arm(
      'GET',
      `/subscriptions/${h.sub}/providers/Microsoft.Insights/eventtypes/management/values?api-version=2015-04-01&$filter=${filter}`,
      { token: h.admin },
    );
    expect((byCorrelation.body?.value as Event[]).map((e) => e.eventName.value)).toEqual([
      'EndRequest',
      'BeginRequest',
    ]);
  });

  it('refuses a caller without Microsoft.Insights/eventtypes/values/read', async () => {
    const { token } = await h.newClient('no roles');
    const filter = encodeURIComponent(`eventTimestamp ge '${started}'`);
    const refused = await h.arm(
      'GET',
      `/subscriptions/${h.sub}/providers/Microsoft.Insights/eventtypes/management/values?api-version=2015-04-01&$filter=${filter}`,
      { token },
    );
    expect(refused.status).toBe(403);
  });
});
