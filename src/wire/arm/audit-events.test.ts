import { describe, expect, it } from 'vitest';
import { armFailure } from '../../../test/fixtures/arm-failure.js';
import { parseAuditEventsQuery } from './audit-events.js';

const P = '3C7A0B52-8F0E-4A3B-9C1D-2E4F6A8B0C1D';

describe('parseAuditEventsQuery', () => {
  it('reads since, outcome, principalId (lower-cased) and kind, names in any case', () => {
    expect(
      parseAuditEventsQuery({
        Since: '2026-11-24T08:00:00Z',
        outcome: 'refused',
        PRINCIPALID: P,
        kind: 'imds.refused',
        'api-version': '2026-11-01',
      }),
    ).toEqual({
      since: Date.UTC(2026, 10, 24, 8),
      outcome: 'refused',
      principalId: P.toLowerCase(),
      kind: 'imds.refused',
    });
    expect(parseAuditEventsQuery({ since: '2026-11-24' })).toEqual({
      since: Date.UTC(2026, 10, 24),
    });
  });

  it('refuses each bad value on its own parameter', () => {
    const cases: [Record<string, string | string[]>, string][] = [
      [{ since: '2026-11-24T08:00' }, 'since'],
      [{ since: 'yesterday' }, 'since'],
      [{ outcome: 'denied' }, 'outcome'],
      [{ principalId: 'me' }, 'principalId'],
      [{ kind: 'a b' }, 'kind'],
      [{ kind: ['token', 'imds'] }, 'kind'],
      [{ kind: '' }, 'kind'],
    ];
    for (const [query, target] of cases) {
      expect(armFailure(() => parseAuditEventsQuery(query))).toMatchObject({
        status: 400,
        code: 'InvalidParameter',
        target,
      });
    }
  });

  it('shows at most 100 characters of a bad value', () => {
    const { message } = armFailure(() => parseAuditEventsQuery({ kind: 'x'.repeat(300) }));
    expect(message).toBe(
      `The value '${'x'.repeat(100)}…' of query parameter 'kind' is invalid. It must be 1-64 letters, digits, '.', '_' or '-'.`,
    );
  });
});
