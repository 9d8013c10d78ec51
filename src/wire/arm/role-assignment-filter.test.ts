import { describe, expect, it } from 'vitest';
import { armFailure } from '../../../test/fixtures/arm-failure.js';
import { parseAssignmentFilter } from './role-assignment-filter.js';

const P = '3c7a0b52-8f0e-4a3b-9c1d-2e4f6a8b0c1d';

describe('parseAssignmentFilter', () => {
  it('reads atScope(), principalId eq and assignedTo(), in any case, alone or with atScope()', () => {
    expect(parseAssignmentFilter(undefined)).toEqual({ atScope: false });
    expect(parseAssignmentFilter('atscope()')).toEqual({ atScope: true });
    expect(parseAssignmentFilter(`PrincipalId eq '${P}'`)).toEqual({
      atScope: false,
      principalId: P,
    });
    expect(parseAssignmentFilter(`atScope() AND assignedTo('${P}')`)).toEqual({
      atScope: true,
      principalId: P,
    });
  });

  it('refuses atScope() with principalId eq, a term twice, and any other filter', () => {
    for (const filter of [
      `atScope() and principalId eq '${P}'`,
      'atScope() and atScope()',
      `assignedTo('${P}') and principalId eq '${P}'`,
      "roleDefinitionId eq 'x'",
    ]) {
      expect(armFailure(() => parseAssignmentFilter(filter))).toMatchObject({
        status: 400,
        code: 'UnsupportedQuery',
        message: `The filter '${filter}' is not supported. Supported filters are either 'atScope()' or 'principalId eq '{value}' or assignedTo('{value}')'.`,
      });
    }
  });
});
