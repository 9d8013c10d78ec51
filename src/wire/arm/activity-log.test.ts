// Tests of the EventData renderer, `$select` and the event id's .NET ticks, against the spec's ActivityLogs_List examples.
import { describe, expect, it } from 'vitest';
import { AppError } from '../../core/errors.js';
import type { ActivityEvent } from '../../core/model.js';
import { renderArmError } from '../errors/arm.js';
import {
  dotNetTicks,
  EVENT_DATA_KEYS,
  eventTimestamp,
  parseActivitySelect,
  renderActivityEvent,
  subStatusOf,
} from './activity-log.js';

const SUB = '089bd33f-d4ec-47fe-8ba5-0753aa5c5b33';
const TICKET = `/subscriptions/${SUB}/resourceGroups/MSSupportGroup/providers/microsoft.support/supporttickets/115012112305841`;
/** The spec example's `eventTimestamp`, 2015-01-21T22:14:26.9792776Z, to the millisecond. */
const AT = Date.UTC(2015, 0, 21, 22, 14, 26, 979);

/** The End event of the spec's GetActivityLogsFiltered example, as Tessera records it. */
const example: ActivityEvent = {
  eventDataId: '44ade6b4-3813-45e6-ae27-7420a95fa2f8',
  operationId: '1e121103-0ba6-4300-ac9d-952bb5d0c80f',
  at: AT,
  subscriptionId: SUB,
  tenantId: '1e8d8218-c5e7-4578-9acc-9abbd5d23315',
  resourceGroup: 'MSSupportGroup',
  resourceId: TICKET,
  resourceType: 'microsoft.support/supporttickets',
  resourceProvider: 'microsoft.support',
  operationName: 'microsoft.support/supporttickets/write',
  eventName: 'EndRequest',
  status: 'Succeeded',
  httpStatus: 201,
  level: 'Informational',
  callerObjectId: '2468adf0-8211-44e3-95xq-85137af64708',
  callerAppId: 'c44b4083-3bq0-49c1-b47d-974e53cbdf3c',
  caller: 'admin@contoso.com',
  correlationId: '1e121103-0ba6-4300-ac9d-952bb5d0c80f',
  clientRequestId: '27003b25-91d3-418f-8eb1-29e537dcb249',
  serviceRequestId: 'b2a1cbb8-4b4b-4c8f-a5b8-0c2f8d5d8e3a',
  method: 'PUT',
  uri: null,
  clientIp: '192.168.35.115',
  claims: {
    appid: 'c44b4083-3bq0-49c1-b47d-974e53cbdf3c',
    iat: '1421876371',
    oid: '2468adf0-8211-44e3-95xq-85137af64708',
    tid: '1e8d8218-c5e7-4578-9acc-9abbd5d23315',
    upn: 'admin@contoso.com',
    name: 'John Smith',
  },
};

describe('dotNetTicks', () => {
  it("matches the spec example's id to the millisecond (Tessera keeps no finer time)", () => {
    // The example's id ends in 635574752669792776: its time has 0.2776 ms more than AT.
    expect(dotNetTicks(AT)).toBe('635574752669790000');
    expect(BigInt(dotNetTicks(AT)) + 2776n).toBe(635574752669792776n);
  });

  it('counts 100 ns units from 0001-01-01', () => {
    expect(dotNetTicks(0)).toBe('621355968000000000');
    expect(dotNetTicks(1)).toBe('621355968000010000');
  });
});

describe('eventTimestamp', () => {
  it('writes seven fraction digits, as .NET does', () => {
    expect(eventTimestamp(AT)).toBe('2015-01-21T22:14:26.9790000Z');
  });
});

describe('subStatusOf', () => {
  it.each([
    [200, 'OK', 'OK (HTTP Status Code: 200)'],
    [201, 'Created', 'Created (HTTP Status Code: 201)'],
    [204, 'NoContent', 'No Content (HTTP Status Code: 204)'],
    [400, 'BadRequest', 'Bad Request (HTTP Status Code: 400)'],
    [409, 'Conflict', 'Conflict (HTTP Status Code: 409)'],
    [418, '418', '418 (HTTP Status Code: 418)'],
  ])('names %i %s', (status, value, localizedValue) => {
    expect(subStatusOf(status)).toEqual({ value, localizedValue });
  });

  it('is empty on a Begin event', () => {
    expect(subStatusOf(null)).toEqual({ value: '', localizedValue: '' });
  });
});

describe('renderActivityEvent', () => {
  it("renders the spec example's End event, members in Azure's order", () => {
    const body = renderActivityEvent(example);
    expect(Object.keys(body)).toEqual(EVENT_DATA_KEYS);
    expect(body).toEqual({
      authorization: { action: 'microsoft.support/supporttickets/write', scope: TICKET },
      caller: 'admin@contoso.com',
      channels: 'Operation',
      claims: {
        appid: 'c44b4083-3bq0-49c1-b47d-974e53cbdf3c',
        iat: '1421876371',
        'http://schemas.microsoft.com/identity/claims/objectidentifier':
          '2468adf0-8211-44e3-95xq-85137af64708',
        'http://schemas.microsoft.com/identity/claims/tenantid':
          '1e8d8218-c5e7-4578-9acc-9abbd5d23315',
        'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn': 'admin@contoso.com',
        name: 'John Smith',
      },
      correlationId: '1e121103-0ba6-4300-ac9d-952bb5d0c80f',
      description: '',
      eventDataId: '44ade6b4-3813-45e6-ae27-7420a95fa2f8',
      eventName: { value: 'EndRequest', localizedValue: 'End request' },
      category: { value: 'Administrative', localizedValue: 'Administrative' },
      eventTimestamp: '2015-01-21T22:14:26.9790000Z',
      id: `${TICKET}/events/44ade6b4-3813-45e6-ae27-7420a95fa2f8/ticks/635574752669790000`,
      level: 'Informational',
      operationId: '1e121103-0ba6-4300-ac9d-952bb5d0c80f',
      operationName: {
        value: 'microsoft.support/supporttickets/write',
        localizedValue: 'microsoft.support/supporttickets/write',
      },
      resourceGroupName: 'MSSupportGroup',
      resourceProviderName: { value: 'microsoft.support', localizedValue: 'microsoft.support' },
      resourceType: {
        value: 'microsoft.support/supporttickets',
        localizedValue: 'microsoft.support/supporttickets',
      },
      resourceId: TICKET,
      status: { value: 'Succeeded', localizedValue: 'Succeeded' },
      subStatus: { value: 'Created', localizedValue: 'Created (HTTP Status Code: 201)' },
      submissionTimestamp: '2015-01-21T22:14:26.9790000Z',
      subscriptionId: SUB,
      tenantId: '1e8d8218-c5e7-4578-9acc-9abbd5d23315',
      httpRequest: {
        clientRequestId: '27003b25-91d3-418f-8eb1-29e537dcb249',
        clientIpAddress: '192.168.35.115',
        method: 'PUT',
      },
      properties: {
        eventCategory: 'Administrative',
        entity: TICKET,
        message: 'microsoft.support/supporttickets/write',
        statusCode: 'Created',
        serviceRequestId: 'b2a1cbb8-4b4b-4c8f-a5b8-0c2f8d5d8e3a',
      },
      relatedEvents: [],
    });
  });

  it('renders a Begin event without a status code, and a subscription-level one without a group', () => {
    const body = renderActivityEvent({
      ...example,
      eventName: 'BeginRequest',
      status: 'Started',
      httpStatus: null,
      resourceGroup: null,
      resourceId: `/subscriptions/${SUB}`,
      uri: `https://management.example/subscriptions/${SUB}?api-version=2022-12-01`,
      clientRequestId: null,
      clientIp: null,
    });
    expect(body.eventName).toEqual({ value: 'BeginRequest', localizedValue: 'Begin request' });
    expect(body.subStatus).toEqual({ value: '', localizedValue: '' });
    expect(body.properties).toEqual({
      eventCategory: 'Administrative',
      entity: `/subscriptions/${SUB}`,
      message: 'microsoft.support/supporttickets/write',
    });
    expect(body).not.toHaveProperty('resourceGroupName');
    expect(body.httpRequest).toEqual({
      method: 'PUT',
      uri: `https://management.example/subscriptions/${SUB}?api-version=2022-12-01`,
    });
  });

  it("keeps only the selected members: the spec's GetActivityLogsFilteredAndSelected example", () => {
    const select = parseActivitySelect(
      'eventName,id,resourceGroupName,resourceProviderName,operationName,status,eventTimestamp,correlationId,submissionTimestamp,level',
    );
    expect(renderActivityEvent(example, select)).toEqual({
      correlationId: '1e121103-0ba6-4300-ac9d-952bb5d0c80f',
      eventName: { localizedValue: 'End request', value: 'EndRequest' },
      eventTimestamp: '2015-01-21T22:14:26.9790000Z',
      id: `${TICKET}/events/44ade6b4-3813-45e6-ae27-7420a95fa2f8/ticks/635574752669790000`,
      level: 'Informational',
      operationName: {
        localizedValue: 'microsoft.support/supporttickets/write',
        value: 'microsoft.support/supporttickets/write',
      },
      resourceGroupName: 'MSSupportGroup',
      resourceProviderName: { localizedValue: 'microsoft.support', value: 'microsoft.support' },
      status: { localizedValue: 'Succeeded', value: 'Succeeded' },
      submissionTimestamp: '2015-01-21T22:14:26.9790000Z',
    });
  });
});

describe('parseActivitySelect', () => {
  it("trims az's ' , ' joins, matches any case and skips empty entries", () => {
    expect(parseActivitySelect('caller , EVENTTIMESTAMP , status ,, ')).toEqual([
      'caller',
      'eventTimestamp',
      'status',
    ]);
  });

  it('selects everything when absent or empty', () => {
    expect(parseActivitySelect(undefined)).toBeUndefined();
    expect(parseActivitySelect(' , ')).toBeUndefined();
  });

  it('refuses a name that is not an EventData member with BadRequest', () => {
    try {
      parseActivitySelect('caller,secrets');
      expect.unreachable();
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      const rendered = renderArmError(error);
      expect(rendered.status).toBe(400);
      expect(JSON.parse(rendered.body)).toEqual({
        error: {
          code: 'BadRequest',
          message: expect.stringContaining("The $select property 'secrets'") as unknown,
        },
      });
    }
  });
});
