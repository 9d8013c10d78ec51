// Tests of the discovery documents: endpoints, what MSAL requires, and JWKS publication rules.
import { describe, expect, it } from 'vitest';

import {
  instanceDiscoveryResponse,
  jwksDocument,
  openIdConfigurationV1,
  openIdConfigurationV2,
} from './discovery.js';

const TENANT = '90a38eda-4006-4dd5-924c-6ca55cacc14d';
const BASE = 'https://login.tessera.test:8443/';

// msal-common `isOpenIdConfigResponse`, old (4.x) and current (15.x) forms.
const MSAL_REQUIRED = [
  'authorization_endpoint',
  'token_endpoint',
  'issuer',
  'end_session_endpoint',
  'jwks_uri',
];

describe('openIdConfigurationV1', () => {
  const doc = openIdConfigurationV1({
    baseUrl: BASE,
    tenantId: TENANT,
    issuer: `https://sts.tessera.test/${TENANT}/`,
  });

  it('puts the v1 endpoints under the tenant', () => {
    expect(doc).toEqual({
      token_endpoint: `https://login.tessera.test:8443/${TENANT}/oauth2/token`,
      token_endpoint_auth_methods_supported: [
        'client_secret_post',
        'private_key_jwt',
        'client_secret_basic',
      ],
      jwks_uri: `https://login.tessera.test:8443/${TENANT}/discovery/keys`,
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'token id_token', 'token'],
      issuer: `https://sts.tessera.test/${TENANT}/`,
      authorization_endpoint: `https://login.tessera.test:8443/${TENANT}/oauth2/authorize`,
      end_session_endpoint: `https://login.tessera.test:8443/${TENANT}/oauth2/logout`,
      tenant_region_scope: null,
      cloud_instance_name: 'login.tessera.test:8443',
    });
  });

  it('keeps the member order of Entra (token_endpoint first, issuer after the lists)', () => {
    const keys = Object.keys(doc);
    expect(keys[0]).toBe('token_endpoint');
    expect(keys.indexOf('issuer')).toBeGreaterThan(keys.indexOf('response_types_supported'));
  });

  it('has every member msal-node requires of authorityMetadata', () => {
    for (const member of MSAL_REQUIRED) expect(Object.hasOwn(doc, member)).toBe(true);
  });
});

describe('openIdConfigurationV2', () => {
  it('puts the v2 endpoints under the tenant and honours region and cloud name', () => {
    const doc = openIdConfigurationV2({
      baseUrl: 'https://login.tessera.test',
      tenantId: TENANT,
      issuer: `https://login.tessera.test/${TENANT}/v2.0`,
      tenantRegionScope: 'EU',
      cloudInstanceName: 'tessera.test',
    });
    expect(doc).toMatchObject({
      token_endpoint: `https://login.tessera.test/${TENANT}/oauth2/v2.0/token`,
      jwks_uri: `https://login.tessera.test/${TENANT}/discovery/v2.0/keys`,
      authorization_endpoint: `https://login.tessera.test/${TENANT}/oauth2/v2.0/authorize`,
      end_session_endpoint: `https://login.tessera.test/${TENANT}/oauth2/v2.0/logout`,
      issuer: `https://login.tessera.test/${TENANT}/v2.0`,
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      tenant_region_scope: 'EU',
      cloud_instance_name: 'tessera.test',
    });
    for (const member of MSAL_REQUIRED) expect(Object.hasOwn(doc, member)).toBe(true);
  });
});

describe('jwksDocument', () => {
  const key = { kty: 'RSA', use: 'sig', kid: 'k1', x5t: 'k1', n: 'AQAB', e: 'AQAB' };

  it('publishes the keys as given on the v1 endpoint', () => {
    expect(JSON.stringify(jwksDocument([key]))).toBe(
      '{"keys":[{"kty":"RSA","use":"sig","kid":"k1","x5t":"k1","n":"AQAB","e":"AQAB"}]}',
    );
  });

  it('adds issuer last to every key on the v2 endpoint', () => {
    const doc = jwksDocument([key, { ...key, kid: 'k2' }], { issuer: 'https://iss/v2.0' });
    expect(doc.keys.map((k) => Object.keys(k).at(-1))).toEqual(['issuer', 'issuer']);
    expect(doc.keys[1]).toMatchObject({ kid: 'k2', issuer: 'https://iss/v2.0' });
  });

  it('refuses to publish private key material', () => {
    expect(() => jwksDocument([{ ...key, d: 'secret' }])).toThrow(TypeError);
    expect(() => jwksDocument([{ kty: 'oct', k: 'c2VjcmV0' }])).toThrow(/'k'/);
  });
});

describe('instanceDiscoveryResponse', () => {
  it('describes the Tessera host as its own cloud for msal-node cloudDiscoveryMetadata', () => {
    expect(instanceDiscoveryResponse({ baseUrl: BASE, tenantId: TENANT })).toEqual({
      tenant_discovery_endpoint: `https://login.tessera.test:8443/${TENANT}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [
        {
          preferred_network: 'login.tessera.test:8443',
          preferred_cache: 'login.tessera.test:8443',
          aliases: ['login.tessera.test:8443'],
        },
      ],
    });
  });
});
