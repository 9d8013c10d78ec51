import { describe, expect, it } from 'vitest';
import { IMDS_NEWEST_VERSIONS } from '../errors/imds.js';
import {
  checkApiVersion,
  IMDS_API_VERSIONS,
  IMDS_VERSIONS_BODY,
  isSupportedApiVersion,
} from './api-versions.js';

describe('IMDS api-versions', () => {
  it('lists versions oldest first, and the error body names the three newest', () => {
    expect([...IMDS_API_VERSIONS].sort()).toEqual(IMDS_API_VERSIONS);
    expect(new Set(IMDS_API_VERSIONS).size).toBe(IMDS_API_VERSIONS.length);
    expect(IMDS_API_VERSIONS.slice(-3).reverse()).toEqual(IMDS_NEWEST_VERSIONS);
    expect(JSON.parse(IMDS_VERSIONS_BODY)).toEqual({ apiVersions: IMDS_API_VERSIONS });
  });

  it('accepts each category from its first version on', () => {
    expect(isSupportedApiVersion('identity', '2018-02-01')).toBe(true);
    expect(isSupportedApiVersion('identity', '2017-12-01')).toBe(false);
    expect(isSupportedApiVersion('instance', '2017-04-02')).toBe(true);
    expect(isSupportedApiVersion('instance', '2017-03-01')).toBe(false);
    expect(isSupportedApiVersion('attested', '2018-10-01')).toBe(true);
    expect(isSupportedApiVersion('attested', '2018-04-02')).toBe(false);
    expect(isSupportedApiVersion('identity', '2025-05-01')).toBe(false);
  });

  it('throws MissingApiVersion or InvalidApiVersion', () => {
    expect(() => checkApiVersion('identity', undefined)).toThrow(
      expect.objectContaining({ code: 'MissingApiVersion', status: 400 }),
    );
    expect(() => checkApiVersion('identity', '')).toThrow(
      expect.objectContaining({ code: 'MissingApiVersion' }),
    );
    expect(() => checkApiVersion('identity', '2018-02-01 ')).toThrow(
      expect.objectContaining({ code: 'InvalidApiVersion' }),
    );
    expect(checkApiVersion('identity', '2018-02-01')).toBe('2018-02-01');
  });
});
