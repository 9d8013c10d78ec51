// Tests of the template document: required sections, parameter declarations, and the supplied parameter values.
import { describe, expect, it } from 'vitest';

import { GROUP_SCOPE } from '../../../test/fixtures/expression-context.js';
import { isAppError } from '../errors.js';
import type { TemplateValue } from './context.js';
import { NO_SOURCE, bodyPath, jsonPath, type TemplateSource } from './errors.js';
import { planDeployment } from './plan.js';
import { readTemplate } from './template.js';

function failure(run: () => unknown): {
  code: string | undefined;
  message: string;
  info: unknown;
} {
  try {
    run();
  } catch (error) {
    if (isAppError(error)) {
      return { code: error.wire.arm, message: error.message, info: error.additionalInfo };
    }
    throw error;
  }
  throw new Error('expected a failure');
}

// Positions made up from the path, so that messages show which element they point at.
const SOURCE: TemplateSource = {
  start: (path) => ({ lineNumber: path.length, linePosition: jsonPath(path).length }),
  end: (path) => ({ lineNumber: 100 + path.length, linePosition: 1 }),
};

const base = { $schema: 'x', contentVersion: '1.0.0.0', resources: [] };

describe('readTemplate', () => {
  it('reads the sections, matching member names and type names in any case', () => {
    const template = readTemplate({
      $SCHEMA: 'x',
      ContentVersion: '1.0.0.0',
      Resources: [],
      Parameters: { flag: { Type: 'Bool', defaultValue: false }, list: { type: 'ARRAY' } },
      outputs: { o: { type: 'secureObject', value: {} } },
    });
    expect(template.parameters.map((p) => [p.name, p.type, p.path])).toEqual([
      ['flag', 'bool', ['Parameters', 'flag']],
      ['list', 'array', ['Parameters', 'list']],
    ]);
    expect(template.outputs.map((o) => o.type)).toEqual(['secureobject']);
  });

  it.each([
    ['$schema', { contentVersion: '1', resources: [] }],
    ['contentVersion', { $schema: 'x', resources: [] }],
    ['resources', { $schema: 'x', contentVersion: '1' }],
  ])("words a missing '%s' as Json.NET does, where the object closes", (property, document) => {
    const { code, message, info } = failure(() => readTemplate(document, SOURCE));
    expect(code).toBe('InvalidTemplate');
    expect(message).toBe(
      `Deployment template parse failed: 'Required property '${property}' not found in JSON. Path '', line 100, position 1.'.`,
    );
    expect(info).toEqual([
      {
        type: 'TemplateViolation',
        info: { lineNumber: 100, linePosition: 1, path: 'properties.template' },
      },
    ]);
  });

  it('refuses a resource without type or name, and a parameter without a type', () => {
    expect(
      failure(() => readTemplate({ ...base, resources: [{ name: 'a' }] }, SOURCE)).message,
    ).toBe(
      "Deployment template parse failed: 'Required property 'type' not found in JSON. Path 'resources[0]', line 102, position 1.'.",
    );
    expect(
      failure(() =>
        readTemplate({ ...base, resources: [{ type: 't/u', resources: [{ type: 'v' }] }] }),
      ).message,
    ).toContain("Required property 'name' not found in JSON. Path 'resources[0]'");
    expect(failure(() => readTemplate({ ...base, parameters: { p: {} } })).message).toContain(
      "Required property 'type' not found in JSON. Path 'parameters.p'",
    );
  });

  it('refuses unknown parameter types and languageVersion 2.0', () => {
    expect(
      failure(() => readTemplate({ ...base, parameters: { p: { type: 'text' } } }, SOURCE)).message,
    ).toBe(
      "Deployment template validation failed: 'The template parameter 'p' at line '2' and column '12' has an invalid type 'text'. The supported types are 'String, SecureString, Int, Bool, Object, SecureObject, Array'. Please see https://aka.ms/arm-template/#parameters for usage details.'.",
    );
    expect(failure(() => readTemplate({ ...base, languageVersion: '2.0' })).message).toContain(
      "The template language version '2.0' is not supported.",
    );
    expect(failure(() => readTemplate({ ...base, resources: { vm: {} } })).message).toContain(
      "The template language version '2.0' is not supported.",
    );
  });
});

describe('supplied parameter values', () => {
  const template = readTemplate(
    {
      ...base,
      parameters: {
        sku: { type: 'string', allowedValues: ['Standard_LRS', 'Standard_ZRS'] },
        zones: { type: 'array', allowedValues: ['1', '2', '3'], defaultValue: ['1'] },
        prefix: { type: 'string', minLength: 3, maxLength: 5, defaultValue: 'abc' },
        count: { type: 'int', minValue: 1, maxValue: 3, defaultValue: 1 },
        password: { type: 'secureString' },
      },
    },
    SOURCE,
  );
  const plan = (parameters: TemplateValue) =>
    planDeployment(template, { scope: GROUP_SCOPE, parameters, newGuid: () => 'g', now: () => 0 });
  const valid = { sku: { value: 'Standard_LRS' }, password: { value: 'p' } };
  const at = (name: string): string =>
    `at line '2' and column '${jsonPath(['parameters', name]).length}'`;

  it('are checked by type, allowed values and limits, in ARM words', () => {
    expect(plan(valid).parameters['zones']).toEqual({ type: 'Array', value: ['1'] });
    const cases: [TemplateValue, string][] = [
      [
        { password: { value: 'p' } },
        `The value for the template parameter 'sku' ${at('sku')} is not provided. Please see https://aka.ms/arm-create-parameter-file for usage details.`,
      ],
      [
        { ...valid, sku: { value: 'Premium_LRS' } },
        `The provided value 'Premium_LRS' for the template parameter 'sku' ${at('sku')} is not valid. The parameter value is not part of the allowed value(s): 'Standard_LRS,Standard_ZRS'.`,
      ],
      [
        { ...valid, zones: { value: ['1', '4'] } },
        `The provided value '["1","4"]' for the template parameter 'zones' ${at('zones')} is not valid. The parameter value is not part of the allowed value(s): '1,2,3'.`,
      ],
      [
        { ...valid, prefix: { value: 'ab' } },
        `The provided value for the template parameter 'prefix' ${at('prefix')} is not valid. Length of the value should be greater than or equal to '3'. Please see https://aka.ms/arm-template/#parameters for usage details.`,
      ],
      [
        { ...valid, prefix: { value: 'abcdef' } },
        `The provided value for the template parameter 'prefix' ${at('prefix')} is not valid. Length of the value should be less than or equal to '5'. Please see https://aka.ms/arm-template/#parameters for usage details.`,
      ],
      [
        { ...valid, count: { value: 4 } },
        `The provided value for the template parameter 'count' ${at('count')} is not valid. The value should be less than or equal to '3'. Please see https://aka.ms/arm-template/#parameters for usage details.`,
      ],
      [
        { ...valid, count: { value: '2' } },
        "Template parameter 'count' was provided an invalid value. Expected a value of type 'Int', but received a value of type 'String'.",
      ],
      [
        { ...valid, vmDnsName: { value: 'x' }, Extra: { value: 1 } },
        "The template parameters 'vmDnsName, Extra' are not valid; they are not present in the original template and can therefore not be provided at deployment time. The only supported parameters for this template are 'sku, zones, prefix, count, password'.",
      ],
    ];
    for (const [parameters, detail] of cases) {
      const { code, message } = failure(() => plan(parameters));
      expect(code).toBe('InvalidTemplate');
      expect(message).toBe(`Deployment template validation failed: '${detail}'.`);
    }
    expect(failure(() => plan({ sku: { value: 'nope' }, password: { value: 'p' } })).info).toEqual([
      {
        type: 'TemplateViolation',
        info: { lineNumber: 2, linePosition: 14, path: bodyPath(['parameters', 'sku']) },
      },
    ]);
  });

  it('refuse null values and Key Vault references with their own code', () => {
    expect(failure(() => plan({ ...valid, sku: { value: null } }))).toMatchObject({
      code: 'InvalidDeploymentParameterValue',
      message:
        "The value of deployment parameter 'sku' is null. Please see https://aka.ms/resource-manager-parameter-files for usage details.",
    });
    const reference = { keyVault: { id: '/subscriptions/s/x' }, secretName: 'pw' };
    expect(failure(() => plan({ ...valid, password: { reference } }))).toMatchObject({
      code: 'InvalidDeploymentParameterValue',
      message: expect.stringContaining('is a Key Vault reference') as unknown,
    });
  });

  it('match declared names case-insensitively', () => {
    expect(
      plan({ SKU: { value: 'Standard_ZRS' }, password: { value: 'p' } }).parameters['sku'],
    ).toEqual({
      type: 'String',
      value: 'Standard_ZRS',
    });
  });
});

describe('errors without a source', () => {
  it('report line 0 and column 0 and an empty-looking position', () => {
    expect(NO_SOURCE.start(['a'])).toBeUndefined();
    expect(failure(() => readTemplate({ ...base, parameters: { p: { type: 'x' } } })).info).toEqual(
      [
        {
          type: 'TemplateViolation',
          info: { lineNumber: 0, linePosition: 0, path: 'properties.template.parameters.p' },
        },
      ],
    );
  });
});
