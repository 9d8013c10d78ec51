// Tests of deployment bodies as az sends them, and of every template error ARM words, located in the user's file.
import { describe, expect, it } from 'vitest';

import { GROUP_SCOPE } from '../../../test/fixtures/expression-context.js';
import { isAppError } from '../../core/errors.js';
import type { TemplateValue } from '../../core/templates/context.js';
import { planDeployment, type DeploymentPlan } from '../../core/templates/plan.js';
import { readTemplate } from '../../core/templates/template.js';
import { readDeploymentBody } from './template-body.js';

/** The template file, as az reads it: comments and a multi-line expression included. */
const FILE = `{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  // Parameters of the VM
  "parameters": {
    "adminPassword": {
      "type": "securestring"
    },
    "vmSize": {
      "type": "string",
      "defaultValue": "Standard_B1s",
      "allowedValues": ["Standard_B1s", "Standard_B2s"]
    }
  },
  "variables": {
    "vmName": "myVM"
  },
  "resources": [
    {
      "type": "Microsoft.Compute/virtualMachines",
      "apiVersion": "2018-06-01",
      "name": "[variables('vmName')]",
      "location": "[
        resourceGroup().location
      ]",
      "properties": { "hardwareProfile": { "vmSize": "[parameters('vmSize')]" } }
    },
    {
      "type": "Microsoft.Compute/virtualMachines/extensions",
      "name": "[concat(variables('vmName'),'/ManagedIdentityExtensionForWindows')]",
      "apiVersion": "2018-06-01",
      "location": "[resourceGroup().location]",
      "dependsOn": [
        "[concat('Microsoft.Compute/virtualMachines/', variables('vmName'))]"
      ],
      "properties": { "publisher": "Microsoft.ManagedIdentity", "settings": { "port": 50342 } }
    }
  ]
}`;

const PASSWORD = { adminPassword: { value: 'p@ss' } };

/** The body az 2.45 puts on the wire: the raw file spliced after an unquoted `template:`. */
function azBody(file: string, parameters: TemplateValue = PASSWORD): string {
  return `{"properties": {"parameters": ${JSON.stringify(parameters)}, "mode": "Incremental", template:${file}}}`;
}

function deploy(text: string): DeploymentPlan {
  const { template, parameters } = readDeploymentBody(text);
  if (template === undefined) throw new Error('no template');
  return planDeployment(readTemplate(template.value, template.source), {
    scope: GROUP_SCOPE,
    parameters: parameters?.value,
    newGuid: () => 'g',
    now: () => 0,
  });
}

function failure(run: () => unknown): { code?: string; message: string; info: unknown } {
  try {
    run();
  } catch (error) {
    if (!isAppError(error)) throw error;
    const code = error.wire.arm;
    return {
      ...(code === undefined ? {} : { code }),
      message: error.message,
      info: error.additionalInfo[0]?.info,
    };
  }
  throw new Error('expected a failure');
}

describe('readDeploymentBody', () => {
  it("reads az's spliced body: the template with comments and multi-line strings, lines as in the file", () => {
    const { body, template, parameters } = readDeploymentBody(azBody(FILE));
    expect(parameters?.value).toEqual(PASSWORD);
    expect(template?.source.start(['parameters', 'adminPassword'])).toEqual({
      lineNumber: 6,
      linePosition: 22,
    });
    expect(body).toMatchObject({ properties: { mode: 'Incremental', template: template?.value } });
    const plan = deploy(azBody(FILE));
    expect(plan.resources.map((r) => r.name)).toEqual([
      'myVM',
      'myVM/ManagedIdentityExtensionForWindows',
    ]);
    expect(plan.resources[0]?.location).toBe('westus');
  });

  it('reads the recorded az body (RECLITE) and `template`/`parameters` sent as JSON strings', () => {
    const recorded =
      '{"properties": {"parameters": {}, "mode": "Incremental", template:{\n  "$schema": "s", "contentVersion": "1.0.0.0",\n  "resources": [] // comment\n}}}';
    expect(readDeploymentBody(recorded).template?.value).toEqual({
      $schema: 's',
      contentVersion: '1.0.0.0',
      resources: [],
    });
    const strings = JSON.stringify({
      location: 'westus',
      properties: { mode: 'Incremental', template: FILE, parameters: JSON.stringify(PASSWORD) },
    });
    const read = readDeploymentBody(strings);
    expect(read.parameters?.value).toEqual(PASSWORD);
    expect(read.template?.source.start(['parameters', 'vmSize'])).toEqual({
      lineNumber: 9,
      linePosition: 15,
    });
    expect(read.body).toMatchObject({ location: 'westus', properties: { parameters: PASSWORD } });
  });

  it('words a fault in the template as a template parse failure, and elsewhere as bad content', () => {
    const broken = FILE.replace('"contentVersion": "1.0.0.0",', '"contentVersion": "1.0.0.0"');
    expect(failure(() => readDeploymentBody(azBody(broken)))).toEqual({
      code: 'InvalidTemplate',
      message:
        "Deployment template parse failed: 'After parsing a value an unexpected character was encountered: \". Path 'contentVersion', line 5, position 2.'.",
      info: { lineNumber: 5, linePosition: 2, path: 'properties.template.contentVersion' },
    });
    const asString = JSON.stringify({ properties: { template: '{"a": }' } });
    expect(failure(() => readDeploymentBody(asString)).message).toBe(
      "Deployment template parse failed: 'Unexpected character encountered while parsing value: }. Path 'a', line 1, position 6.'.",
    );
    expect(
      failure(() => readDeploymentBody('{"properties": {"mode": Incremental}}')),
    ).toMatchObject({
      message:
        "The request content was invalid and could not be deserialized: 'Unexpected character encountered while parsing value: I. Path 'properties.mode', line 1, position 24.'.",
    });
    expect(failure(() => readDeploymentBody('[]')).message).toContain('could not be deserialized');
  });
});

describe('template errors, in ARM words, at the line and column of the file', () => {
  const violation = (lineNumber: number, linePosition: number, path: string) => ({
    lineNumber,
    linePosition,
    path,
  });
  const cases: [string, string, TemplateValue, string, unknown][] = [
    [
      'a parameter without a value',
      FILE,
      {},
      "The value for the template parameter 'adminPassword' at line '6' and column '22' is not provided. Please see https://aka.ms/arm-create-parameter-file for usage details.",
      violation(6, 22, 'properties.template.parameters.adminPassword'),
    ],
    [
      'a value outside allowedValues',
      FILE,
      { ...PASSWORD, vmSize: { value: 'Standard_D2' } },
      "The provided value 'Standard_D2' for the template parameter 'vmSize' at line '9' and column '15' is not valid. The parameter value is not part of the allowed value(s): 'Standard_B1s,Standard_B2s'.",
      violation(9, 15, 'properties.template.parameters.vmSize'),
    ],
    [
      'a parameter the template does not declare',
      FILE,
      { ...PASSWORD, vmDnsName: { value: 'x' } },
      "The template parameters 'vmDnsName' are not valid; they are not present in the original template and can therefore not be provided at deployment time. The only supported parameters for this template are 'adminPassword, vmSize'.",
      violation(0, 0, ''),
    ],
    [
      'a top-level child named like a root resource',
      FILE.replace(
        "'/ManagedIdentityExtensionForWindows')",
        "'-ManagedIdentityExtensionForWindows')",
      ),
      PASSWORD,
      "The template resource 'myVM-ManagedIdentityExtensionForWindows' for type 'Microsoft.Compute/virtualMachines/extensions' at line '28' and column '5' has incorrect segment lengths. A nested resource type must have identical number of segments as its resource name. A root resource type must have segment length one greater than its resource name. Please see https://aka.ms/arm-template/#resources for usage details.",
      violation(28, 5, 'properties.template.resources[1]'),
    ],
    [
      'a dependsOn target that is not in the template',
      FILE.replace("variables('vmName'))]\"\n", "'otherVM')]\"\n"),
      PASSWORD,
      "The resource 'Microsoft.Compute/virtualMachines/otherVM' is not defined in the template. Please see https://aka.ms/arm-template for usage details.",
      violation(34, 67, 'properties.template.resources[1].dependsOn[0]'),
    ],
    [
      'a dependency cycle',
      FILE.replace(
        '"name": "[variables(\'vmName\')]",',
        '"name": "[variables(\'vmName\')]", "dependsOn": ["myVM/ManagedIdentityExtensionForWindows"],',
      ),
      PASSWORD,
      `Circular dependency detected on resource: '/subscriptions/${GROUP_SCOPE.subscriptionId}/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/myVM'. Please see https://aka.ms/arm-syntax-resources for usage details.`,
      violation(19, 5, 'properties.template.resources[0]'),
    ],
    [
      'reference() in a name',
      FILE.replace('"[variables(\'vmName\')]",', '"[reference(\'x\').name]",'),
      PASSWORD,
      "The template resource '[reference('x').name]' at line '19' and column '5' is not valid: The template function 'reference' is not expected at this location.. Please see https://aka.ms/arm-functions for usage details.",
      violation(19, 5, 'properties.template.resources[0]'),
    ],
    [
      'an expression as the type',
      FILE.replace(
        '"Microsoft.Compute/virtualMachines",',
        "\"[concat('Microsoft.Compute/', 'virtualMachines')]\",",
      ),
      PASSWORD,
      "The template resource '[variables('vmName')]' at line '19' and column '5' is not valid: the 'type' property must be a literal value; template language expressions are not supported there. Please see https://aka.ms/arm-syntax-resources for usage details.",
      violation(19, 5, 'properties.template.resources[0]'),
    ],
    [
      'a resource without apiVersion',
      FILE.replace('"apiVersion": "2018-06-01",\n      "name": "[var', '"name": "[var'),
      PASSWORD,
      "The template resource '[variables('vmName')]' is not valid. Both api-version property at line '19' and column '5' and api-profile property for the template cannot be null or empty. Either explicitly specify the api-version for the resource or specify the api-profile for the template. Please see https://aka.ms/arm-template for usage details.",
      violation(19, 5, 'properties.template.resources[0]'),
    ],
    [
      'a copy count out of range',
      FILE.replace(
        '"name": "[variables(\'vmName\')]",',
        '"name": "[concat(\'vm\', copyIndex())]", "copy": {"name": "vms", "count": -1},',
      ),
      PASSWORD,
      "The template 'copy' definition at line '22' and column '80' has an invalid copy count. The copy count must be a non-negative integer value and cannot exceed '800'. Please see https://aka.ms/arm-copy for usage details.",
      violation(22, 80, 'properties.template.resources[0].copy.count'),
    ],
  ];

  it.each(cases)('%s', (_, file, parameters, detail, info) => {
    expect(failure(() => deploy(azBody(file, parameters)))).toEqual({
      code: 'InvalidTemplate',
      message: `Deployment template validation failed: '${detail}'.`,
      info,
    });
  });

  it('a missing required section, where the template closes', () => {
    expect(failure(() => deploy(azBody(FILE.replace('"contentVersion": "1.0.0.0",', ''))))).toEqual(
      {
        code: 'InvalidTemplate',
        message:
          "Deployment template parse failed: 'Required property 'contentVersion' not found in JSON. Path '', line 39, position 1.'.",
        info: { lineNumber: 39, linePosition: 1, path: 'properties.template' },
      },
    );
  });
});
