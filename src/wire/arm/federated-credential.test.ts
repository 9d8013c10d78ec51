import { describe, expect, it } from 'vitest';
import { armFailure } from '../../../test/fixtures/arm-failure.js';
import { concurrentFederatedWrites, parseFederatedCredential } from './federated-credential.js';

const properties = {
  issuer: 'https://token.actions.githubusercontent.com',
  subject: 'repo:octo/app:ref:refs/heads/main',
  audiences: ['api://AzureADTokenExchange'],
};

describe('parseFederatedCredential', () => {
  it('reads what az and the SDKs send', () => {
    expect(parseFederatedCredential({ properties })).toEqual(properties);
  });

  it.each([
    [{}, 'Federated Identity Credential from HTTP body has empty properties'],
    [
      { properties: { ...properties, issuer: '  ' } },
      "must specify 'issuer', 'subject' and 'audience'",
    ],
    [
      { properties: { ...properties, subject: 7 } },
      "must specify 'issuer', 'subject' and 'audience'",
    ],
    [
      { properties: { ...properties, audiences: 'api://x' } },
      "must specify 'issuer', 'subject' and 'audience'",
    ],
    [{ properties: { ...properties, audiences: ['a', 'b'] } }, 'exactly one audience'],
    [{ properties: { ...properties, issuer: 'https://issuer/?x=1' } }, 'not a valid https URL'],
    [{ properties: { ...properties, issuer: 'not a url' } }, 'not a valid https URL'],
    [{ properties: { ...properties, audiences: ['a'.repeat(601)] } }, 'longer than 600'],
  ])('refuses %j with 400', (body, text) => {
    const failure = armFailure(() => parseFederatedCredential(body));
    expect(failure.status).toBe(400);
    expect(failure.message).toContain(text);
  });
});

describe('concurrentFederatedWrites', () => {
  it('is 409 with Azure’s code, naming the identity in lower case', () => {
    expect(
      armFailure(() => {
        throw concurrentFederatedWrites(
          '/subscriptions/S/resourceGroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/Id',
        );
      }),
    ).toMatchObject({
      status: 409,
      code: 'ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity',
      message: expect.stringContaining(
        "identity '/subscriptions/s/resourcegroups/rg/providers/microsoft.managedidentity/userassignedidentities/id'",
      ) as unknown,
    });
  });
});
