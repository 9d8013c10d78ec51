import { describe, expect, it } from 'vitest';
import type { DeploymentRecord } from '../../core/deployments/record.js';
import {
  deploymentActive,
  deploymentDuration,
  deploymentTimestamp,
  renderOperationStatus,
} from './deployment.js';

const ID = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Resources/deployments/d';

const record = (over: Partial<DeploymentRecord>): DeploymentRecord => ({
  state: 'Running',
  mode: 'Incremental',
  correlationId: 'c',
  asyncOperationId: '08586061430124438587',
  startedAt: 0,
  template: {},
  templateHash: '1',
  parameters: {},
  outputResources: [],
  resources: [],
  operations: [],
  ...over,
});

describe('deployments on the wire', () => {
  it('writes instants with seven fractional digits and durations as .NET TimeSpans in ISO 8601', () => {
    expect(deploymentTimestamp(Date.UTC(2026, 11, 7, 8, 1, 2, 345))).toBe(
      '2026-12-07T08:01:02.3450000Z',
    );
    expect(deploymentDuration(0)).toBe('PT0S');
    expect(deploymentDuration(1234)).toBe('PT1.234S');
    expect(deploymentDuration(123_500)).toBe('PT2M3.5S');
    expect(deploymentDuration(3_600_000)).toBe('PT1H');
  });

  it('answers the async status as the pollers read it: Running until final, the failure with its details', () => {
    expect(renderOperationStatus(ID, record({ state: 'Accepted' }))).toEqual({ status: 'Running' });
    const failed = renderOperationStatus(
      ID,
      record({
        state: 'Failed',
        operations: [
          {
            operationId: 'A',
            kind: 'Create',
            state: 'Failed',
            resourceId: 'r',
            resourceType: 't',
            resourceName: 'n',
            startedAt: 0,
            error: { code: 'Conflict', message: 'no' },
          },
        ],
      }),
    );
    expect(failed).toEqual({
      status: 'Failed',
      error: {
        code: 'DeploymentFailed',
        target: ID,
        message:
          'At least one resource deployment operation failed. Please list deployment operations for details. Please see https://aka.ms/arm-deployment-operations for usage details.',
        details: [{ code: 'Conflict', message: 'no' }],
      },
    });
  });

  it("quotes instants in DeploymentActive as .NET's general pattern", () => {
    const error = deploymentActive('d', Date.UTC(2020, 3, 4, 2, 17, 7));
    expect(error.message).toBe(
      "Unable to edit or replace deployment 'd': previous deployment from '4/4/2020 2:17:07 AM' is still active (expiration time is '4/11/2020 2:17:07 AM'). Please see https://aka.ms/arm-deploy for usage details.",
    );
  });
});
