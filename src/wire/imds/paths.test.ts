import { describe, expect, it } from 'vitest';
import { matchImdsPath } from './paths.js';

describe('matchImdsPath', () => {
  it.each([
    ['/metadata/identity/oauth2/token', 'token'],
    ['/metadata/identity/oauth2/token/', 'token'],
    ['//metadata/identity/oauth2/token/', 'token'],
    ['/MetaData/identity/oauth2/token', 'token'],
    ['/metadata/identity/info', 'info'],
    ['/metadata/identity/info/', 'info'],
    ['/metadata/versions', 'versions'],
    ['/metadata/attested/document', 'attested'],
    ['/metadata/instance', 'instance'],
    ['/metadata/instance/', 'instance'],
    ['/metadata/identity/credential', 'probe'],
    ['/metadata/identity/getPlatformMetadata', 'probe'],
    ['/metadata/identity/issuecredential/', 'probe'],
    ['/metadata/identity/OAuth2/token', 'identityOther'],
    ['/metadata/identity', 'identityOther'],
    ['/metadata', 'unknown'],
    ['/metadataX/identity/oauth2/token', 'unknown'],
    ['///metadata/identity/oauth2/token', 'unknown'],
    ['/tenant-a/metadata/identity/oauth2/token', 'unknown'],
    ['/metadata/scheduledevents', 'unknown'],
    ['http://169.254.169.254/metadata/instance', 'unknown'],
  ])('%s → %s', (path, endpoint) => {
    expect(matchImdsPath(path).endpoint).toBe(endpoint);
  });

  it('splits route filters below /metadata/instance', () => {
    expect(matchImdsPath('/metadata/instance/network/interface/0/').segments).toEqual([
      'network',
      'interface',
      '0',
    ]);
    expect(matchImdsPath('/metadata/instance//compute').segments).toEqual(['compute']);
    expect(matchImdsPath('/metadata/instance').segments).toEqual([]);
  });
});
