// The legacy extension's wire formats: path, parameters, the forwarded IMDS query, the body and the errors.
import { describe, expect, it } from 'vitest';
import {
  isFormContentType,
  isLegacyError,
  isLegacyTokenPath,
  legacyErrorFromImds,
  legacyForwardTarget,
  legacyTokenRequest,
  metadataHeaderError,
  renderLegacyError,
  renderLegacyTokenBody,
  unknownSourceError,
} from './legacy-extension.js';
import { parseImdsQuery } from './query.js';

describe('isLegacyTokenPath', () => {
  it.each([
    ['/oauth2/token', true],
    ['/oauth2/token/', true],
    ['/OAuth2/Token', true],
    ['/oauth2/token2', false],
    ['/oauth2', false],
    ['/', false],
    ['/metadata/identity/oauth2/token', false],
    ['//oauth2/token', false],
  ])('%s → %s', (path, expected) => {
    expect(isLegacyTokenPath(path)).toBe(expected);
  });
});

describe('isFormContentType', () => {
  it('accepts the form type with parameters, in any case, and nothing else', () => {
    expect(isFormContentType('application/x-www-form-urlencoded')).toBe(true);
    expect(isFormContentType('Application/X-WWW-Form-Urlencoded; charset=utf-8')).toBe(true);
    expect(isFormContentType('application/json')).toBe(false);
    expect(isFormContentType('multipart/form-data; boundary=x')).toBe(false);
    expect(isFormContentType(undefined)).toBe(false);
  });
});

describe('legacyTokenRequest and legacyForwardTarget', () => {
  it('takes resource and the selectors from the query and the form, and nothing else', () => {
    const request = legacyTokenRequest(
      parseImdsQuery('object_id=o1&api-version=2099-01-01'),
      parseImdsQuery('resource=https%3A%2F%2Fvault.azure.net&client_id=c1&msi_res_id=&authority=x'),
    );
    expect(request).toEqual({
      resource: 'https://vault.azure.net',
      selectors: [
        ['client_id', 'c1'],
        ['object_id', 'o1'],
      ],
    });
    expect(isLegacyError(request) ? '' : legacyForwardTarget(request)).toBe(
      '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net&client_id=c1&object_id=o1',
    );
  });

  it('leaves an absent or empty resource out, so that IMDS reports it', () => {
    expect(legacyForwardTarget({ resource: undefined, selectors: [] })).toBe(
      '/metadata/identity/oauth2/token?api-version=2018-02-01',
    );
    expect(legacyForwardTarget({ resource: '', selectors: [] })).toBe(
      '/metadata/identity/oauth2/token?api-version=2018-02-01',
    );
  });

  it('percent-encodes ARM ids and spaces', () => {
    const id =
      '/subscriptions/s/resourceGroups/rg 1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a&b';
    expect(legacyForwardTarget({ resource: 'r', selectors: [['msi_res_id', id]] })).toBe(
      `/metadata/identity/oauth2/token?api-version=2018-02-01&resource=r&msi_res_id=${encodeURIComponent(id)}`,
    );
  });

  it('refuses a parameter given both in the query and in the body', () => {
    const request = legacyTokenRequest(parseImdsQuery('resource=a'), parseImdsQuery('resource=b'));
    expect(isLegacyError(request) && { status: request.status, error: request.error }).toEqual({
      status: 400,
      error: 'invalid_request',
    });
  });
});

describe('renderLegacyTokenBody', () => {
  it("keeps the extension's members, in its order, as strings, with refresh_token empty", () => {
    const body = renderLegacyTokenBody({
      access_token: 'eyJ.x.y',
      client_id: 'c',
      expires_in: '85753',
      expires_on: 1702488677,
      ext_expires_in: '86399',
      not_before: '1702401977',
      resource: 'https://management.azure.com/',
      token_type: 'Bearer',
    });
    expect(body).toBe(
      '{"access_token":"eyJ.x.y","refresh_token":"","expires_in":"85753","expires_on":"1702488677","not_before":"1702401977","resource":"https://management.azure.com/","token_type":"Bearer"}',
    );
  });

  it('refuses what is not a token body', () => {
    expect(renderLegacyTokenBody(undefined)).toBeUndefined();
    expect(renderLegacyTokenBody([])).toBeUndefined();
    expect(renderLegacyTokenBody({ error: 'x' })).toBeUndefined();
    expect(renderLegacyTokenBody({ access_token: 'a' })).toBeUndefined();
    expect(renderLegacyTokenBody({ access_token: '', expires_on: '1' })).toBeUndefined();
  });
});

describe('errors', () => {
  it("renders the extension's documented errors", () => {
    expect(renderLegacyError(metadataHeaderError())).toBe(
      '{"error":"bad_request_102","error_description":"Required metadata header not specified"}',
    );
    const unknown = unknownSourceError('/metadata/instance');
    expect(unknown.status).toBe(401);
    expect(renderLegacyError(unknown)).toBe(
      '{"error":"unknown_source","error_description":"Unknown Source /metadata/instance"}',
    );
  });

  it("passes IMDS's identity errors on and turns anything else into unknown", () => {
    const passed = legacyErrorFromImds(
      429,
      { error: 'invalid_request', error_description: 'Temporarily throttled, too many requests' },
      '1',
    );
    expect(passed).toMatchObject({
      status: 429,
      error: 'invalid_request',
      description: 'Temporarily throttled, too many requests',
      retryAfter: '1',
    });
    expect(legacyErrorFromImds(404, { error: 'Not found' }, undefined)).toMatchObject({
      status: 404,
      error: 'unknown',
    });
    expect(legacyErrorFromImds(200, undefined, undefined)).toMatchObject({
      status: 500,
      error: 'unknown',
    });
  });
});
