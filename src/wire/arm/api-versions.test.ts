// Tests of api-version checks: what real clients send passes, the rest fails with ARM's own errors.
import { describe, expect, it } from 'vitest';
import { armFailure } from '../../../test/fixtures/arm-failure.js';

import {
  API_VERSIONS,
  checkApiVersion as checkAgainst,
  readApiVersion,
  versionsOf,
  type ApiVersionQuery,
} from './api-versions.js';

/** Checks `query` against the listed versions of `type`. */
const checkApiVersion = (
  type: string,
  query: ApiVersionQuery,
  options?: Parameters<typeof checkAgainst>[3],
): string => checkAgainst(type, versionsOf(type), query, options);

describe('checkApiVersion', () => {
  it.each([
    // What the official clients send (CLIENTS.md section 4, azure-sdk-for-js sources).
    ['Microsoft.ManagedIdentity/userAssignedIdentities', '2024-11-30'],
    ['Microsoft.Compute/virtualMachines', '2026-03-01'],
    ['Microsoft.Compute/virtualMachines/extensions', '2025-11-01'],
    ['Microsoft.Resources/resourceGroups', '2024-11-01'],
    ['Microsoft.Authorization/roleAssignments', '2022-04-01'],
    ['Microsoft.Authorization/roleDefinitions', '2022-05-01-preview'],
    ['Microsoft.KeyVault/vaults', '2024-11-01'],
    // The legacy identityIds version and the first dictionary one.
    ['Microsoft.Compute/virtualMachines', '2017-12-01'],
    ['Microsoft.Compute/virtualMachineScaleSets', '2018-06-01'],
  ])('accepts %s %s', (type, version) => {
    expect(checkApiVersion(type, { 'api-version': version })).toBe(version);
    expect(checkApiVersion(type, new URLSearchParams({ 'api-version': version }))).toBe(version);
  });

  it('matches the version in any case, returning the listed spelling', () => {
    expect(
      checkApiVersion('Microsoft.Authorization/roleDefinitions', {
        'api-version': '2022-05-01-PREVIEW',
      }),
    ).toBe('2022-05-01-preview');
  });

  it.each([{}, { 'api-version': '' }, { 'api-version': [] }, { other: '1' }])(
    'answers MissingApiVersionParameter for %j',
    (query) => {
      expect(armFailure(() => checkApiVersion('Microsoft.Compute/virtualMachines', query))).toEqual(
        {
          status: 400,
          code: 'MissingApiVersionParameter',
          message: 'The api-version query parameter (?api-version=) is required for all requests.',
        },
      );
    },
  );

  it('answers InvalidApiVersionParameter for ARM types, listing its versions without spaces', () => {
    const failure = armFailure(() =>
      checkApiVersion('Microsoft.Resources/resourceGroups', { 'api-version': '2016-03-30' }),
    );
    expect(failure.status).toBe(400);
    expect(failure.code).toBe('InvalidApiVersionParameter');
    expect(failure.message).toMatch(
      /^The api-version '2016-03-30' is invalid\. The supported versions are '2025-04-01,2025-03-01,2024-11-01,.*,2014-02-26,2014-04'\.$/,
    );
  });

  it('answers NoRegisteredProviderFound for provider types, naming location, versions and locations', () => {
    const failure = armFailure(() =>
      checkApiVersion(
        'Microsoft.ManagedIdentity/userAssignedIdentities',
        { 'api-version': '2019-01-01' },
        { location: 'westus', locations: ['westus', 'eastus'] },
      ),
    );
    expect(failure).toEqual({
      status: 400,
      code: 'NoRegisteredProviderFound',
      message:
        "No registered resource provider found for location 'westus' and API version '2019-01-01' for type 'userAssignedIdentities'. The supported api-versions are '2015-08-31-preview, 2018-11-30, 2021-09-30-preview, 2022-01-31-preview, 2023-01-31, 2023-07-31-preview, 2024-11-30, 2025-01-31-preview, 2025-05-31-preview, 2026-04-30, 2026-05-31'. The supported locations are 'westus, eastus'.",
    });
  });

  it('names a child type without its namespace and defaults to no location', () => {
    const failure = armFailure(() =>
      checkApiVersion('Microsoft.Compute/virtualMachines/extensions', {
        'api-version': '2018-06-30',
      }),
    );
    expect(failure.message).toMatch(
      /^No registered resource provider found for location '' and API version '2018-06-30' for type 'virtualMachines\/extensions'\. The supported api-versions are '2017-12-01, 2018-06-01, .*'\. The supported locations are ''\.$/,
    );
  });

  it('answers InvalidResourceType (404) for Authorization types, as ARM hosts them itself', () => {
    expect(
      armFailure(() =>
        checkApiVersion('Microsoft.Authorization/roleAssignments', {
          'api-version': '2020-10-01-preview',
        }),
      ),
    ).toEqual({
      status: 404,
      code: 'InvalidResourceType',
      message:
        "The resource type 'roleAssignments' could not be found in the namespace 'Microsoft.Authorization' for api version '2020-10-01-preview'. The supported api-versions are '2015-07-01,2018-01-01-preview,2018-09-01-preview,2020-04-01-preview,2022-04-01'.",
    });
  });

  it('joins a repeated api-version with a comma, which no type accepts', () => {
    const failure = armFailure(() =>
      checkApiVersion(
        'Microsoft.Compute/virtualMachines',
        new URLSearchParams('api-version=2024-07-01&api-version=2024-07-01'),
      ),
    );
    expect(failure.code).toBe('NoRegisteredProviderFound');
    expect(failure.message).toContain("API version '2024-07-01,2024-07-01'");
  });
});

describe('readApiVersion', () => {
  it.each([
    [{ 'api-version': '2024-07-01' }, '2024-07-01'],
    [{ 'API-Version': '2024-07-01' }, '2024-07-01'],
    [{ 'api-version': ['a', 'b'] }, 'a,b'],
    [{ 'api-version': ['', 'b'] }, 'b'],
    [{ 'api-version': undefined }, undefined],
  ])('%j reads as %j', (query, expected) => {
    expect(readApiVersion(query)).toBe(expected);
  });
});

describe('API_VERSIONS', () => {
  it('lists every version once', () => {
    for (const { versions } of Object.values(API_VERSIONS)) {
      expect(new Set(versions.map((v) => v.toLowerCase())).size).toBe(versions.length);
    }
  });
});
