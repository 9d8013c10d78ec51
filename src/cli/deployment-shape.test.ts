// Unit tests of az's shapes for deployments: the Python SDK's models, its timestamps and JSON, az's error texts (expected texts are az 2.45's own output).
import { describe, expect, it } from 'vitest';
import {
  azHttpErrorMessage,
  azPreflightMessage,
  azShape,
  azWhatIfResult,
  pythonJson,
  pythonJsonIndented,
  pythonTimestamp,
  splitResourceId,
} from './deployment-shape.js';

const SUB = '0b1f6471-1bf0-4dda-aec3-cb9272f09590';

describe('pythonTimestamp', () => {
  it("prints ARM's instants as Python's isoformat() does", () => {
    expect(pythonTimestamp('2026-12-07T09:06:26.0010000Z')).toBe(
      '2026-12-07T09:06:26.001000+00:00',
    );
    expect(pythonTimestamp('2026-12-07T09:06:26.1234567Z')).toBe(
      '2026-12-07T09:06:26.123456+00:00',
    );
    expect(pythonTimestamp('2026-12-07T09:06:26.0000000Z')).toBe('2026-12-07T09:06:26+00:00');
    expect(pythonTimestamp('2026-12-07T09:06:26Z')).toBe('2026-12-07T09:06:26+00:00');
    expect(pythonTimestamp('2026-12-07T09:06:26.5+02:00')).toBe('2026-12-07T09:06:26.500000+02:00');
    expect(pythonTimestamp('yesterday')).toBe('yesterday');
  });
});

describe('azShape', () => {
  it('gives every field of the model, null when absent, and keeps unknown ones', () => {
    const shaped = azShape(
      {
        id: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Resources/deployments/d`,
        name: 'd',
        type: 'Microsoft.Resources/deployments',
        extra: 1,
        properties: {
          provisioningState: 'Failed',
          timestamp: '2026-01-02T03:04:05.0000000Z',
          providers: [{ namespace: 'A.B', resourceTypes: [{ resourceType: 'c', locations: [] }] }],
          dependencies: [{ id: 'x', dependsOn: [{ id: 'y' }] }],
          error: { code: 'DeploymentFailed', message: 'm', details: [{ code: 'C', message: 'n' }] },
        },
      },
      'DeploymentExtended',
    ) as Record<string, Record<string, unknown>>;
    expect(shaped.extra).toBe(1);
    expect(shaped.location).toBeNull();
    expect(shaped.tags).toBeNull();
    expect(shaped.properties).toMatchObject({
      correlationId: null,
      debugSetting: null,
      outputs: null,
      templateLink: null,
      validatedResources: null,
      timestamp: '2026-01-02T03:04:05+00:00',
      providers: [
        {
          id: null,
          namespace: 'A.B',
          registrationState: null,
          resourceTypes: [{ resourceType: 'c', locations: [], aliases: null, apiVersions: null }],
        },
      ],
      dependencies: [
        {
          id: 'x',
          resourceName: null,
          dependsOn: [{ id: 'y', resourceType: null, resourceName: null }],
        },
      ],
      error: {
        code: 'DeploymentFailed',
        target: null,
        additionalInfo: null,
        details: [{ code: 'C', message: 'n', target: null, details: null, additionalInfo: null }],
      },
    });
  });

  it("lifts a what-if answer's properties.changes, as the SDK's WhatIfOperationResult", () => {
    const shaped = azWhatIfResult({
      status: 'Succeeded',
      properties: {
        changes: [
          {
            resourceId: '/r',
            changeType: 'Create',
            delta: [{ path: 'a', propertyChangeType: 'Create' }],
          },
        ],
      },
    });
    expect(shaped).toEqual({
      status: 'Succeeded',
      error: null,
      changes: [
        {
          resourceId: '/r',
          changeType: 'Create',
          unsupportedReason: null,
          before: null,
          after: null,
          delta: [
            { path: 'a', propertyChangeType: 'Create', before: null, after: null, children: null },
          ],
        },
      ],
    });
  });
});

describe("az's error texts", () => {
  it('writes JSON as Python does: spaced separators, non-ASCII escaped', () => {
    expect(pythonJson({ a: [1, 'é', null], b: { c: true }, ü: '😀' })).toBe(
      '{"a": [1, "\\u00e9", null], "b": {"c": true}, "\\u00fc": "\\ud83d\\ude00"}',
    );
    expect(pythonJsonIndented({ z: 1, a: ['é'] })).toBe(
      '{\n  "z": 1,\n  "a": [\n    "\\u00e9"\n  ]\n}',
    );
  });

  it('builds the message of a refused validation as az does, details as inner errors', () => {
    const error = {
      code: 'InvalidTemplateDeployment',
      message: "The template deployment 'd' is not valid — see details.",
      details: [
        {
          code: 'ValidationForResourceFailed',
          message: 'Validation failed.',
          details: [{ code: 'Inner', message: 'deep', target: 't' }],
        },
        { code: 'Second', message: 'two' },
      ],
      additionalInfo: [{ type: 'TemplateViolation', info: { lineNumber: 1 } }],
    };
    // az 2.45's _build_http_response_error_message for this body.
    expect(azHttpErrorMessage(error)).toBe(
      '{"code": "InvalidTemplateDeployment", "message": "The template deployment \'d\' is not valid \\u2014 see details.", "additionalInfo": [{"type": "TemplateViolation", "info": {"lineNumber": 1}}]}\n\nInner Errors: \n{"code": "ValidationForResourceFailed", "message": "Validation failed."}\n\nInner Errors: \n{"code": "Inner", "message": "deep", "target": "t"}\n\nInner Errors: \n{"code": "Second", "message": "two"}',
    );
  });

  it("builds an answer's error as code - message lines, depth first", () => {
    const error = {
      code: 'A',
      message: 'top',
      details: [
        { code: 'B', message: 'b', details: [{ code: 'C', message: 'c' }] },
        { code: 'D', message: 'd', details: [] },
      ],
    };
    expect(azPreflightMessage(error)).toBe('A - top\nB - b\nC - c\nD - d');
  });
});

describe('splitResourceId', () => {
  it("splits an id into az's scope and relative id", () => {
    expect(
      splitResourceId(`/subscriptions/${SUB.toUpperCase()}/resourceGroups/rg/providers/A.B/c/d`),
    ).toEqual({
      scope: `/subscriptions/${SUB}/resourceGroups/rg`,
      relative: 'A.B/c/d',
    });
    expect(splitResourceId(`/subscriptions/${SUB}/resourceGroups/rg`)).toEqual({
      scope: `/subscriptions/${SUB}`,
      relative: 'resourceGroups/rg',
    });
    expect(
      splitResourceId(`/subscriptions/${SUB}/providers/Microsoft.Authorization/roleAssignments/r`),
    ).toEqual({
      scope: `/subscriptions/${SUB}`,
      relative: 'Microsoft.Authorization/roleAssignments/r',
    });
    expect(
      splitResourceId('/providers/Microsoft.Management/managementGroups/mg/providers/A.B/c/d'),
    ).toEqual({
      scope: '/providers/Microsoft.Management/ManagementGroups/mg',
      relative: 'A.B/c/d',
    });
    expect(splitResourceId('/providers/A.B/c/d')).toEqual({ scope: '/', relative: 'A.B/c/d' });
  });
});
