// Tests of the plan's dependency graph (dependsOn, reference(), cycles), late bodies, outputs, parameters, variables and user functions.
import { describe, expect, it } from 'vitest';

import { GROUP_SCOPE, SUBSCRIPTION_ID } from '../../../test/fixtures/expression-context.js';
import { isAppError } from '../errors.js';
import type { TemplateValue } from './context.js';
import { planDeployment, type DeploymentPlan, type TemplateRuntime } from './plan.js';
import { readTemplate } from './template.js';

const RG = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg1`;
const IDENTITY_TYPE = 'Microsoft.ManagedIdentity/userAssignedIdentities';
const UAMI = `${RG}/providers/${IDENTITY_TYPE}`;
const VM = `${RG}/providers/Microsoft.Compute/virtualMachines`;

function template(sections: Record<string, TemplateValue>): TemplateValue {
  return { $schema: 'x', contentVersion: '1.0.0.0', resources: [], ...sections };
}

function plan(document: TemplateValue, parameters?: TemplateValue): DeploymentPlan {
  return planDeployment(readTemplate(document), {
    scope: GROUP_SCOPE,
    parameters,
    newGuid: () => '0d6c4d4e-7a4b-4c59-9d7b-2f0f1f1f1f1f',
    now: () => Date.UTC(2024, 0, 2, 3, 4, 5),
  });
}

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (isAppError(error)) return error.message;
    throw error;
  }
  throw new Error('expected a failure');
}

function runtime(state: Record<string, TemplateValue> = {}): TemplateRuntime & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    reference(id, apiVersion, full) {
      calls.push(`${id}@${apiVersion}${full ? ' full' : ''}`);
      return state[id] ?? null;
    },
  };
}

const identity = (name: string, extra: Record<string, TemplateValue> = {}) => ({
  type: IDENTITY_TYPE,
  apiVersion: '2018-11-30',
  name,
  ...extra,
});

describe('dependsOn', () => {
  it('accepts a name, a resource id or type/name, and orders the waves', () => {
    const p = plan(
      template({
        resources: [
          identity('a'),
          identity('b', { dependsOn: ['a'] }),
          identity('c', { dependsOn: [`[resourceId('${IDENTITY_TYPE}', 'a')]`] }),
          identity('d', { dependsOn: [`${IDENTITY_TYPE}/b`, 'C'] }),
        ],
      }),
    );
    expect(p.waves).toEqual([[0], [1, 2], [3]]);
    expect(p.resources[3]?.dependsOn).toEqual([`${UAMI}/b`, `${UAMI}/c`]);
  });

  it('refuses a target that is not in the template, naming its type and name', () => {
    const document = template({
      resources: [
        identity('a', { dependsOn: ["[resourceId('Microsoft.Web/sites', 'func-xyz')]"] }),
      ],
    });
    expect(messageOf(() => plan(document))).toBe(
      "Deployment template validation failed: 'The resource 'Microsoft.Web/sites/func-xyz' is not defined in the template. Please see https://aka.ms/arm-template for usage details.'.",
    );
  });

  it('finds cycles, naming the resource at which the cycle closes', () => {
    const document = template({
      resources: [
        identity('a', { dependsOn: ['c'] }),
        identity('b', { dependsOn: ['a'] }),
        identity('c', { dependsOn: ['b'] }),
        identity('free'),
      ],
    });
    expect(messageOf(() => plan(document))).toBe(
      `Deployment template validation failed: 'Circular dependency detected on resource: '${UAMI}/a'. Please see https://aka.ms/arm-syntax-resources for usage details.'.`,
    );
  });
});

describe('conditions', () => {
  it('skip a resource and drop it from the others’ dependencies', () => {
    const p = plan(
      template({
        parameters: { withIdentity: { type: 'Bool', defaultValue: false } },
        resources: [
          {
            condition: "[parameters('withIdentity')]",
            type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
            apiVersion: '2018-11-30',
            name: 'id1',
          },
          {
            type: 'Microsoft.Compute/virtualMachines',
            apiVersion: '2023-03-01',
            name: 'vm1',
            dependsOn: ["[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'id1')]"],
          },
        ],
      }),
    );
    expect(p.resources.map((r) => r.name)).toEqual(['vm1']);
    expect(p.resources[0]?.dependsOn).toEqual([]);
    expect(p.skipped).toEqual([
      {
        id: `${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1`,
        type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
        name: 'id1',
      },
    ]);
  });
});

describe('reference()', () => {
  const document = template({
    variables: { identityName: 'id1' },
    resources: [
      {
        type: 'Microsoft.Compute/virtualMachines',
        apiVersion: '2023-03-01',
        name: 'vm1',
        identity: {
          type: 'UserAssigned',
          userAssignedIdentities: {
            "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities/', variables('identityName'))]":
              {},
          },
        },
        properties: {
          note: null,
          optional: "[json('null')]",
          principal: "[reference(variables('identityName')).principalId]",
        },
      },
      identity('id1', { location: 'westus' }),
      {
        type: 'Microsoft.Authorization/roleAssignments',
        apiVersion: '2022-04-01',
        name: 'ra1',
        properties: {
          principalId:
            "[reference(resourceId('Microsoft.Compute/virtualMachines', 'vm1'), '2023-03-01', 'Full').identity.principalId]",
          scope: '[resourceGroup().id]',
        },
      },
    ],
    outputs: {
      principalId: {
        type: 'string',
        value:
          "[reference(resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'id1')).principalId]",
      },
    },
  });

  it('makes the resources it names (by name or id) implicit dependencies', () => {
    const p = plan(document);
    expect(p.waves.map((wave) => wave.map((i) => p.resources[i]?.name))).toEqual([
      ['id1'],
      ['vm1'],
      ['ra1'],
    ]);
    expect(p.resources[0]?.dependsOn).toEqual([`${UAMI}/id1`]);
  });

  it('is answered at run time, with the template api-version by default; keys are evaluated, nulls dropped', () => {
    const p = plan(document);
    const state = runtime({
      [`${UAMI}/id1`]: { principalId: 'uami-principal' },
      [`${VM}/vm1`]: { identity: { principalId: 'vm-principal' } },
    });
    expect(p.resources[0]?.body(state)).toEqual({
      identity: { type: 'UserAssigned', userAssignedIdentities: { [`${UAMI}/id1`]: {} } },
      properties: { principal: 'uami-principal' },
    });
    expect(p.resources[2]?.body(state)).toEqual({
      properties: { principalId: 'vm-principal', scope: RG },
    });
    expect(p.outputs(state)).toEqual({ principalId: { type: 'String', value: 'uami-principal' } });
    expect(state.calls).toEqual([
      `${UAMI}/id1@2018-11-30`,
      `${VM}/vm1@2023-03-01 full`,
      `${UAMI}/id1@2018-11-30`,
    ]);
  });

  it('is refused where it cannot wait (names), for unknown names, and for outside ids without a version', () => {
    const inName = template({
      resources: [identity("[reference('x').name]")],
    });
    expect(messageOf(() => plan(inName))).toContain(
      "is not valid: The template function 'reference' is not expected at this location.",
    );
    const unknown = template({
      resources: [identity('a', { properties: { p: "[reference('nope').x]" } })],
    });
    expect(messageOf(() => plan(unknown))).toBe(
      "Deployment template validation failed: 'The template reference 'nope' is not valid: could not find template resource or resource copy with this name. Please see https://aka.ms/arm-template-expressions/#reference for usage details.'.",
    );
    const outside = template({
      resources: [identity('a', { properties: { p: "[reference('/subscriptions/s/x/y').z]" } })],
    });
    expect(messageOf(() => plan(outside).resources[0]?.body(runtime()))).toBe(
      "Deployment template validation failed: 'The template resource 'a' reference to '/subscriptions/s/x/y' requires an API version. Please see https://aka.ms/arm-template for usage details.'.",
    );
  });

  it('to itself is a cycle', () => {
    const self = template({
      resources: [identity('a', { properties: { p: "[reference('a').x]" } })],
    });
    expect(messageOf(() => plan(self))).toContain(
      `Circular dependency detected on resource: '${UAMI}/a'`,
    );
  });
});

describe('outputs', () => {
  it('evaluate value, copy and condition, with PascalCase types and secure values hidden', () => {
    const p = plan(
      template({
        parameters: { secret: { type: 'secureString' }, n: { type: 'int', defaultValue: 2 } },
        outputs: {
          count: { type: 'int', value: "[parameters('n')]" },
          names: {
            type: 'array',
            copy: { count: "[parameters('n')]", input: "[concat('x', copyIndex())]" },
          },
          hidden: { type: 'securestring', value: "[parameters('secret')]" },
          skipped: { condition: false, type: 'string', value: 'never' },
          flag: { type: 'Bool', value: true },
        },
      }),
      { secret: { value: 's3cret' } },
    );
    expect(p.outputs(runtime())).toEqual({
      count: { type: 'Int', value: 2 },
      names: { type: 'Array', value: ['x0', 'x1'] },
      hidden: { type: 'SecureString' },
      flag: { type: 'Bool', value: true },
    });
    expect(p.parameters).toEqual({
      secret: { type: 'SecureString' },
      n: { type: 'Int', value: 2 },
    });
  });

  it('refuse a value of the wrong type', () => {
    const p = plan(template({ outputs: { o: { type: 'string', value: 1 } } }));
    expect(messageOf(() => p.outputs(runtime()))).toContain(
      "The template output 'o' at line '0' and column '0' is not valid: Template output JToken type is not valid. Expected 'String'. Actual 'Integer'",
    );
  });
});

describe('parameters, variables and user functions', () => {
  it('evaluate defaults that use other parameters, newGuid and utcNow; supplied values are literal', () => {
    const p = plan(
      template({
        parameters: {
          prefix: { type: 'string' },
          name: { type: 'string', defaultValue: "[concat(parameters('Prefix'), '-vm')]" },
          id: { type: 'string', defaultValue: '[newGuid()]' },
          stamp: { type: 'string', defaultValue: "[utcNow('yyyyMMdd')]" },
        },
      }),
      { prefix: { value: "[concat('not', 'evaluated')]" } },
    );
    expect(p.parameters).toEqual({
      prefix: { type: 'String', value: "[concat('not', 'evaluated')]" },
      name: { type: 'String', value: "[concat('not', 'evaluated')]-vm" },
      id: { type: 'String', value: '0d6c4d4e-7a4b-4c59-9d7b-2f0f1f1f1f1f' },
      stamp: { type: 'String', value: '20240102' },
    });
    const elsewhere = template({ variables: { v: '[newGuid()]' } });
    expect(messageOf(() => plan(elsewhere))).toContain(
      "The template variable 'v' is not valid: The template function 'newGuid' is not expected at this location.",
    );
  });

  it('computes variable names, and calls user functions that see only their own parameters', () => {
    const p = plan(
      template({
        parameters: { role: { type: 'string', defaultValue: 'Reader' } },
        variables: { Reader: 'acdd72a7', roleId: "[variables(parameters('role'))]" },
        functions: [
          {
            namespace: 'tessera',
            members: {
              name: {
                parameters: [{ name: 'base', type: 'string' }],
                output: { type: 'string', value: "[concat('id-', parameters('base'))]" },
              },
            },
          },
        ],
        resources: [identity("[tessera.name(variables('roleId'))]")],
      }),
    );
    expect(p.resources[0]?.name).toBe('id-acdd72a7');
  });

  it('reports an unknown variable where it is used, and a self-reference at the variable', () => {
    expect(
      messageOf(() => plan(template({ resources: [identity("[variables('nope')]")] }))),
    ).toContain(
      "The template resource '[variables('nope')]' at line '0' and column '0' is not valid: The template variable 'nope' is not found.",
    );
    expect(messageOf(() => plan(template({ variables: { a: "[variables('a')]" } })))).toContain(
      "The template variable 'a' is not valid: The template variable 'a' refers to itself.",
    );
  });
});
