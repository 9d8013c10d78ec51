import { describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { isFederatedAssertion, matchFederatedCredential } from './federation.js';

const GH = 'https://token.actions.githubusercontent.com';
const AKS = 'https://westeurope.oic.prod-aks.azure.com/tenant/guid/';
const AUD = 'api://AzureADTokenExchange';
const credential = (issuer: string, subject: string, audience = AUD) => ({
  issuer,
  subject,
  audiences: [audience],
});

describe('matchFederatedCredential', () => {
  const credentials = [
    credential(GH, 'repo:Octo/App:ref:refs/heads/main'),
    credential(AKS, 'system:serviceaccount:apps:web'),
  ];
  const presented = (issuer: string, subject: string, audiences = [AUD]) => ({
    issuer,
    subject,
    audiences,
  });

  it('finds the credential that trusts issuer, audience and subject exactly', () => {
    expect(
      matchFederatedCredential(credentials, presented(AKS, 'system:serviceaccount:apps:web')),
    ).toBe(credentials[1]);
    // Kubernetes sends `aud` as an array: membership is enough.
    expect(
      matchFederatedCredential(
        credentials,
        presented(AKS, 'system:serviceaccount:apps:web', ['https://kubernetes.default.svc', AUD]),
      ),
    ).toBe(credentials[1]);
  });

  it('names the first field no credential matched: issuer, then audience, then subject', () => {
    expect(matchFederatedCredential([], presented(GH, 'x'))).toBe('federated_no_credential');
    // The trailing slash is part of the issuer, both ways.
    expect(matchFederatedCredential(credentials, presented(`${GH}/`, 'x'))).toBe(
      'federated_issuer',
    );
    expect(matchFederatedCredential(credentials, presented(AKS.slice(0, -1), 'x'))).toBe(
      'federated_issuer',
    );
    expect(
      matchFederatedCredential(
        credentials,
        presented(GH, 'repo:Octo/App:ref:refs/heads/main', ['https://github.com/Octo']),
      ),
    ).toBe('federated_audience');
    expect(matchFederatedCredential(credentials, presented(GH, 'repo:Octo/App:pull_request'))).toBe(
      'federated_subject',
    );
    expect(
      matchFederatedCredential(credentials, presented(GH, 'repo:octo/app:ref:refs/heads/main')),
    ).toBe('federated_subject_case');
  });

  it('compares the audience exactly too', () => {
    expect(
      matchFederatedCredential(
        credentials,
        presented(GH, 'repo:Octo/App:ref:refs/heads/main', ['API://AzureADTokenExchange']),
      ),
    ).toBe('federated_audience');
  });
});

describe('isFederatedAssertion', () => {
  const jwt = (claims: Record<string, unknown>): ReturnType<typeof decodeJwt> =>
    decodeJwt(
      `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.x`,
    );

  it('takes a token whose issuer is a URL as foreign, and a client id as self-signed', () => {
    expect(isFederatedAssertion(jwt({ iss: GH }))).toBe(true);
    expect(isFederatedAssertion(jwt({ iss: 'http://127.0.0.1:8443/t/' }))).toBe(true);
    expect(isFederatedAssertion(jwt({ iss: '6f1b2a3c-9d3f-4c8e-8c3b-2b0942f34d5e' }))).toBe(false);
    expect(isFederatedAssertion(jwt({ iss: 'https://' }))).toBe(false);
    expect(isFederatedAssertion(jwt({}))).toBe(false);
  });
});
