import { describe, expect, it } from 'vitest';
import { resolveOperation } from '../provider.js';
import { parseTarget } from '../../../wire/arm/target.js';
import { ACTIVITY_LOG_READ_ACTION, activityLog } from './activity-log.js';
import { ARM_REGISTRY } from './index.js';

describe('the Activity Log declaration', () => {
  it('is found at a subscription’s eventtypes/management/values in any case', () => {
    const target = parseTarget(
      '/subscriptions/00000000-0000-0000-0000-000000000001/providers/microsoft.insights/EventTypes/management/values',
    )!;
    expect(ARM_REGISTRY.get(target.type)).toBe(activityLog);
    expect(target).toMatchObject({
      collection: true,
      names: ['management'],
      scopeKind: 'subscription',
    });
    expect(activityLog.listAt).toEqual(['subscription']);
    expect(activityLog.placement).toEqual([]);
  });

  it('reads with eventtypes/values/read at the subscription, and nothing else', () => {
    const list = resolveOperation(activityLog, 'GET', true);
    expect(list).toMatchObject({
      action: ACTIVITY_LOG_READ_ACTION,
      authorizeAt: 'scope',
      records: false,
    });
    expect(ACTIVITY_LOG_READ_ACTION).toBe('Microsoft.Insights/eventtypes/values/read');
    expect(resolveOperation(activityLog, 'POST', true)).toBeUndefined();
  });

  it('accepts 2015-04-01, the version az monitor activity-log list sends', () => {
    expect(activityLog.apiVersions.versions).toEqual(['2015-04-01']);
  });
});
