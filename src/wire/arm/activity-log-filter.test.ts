// Tests of the Activity Log's `$filter`: what az and the SDKs send parses, anything else is ARM's 400.
import { describe, expect, it } from 'vitest';
import { armFailure } from '../../../test/fixtures/arm-failure.js';
import { parseActivityFilter, parseActivityTime } from './activity-log-filter.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const DAY = 86_400_000;

describe('parseActivityTime', () => {
  it.each([
    // The spec's quoted form, seven fraction digits (cut to milliseconds).
    ['2014-07-16T04:36:37.6407898Z', Date.UTC(2014, 6, 16, 4, 36, 37, 640)],
    // az without --start-time: naive utcnow().isoformat(), microseconds, read as UTC.
    ['2024-05-01T06:00:00.123456', Date.UTC(2024, 4, 1, 6, 0, 0, 123)],
    // az with --start-time: an offset.
    ['2024-05-01T08:00:00+02:00', Date.UTC(2024, 4, 1, 6)],
    ['2024-05-01T01:30:00-0430', Date.UTC(2024, 4, 1, 6)],
    // az --verbose deployment progress: strftime('%Y-%m-%dT%H:%M:%SZ').
    ['2024-03-20T10:00:00Z', Date.UTC(2024, 2, 20, 10)],
    // A date alone (the Python SDK's own test) and a time without seconds.
    ['2016-11-17', Date.UTC(2016, 10, 17)],
    ['2016-11-17T10:05', Date.UTC(2016, 10, 17, 10, 5)],
    ['2016-11-17t10:05:00z', Date.UTC(2016, 10, 17, 10, 5)],
  ])('reads %s', (text, expected) => {
    expect(parseActivityTime(text)).toBe(expected);
  });

  it.each([
    'yesterday',
    '2024-02-30T00:00:00Z',
    '2024-13-01',
    '2024-05-01T24:00:00Z',
    '2024-05-01T10:60:00Z',
    '2024-05-01T10:00:00+25:00',
    '2024-05-01Z',
    '2024-5-1',
    '',
  ])('refuses %j', (text) => {
    expect(parseActivityTime(text)).toBeNaN();
  });
});

describe('parseActivityFilter', () => {
  it('reads the documented form with every field, in any order and case', () => {
    expect(
      parseActivityFilter(
        "eventTimestamp ge '2024-04-30T00:00:00Z' and eventTimestamp le '2024-05-01T00:00:00Z' and resourceGroupName eq 'MyGroup'",
        NOW,
      ),
    ).toEqual({
      from: Date.UTC(2024, 3, 30),
      to: Date.UTC(2024, 4, 1),
      resourceGroup: 'MyGroup',
    });
    expect(
      parseActivityFilter(
        "CorrelationID eq 'c-1' AND resourceUri eq '/subscriptions/s/x' and EVENTTIMESTAMP GE 2024-04-30T00:00:00 and resourceprovider eq 'Microsoft.Compute' and caller eq 'a@b.c' and status eq 'Failed'",
        NOW,
      ),
    ).toEqual({
      from: Date.UTC(2024, 3, 30),
      to: NOW,
      correlationId: 'c-1',
      resourceId: '/subscriptions/s/x',
      resourceProvider: 'Microsoft.Compute',
      caller: 'a@b.c',
      status: 'Failed',
    });
  });

  it('reads what az sends: bare times, resourceId, caller and status appended', () => {
    expect(
      parseActivityFilter(
        "eventTimestamp ge 2024-05-01T06:00:00.123456 and eventTimestamp le 2024-05-01T12:00:00.123456 and resourceId eq '/subscriptions/s/resourceGroups/g' and caller eq 'me@contoso.com' and status eq 'Succeeded'",
        NOW,
      ),
    ).toEqual({
      from: Date.UTC(2024, 4, 1, 6, 0, 0, 123),
      to: Date.UTC(2024, 4, 1, 12, 0, 0, 123),
      resourceId: '/subscriptions/s/resourceGroups/g',
      caller: 'me@contoso.com',
      status: 'Succeeded',
    });
    // Deployment progress: no end time, start 41 days back.
    expect(
      parseActivityFilter("eventTimestamp ge 2024-03-21T10:00:00Z and correlationId eq 'abc'", NOW),
    ).toEqual({ from: Date.UTC(2024, 2, 21, 10), to: NOW, correlationId: 'abc' });
  });

  it('reads quotes written twice inside a value and extra spaces', () => {
    expect(
      parseActivityFilter(
        "  eventTimestamp   ge '2024-05-01T00:00:00Z'   and caller eq 'o''brien and co'  ",
        NOW,
      ),
    ).toEqual({ from: Date.UTC(2024, 4, 1), to: NOW, caller: "o'brien and co" });
  });

  it('accepts a start exactly 90 days back and refuses one a millisecond earlier', () => {
    const start = new Date(NOW - 90 * DAY).toISOString();
    expect(parseActivityFilter(`eventTimestamp ge '${start}'`, NOW).from).toBe(NOW - 90 * DAY);
    const early = new Date(NOW - 90 * DAY - 1).toISOString();
    expect(armFailure(() => parseActivityFilter(`eventTimestamp ge '${early}'`, NOW))).toEqual({
      status: 400,
      code: 'BadRequest',
      message: expect.stringContaining('more than 90 days ago') as unknown,
    });
  });

  it.each([
    [undefined, 'is required'],
    ['   ', 'is required'],
    ["eventTimestamp le '2024-05-01T00:00:00Z'", 'start time (eventTimestamp ge) is required'],
    ["resourceGroupName eq 'g'", 'start time (eventTimestamp ge) is required'],
    ["eventTimestamp gt '2024-05-01T00:00:00Z'", "takes 'ge' or 'le', not 'gt'"],
    ["eventTimestamp ge 'soon'", "'soon' is not an ISO 8601 time"],
    ['eventTimestamp ge 2024-05-01 and eventTimestamp ge 2024-05-01', 'given twice'],
    ["eventTimestamp ge 2024-05-01 and resourceId eq 'a' and resourceUri eq 'b'", 'given twice'],
    [
      "eventTimestamp ge 2024-05-01 and eventChannels eq 'Admin, Operation'",
      'cannot be filtered on',
    ],
    ["eventTimestamp ge 2024-05-01 and resourceGroupName ne 'g'", "takes 'eq', not 'ne'"],
    ['eventTimestamp ge 2024-05-01 and resourceGroupName eq g', 'non-empty quoted string'],
    ["eventTimestamp ge 2024-05-01 and resourceGroupName eq ''", 'non-empty quoted string'],
    ["eventTimestamp ge 2024-05-01 or resourceGroupName eq 'g'", "joined with 'and'"],
    ["eventTimestamp ge 2024-05-01 and resourceGroupName eq 'g", 'not closed'],
    ["eventTimestamp ge 2024-05-01 and (resourceGroupName eq 'g')", 'property name is missing'],
    [
      "eventTimestamp ge 2024-05-01 and resourceGroupName eq 'g'and caller eq 'c'",
      'space is missing',
    ],
    ['eventTimestamp ge 2024-05-01 and', 'ends too early'],
    ['eventTimestamp ge', 'ends too early'],
    ["eventTimestamp ge '2024-05-02' and eventTimestamp le '2024-05-01'", 'after the end'],
    [`eventTimestamp ge 2024-05-01 and caller eq '${'x'.repeat(5000)}'`, 'longer than 4096'],
  ])('refuses %j with BadRequest', (filter, reason) => {
    const failure = armFailure(() => parseActivityFilter(filter, NOW));
    expect(failure.status).toBe(400);
    expect(failure.code).toBe('BadRequest');
    expect(failure.message).toContain(reason);
  });
});
