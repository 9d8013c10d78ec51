// Deployment errors as Azure gives them: each bad request refused by validate and PUT alike, with nothing written.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ArmHarness, startArm } from './arm-harness.js';
import { storeSnapshot } from './arm-store-fixtures.js';
import { SCHEMA, deploy, deploymentPath, identity, template } from './deployment-harness.js';

const incremental = (tpl: unknown, extra: Record<string, unknown> = {}) => ({
  properties: { mode: 'Incremental', template: tpl, ...extra },
});
const withParameters = (parameters: Record<string, unknown>, resources: unknown[] = []) => ({
  ...template(resources),
  parameters,
});
const located = (lineNumber: number, linePosition: number, path: string) => [
  { type: 'TemplateViolation', info: { lineNumber, linePosition, path } },
];
const INVALID = (detail: string) => `Deployment template validation failed: '${detail}'.`;

/** [case, deployment name, body, status, code, message (with {group} for the group's id), additionalInfo]. */
type Case = [string, string, unknown, number, string, string, unknown?];
const CASES: Case[] = [
  [
    'a template az sent with a comment and a missing comma',
    'parse',
    `{"properties": {"mode": "Incremental", template:{\n  "$schema": "${SCHEMA}",\n  "contentVersion": "1.0.0.0",\n  "resources": [] // none\n  "variables": {}\n}}}`,
    400,
    'InvalidTemplate',
    `Deployment template parse failed: 'After parsing a value an unexpected character was encountered: ". Path 'resources', line 5, position 2.'.`,
    located(5, 2, 'properties.template.resources'),
  ],
  [
    'a template without resources',
    'no-resources',
    incremental({ $schema: SCHEMA, contentVersion: '1.0.0.0' }),
    400,
    'InvalidTemplate',
    `Deployment template parse failed: 'Required property 'resources' not found in JSON. Path '', line 1, position 167.'.`,
    located(1, 167, 'properties.template'),
  ],
  [
    'a parameter without value or default',
    'missing',
    incremental(withParameters({ adminPassword: { type: 'securestring' } })),
    400,
    'InvalidTemplate',
    INVALID(
      "The value for the template parameter 'adminPassword' at line '1' and column '213' is not provided. Please see https://aka.ms/arm-create-parameter-file for usage details.",
    ),
    located(1, 213, 'properties.template.parameters.adminPassword'),
  ],
  [
    'a value outside allowedValues',
    'not-allowed',
    incremental(
      withParameters({ sku: { type: 'string', allowedValues: ['Standard_LRS', 'Standard_ZRS'] } }),
      {
        parameters: { sku: { value: 'Premium' } },
      },
    ),
    400,
    'InvalidTemplate',
    INVALID(
      "The provided value 'Premium' for the template parameter 'sku' at line '1' and column '203' is not valid. The parameter value is not part of the allowed value(s): 'Standard_LRS,Standard_ZRS'.",
    ),
    located(1, 203, 'properties.template.parameters.sku'),
  ],
  [
    'a parameter the template does not declare',
    'extra',
    incremental(withParameters({ a: { type: 'string', defaultValue: 'a' } }), {
      parameters: { vmDnsName: { value: 'x' } },
    }),
    400,
    'InvalidTemplate',
    INVALID(
      "The template parameters 'vmDnsName' are not valid; they are not present in the original template and can therefore not be provided at deployment time. The only supported parameters for this template are 'a'.",
    ),
    located(0, 0, ''),
  ],
  [
    'a circular dependency',
    'cycle',
    incremental(
      template([identity('a', { dependsOn: ['b'] }), identity('b', { dependsOn: ['a'] })]),
    ),
    400,
    'InvalidTemplate',
    INVALID(
      "Circular dependency detected on resource: '{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a'. Please see https://aka.ms/arm-syntax-resources for usage details.",
    ),
    located(1, 181, 'properties.template.resources[0]'),
  ],
  [
    'a dependsOn naming nothing in the template',
    'unknown-dependency',
    incremental(template([identity('a', { dependsOn: ['ghost'] })])),
    400,
    'InvalidTemplate',
    INVALID(
      "The resource 'ghost' is not defined in the template. Please see https://aka.ms/arm-template for usage details.",
    ),
    located(1, 336, 'properties.template.resources[0].dependsOn[0]'),
  ],
  [
    'a child type with a one-segment name',
    'segments',
    incremental(
      template([
        {
          type: 'Microsoft.Compute/virtualMachines/extensions',
          apiVersion: '2024-07-01',
          name: 'ext',
          location: 'westeurope',
        },
      ]),
    ),
    400,
    'InvalidTemplate',
    INVALID(
      "The template resource 'ext' for type 'Microsoft.Compute/virtualMachines/extensions' at line '1' and column '181' has incorrect segment lengths. A nested resource type must have identical number of segments as its resource name. A root resource type must have segment length one greater than its resource name. Please see https://aka.ms/arm-template/#resources for usage details.",
    ),
    located(1, 181, 'properties.template.resources[0]'),
  ],
  [
    'an unknown function',
    'bad-function',
    incremental(template([identity("[nosuch('x')]")])),
    400,
    'InvalidTemplate',
    INVALID(
      "The template resource '[nosuch('x')]' at line '1' and column '181' is not valid: The template function 'nosuch' is not valid.. Please see https://aka.ms/arm-functions for usage details.",
    ),
    located(1, 181, 'properties.template.resources[0]'),
  ],
  [
    'more than 800 resources',
    'too-many',
    incremental(
      template([
        identity("[concat('a', copyIndex())]", { copy: { name: 'a', count: 500 } }),
        identity("[concat('b', copyIndex())]", { copy: { name: 'b', count: 500 } }),
      ]),
    ),
    400,
    'InvalidTemplate',
    INVALID(
      "The number of template resources limit exceeded. Limit: '800' and actual: '1000'. Please see https://aka.ms/arm-template for usage details.",
    ),
    located(0, 0, ''),
  ],
  [
    'no mode',
    'no-mode',
    { properties: { template: template([]) } },
    400,
    'InvalidRequestContent',
    "The request content was invalid and could not be deserialized: 'Required property 'mode' not found in JSON. Path 'properties'.'.",
  ],
  [
    'an unknown mode',
    'bad-mode',
    { properties: { mode: 'Sideways', template: template([]) } },
    400,
    'InvalidRequestContent',
    `The request content was invalid and could not be deserialized: 'Error converting value "Sideways" to type 'DeploymentMode'. Path 'properties.mode'.'.`,
  ],
  [
    'a deployment name with a space',
    'has%20space',
    incremental(template([])),
    400,
    'InvalidDeployment',
    "The provided deployment name 'has space' has these invalid characters: ' '. The name can only be a letter, digit, '-', '.' or '_'. Please see https://aka.ms/arm-deploy for usage details.",
  ],
  [
    'a deployment name of 65 characters',
    'x'.repeat(65),
    incremental(template([])),
    400,
    'InvalidDeployment',
    `The provided deployment name '${'x'.repeat(65)}' has a length of '65' which exceeds the maximum length of '64'. Please see https://aka.ms/arm-deploy for usage details.`,
  ],
];

describe('ARM surface: deployment errors', () => {
  let h: ArmHarness;
  let group: string;

  beforeAll(async () => {
    h = await startArm();
    group = `/subscriptions/${h.sub}/resourceGroups/errors-rg`;
    const made = await h.arm('PUT', `${group}?api-version=2021-04-01`, {
      token: h.admin,
      body: { location: 'westeurope' },
    });
    expect(made.status).toBe(201);
  });
  afterAll(async () => {
    await h.close();
  });

  it.each(CASES)(
    'refuses %s at validate and PUT, writing nothing',
    async (_label, name, body, status, code, message, additionalInfo) => {
      const before = await storeSnapshot(h);
      const expected = {
        error: {
          code,
          message: message.replaceAll('{group}', group),
          ...(additionalInfo === undefined ? {} : { additionalInfo }),
        },
      };
      for (const [method, suffix] of [
        ['POST', '/validate'],
        ['PUT', ''],
      ] as const) {
        const answer = await h.arm(method, deploymentPath(group, name, suffix), {
          token: h.admin,
          body,
        });
        expect([answer.status, answer.body]).toEqual([status, expected]);
      }
      expect(await storeSnapshot(h)).toEqual(before);
    },
  );

  it('fails at run time in the deployment, not the request: a role that does not exist', async () => {
    const role = randomUUID();
    const { status, deployment } = await deploy(h, group, 'no-such-role', {
      template: template([
        identity('grantee'),
        {
          type: 'Microsoft.Authorization/roleAssignments',
          apiVersion: '2022-04-01',
          name: "[guid('no-such-role')]",
          dependsOn: ['grantee'],
          properties: {
            roleDefinitionId: `[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '${role}')]`,
            principalId: "[reference('grantee').principalId]",
          },
        },
      ]),
    });
    const error = status.error as { code: string; details: { code: string }[] };
    expect([status.status, error.code, error.details.map((d) => d.code)]).toEqual([
      'Failed',
      'DeploymentFailed',
      ['RoleDefinitionDoesNotExist'],
    ]);
    expect(deployment.body?.properties).toMatchObject({ provisioningState: 'Failed', error });
  });
});
