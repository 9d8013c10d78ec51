// Tests of ARM envelopes: member order, paging links, body parsing, tags and tracing headers.
import { describe, expect, it } from 'vitest';
import { armFailure } from '../../../test/fixtures/arm-failure.js';

import {
  armResource,
  armTraceHeaders,
  decodeSkipToken,
  encodeSkipToken,
  listPage,
  parseJsonBody,
  parseJsonObject,
  parseListQuery,
  validateTags,
} from './envelope.js';

const ID =
  '/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1';

describe('armResource', () => {
  it('writes members in ARM order and leaves absent ones out', () => {
    const body = armResource({
      properties: { clientId: 'c' },
      systemData: { createdBy: 'me' },
      tags: { a: 'b' },
      location: 'westus',
      type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
      name: 'id1',
      id: ID,
    });
    expect(Object.keys(body)).toEqual([
      'id',
      'name',
      'type',
      'location',
      'tags',
      'properties',
      'systemData',
    ]);
    const bare = armResource({
      id: ID,
      name: 'id1',
      type: 't',
      properties: {},
      location: undefined,
    });
    expect(JSON.stringify(bare)).toBe(`{"id":"${ID}","name":"id1","type":"t","properties":{}}`);
  });
});

describe('listPage', () => {
  const url =
    'https://arm.example/subscriptions/s/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version=2024-11-30';

  it('has no nextLink on the last page', () => {
    expect(listPage([1, 2], { requestUrl: url })).toEqual({ value: [1, 2] });
  });

  it('builds nextLink from the request URL, keeping api-version and replacing an old token', () => {
    const token = encodeSkipToken('cursor:42');
    const page = listPage([1], {
      requestUrl: `${url}&%24skiptoken=old&%24top=5`,
      skipToken: token,
    });
    const next = new URL(page.nextLink ?? '');
    expect(next.pathname).toBe(new URL(url).pathname);
    expect(next.searchParams.get('api-version')).toBe('2024-11-30');
    expect(next.searchParams.get('$top')).toBe('5');
    expect(next.searchParams.getAll('$skipToken')).toEqual([token]);
    expect(next.searchParams.has('$skiptoken')).toBe(false);
    expect(decodeSkipToken(next.searchParams.get('$skipToken') ?? '')).toBe('cursor:42');
  });

  it('refuses a skip token Tessera did not make', () => {
    expect(armFailure(() => decodeSkipToken('not a token!')).code).toBe('InvalidParameter');
    expect(armFailure(() => decodeSkipToken('A')).code).toBe('InvalidParameter');
  });
});

describe('parseListQuery', () => {
  it.each([
    [{}, {}],
    [{ $top: undefined }, {}],
    [{ $top: '10' }, { top: 10 }],
    [
      { $TOP: '1000', $skiptoken: 'abc' },
      { top: 1000, skipToken: 'abc' },
    ],
    [new URLSearchParams('$skipToken=xyz&api-version=1'), { skipToken: 'xyz' }],
  ])('reads %j', (query, expected) => {
    expect(parseListQuery(query)).toEqual(expected);
  });

  it.each([
    { $top: '0' },
    { $top: '1001' },
    { $top: '-1' },
    { $top: '1.5' },
    { $top: 'ten' },
    { $top: ['1', '2'] },
    { $skipToken: '' },
  ])('refuses %j with InvalidParameter', (query) => {
    expect(armFailure(() => parseListQuery(query))).toMatchObject({
      status: 400,
      code: 'InvalidParameter',
    });
  });
});

describe('parseJsonBody', () => {
  it('parses JSON and treats a blank body as absent unless required', () => {
    expect(parseJsonBody('{"a":[1,true,null]}')).toEqual({ a: [1, true, null] });
    expect(parseJsonBody('  \n')).toBeUndefined();
    expect(armFailure(() => parseJsonBody('', { required: true }))).toEqual({
      status: 400,
      code: 'InvalidRequestContent',
      message:
        "The request content was invalid and could not be deserialized: 'The request body is empty.'.",
    });
  });

  it("quotes Json.NET's sentence with path, line and position", () => {
    expect(armFailure(() => parseJsonBody('{ "count": "abc" '))).toEqual({
      status: 400,
      code: 'InvalidRequestContent',
      message:
        "The request content was invalid and could not be deserialized: 'Unexpected end when deserializing object. Path 'count', line 1, position 17.'.",
    });
  });

  it('requires an object where ARM deserializes a resource', () => {
    expect(parseJsonObject('{"location":"westus"}')).toEqual({ location: 'westus' });
    for (const text of ['[]', '"x"', '1', 'null', '']) {
      expect(armFailure(() => parseJsonObject(text)).code).toBe('InvalidRequestContent');
    }
  });
});

describe('validateTags', () => {
  it('accepts 50 tags at the length limits', () => {
    const tags = Object.fromEntries(
      Array.from({ length: 50 }, (_, i) => [
        `${String(i).padStart(2, '0')}${'n'.repeat(510)}`,
        'v'.repeat(256),
      ]),
    );
    expect(validateTags(tags)).toEqual(tags);
  });

  it('refuses a 51st tag', () => {
    const tags = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, 'v']));
    expect(armFailure(() => validateTags(tags))).toMatchObject({ status: 400, code: 'InvalidTag' });
  });

  it("refuses a long value with ARM's InvalidTagValueLength text", () => {
    const value = 'v'.repeat(257);
    expect(armFailure(() => validateTags({ key: value }))).toEqual({
      status: 400,
      code: 'InvalidTagValueLength',
      message: `Tag value too large.  Following tag value '${value}' exceeded the maximum length. Maximum allowed length for tag value - '256' characters.`,
    });
  });

  it.each([
    [{ ['n'.repeat(513)]: 'v' }, 'InvalidTagNameLength'],
    [{ 'a/b': 'v' }, 'InvalidTagNameCharacters'],
    [{ 'a?': 'v' }, 'InvalidTagNameCharacters'],
    [{ 'a\u0001': 'v' }, 'InvalidTagNameCharacters'],
    [{ '': 'v' }, 'InvalidTag'],
    [{ a: 1 }, 'InvalidTag'],
    [['a'], 'InvalidTag'],
    [null, 'InvalidTag'],
  ])('refuses %j with %s', (tags, code) => {
    expect(armFailure(() => validateTags(tags))).toMatchObject({ status: 400, code });
  });
});

describe('armTraceHeaders', () => {
  const ids = ['11111111-1111-1111-1111-111111111111', '22222222-2222-2222-2222-222222222222'];
  const next = () => {
    const id = ids.shift();
    if (id === undefined) throw new Error('out of ids');
    return id;
  };

  it('uses one new id for request and correlation when the client sent none', () => {
    expect(armTraceHeaders({}, next)).toEqual({
      'x-ms-request-id': '11111111-1111-1111-1111-111111111111',
      'x-ms-correlation-request-id': '11111111-1111-1111-1111-111111111111',
    });
  });

  it("keeps the client's correlation id and echoes its client request id", () => {
    expect(
      armTraceHeaders(
        {
          'X-MS-Correlation-Request-Id': 'corr-1',
          'x-ms-client-request-id': ['client-1', 'client-2'],
        },
        () => 'new-id',
      ),
    ).toEqual({
      'x-ms-request-id': 'new-id',
      'x-ms-correlation-request-id': 'corr-1',
      'x-ms-client-request-id': 'client-1',
    });
  });

  it('ignores values that could not be echoed safely', () => {
    expect(
      armTraceHeaders(
        {
          'x-ms-correlation-request-id': 'a\r\nSet-Cookie: x',
          'x-ms-client-request-id': 'x'.repeat(257),
        },
        () => 'new-id',
      ),
    ).toEqual({ 'x-ms-request-id': 'new-id', 'x-ms-correlation-request-id': 'new-id' });
  });
});
