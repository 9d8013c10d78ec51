// Unit tests of the what-if printer against az 2.45's own `format_what_if_operation_result`: every expected text here is what az printed for the same changes.
import { describe, expect, it } from 'vitest';
import { excludeChangeTypes, formatWhatIf, type WhatIfChange } from './what-if-format.js';

const SUB = '/subscriptions/00000000-0000-0000-0000-000000000001';
const ESC = String.fromCharCode(27);

/** Every kind of change and property change, three scopes, nested arrays and objects. */
const KITCHEN = [
  {
    resourceId:
      '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet',
    changeType: 'Modify',
    before: {
      apiVersion: '2020-01-01',
    },
    delta: [
      {
        path: 'properties.addressSpace.addressPrefixes',
        propertyChangeType: 'Array',
        children: [
          {
            path: '0',
            propertyChangeType: 'Delete',
            before: '10.0.0.0/16',
          },
          {
            path: '0',
            propertyChangeType: 'Create',
            after: '10.0.0.0/15',
          },
          {
            path: '1',
            propertyChangeType: 'Modify',
            children: [
              {
                path: 'name',
                propertyChangeType: 'Modify',
                before: 'a',
                after: 'b',
              },
            ],
          },
          {
            path: '2',
            propertyChangeType: 'Array',
            children: [
              {
                path: '0',
                propertyChangeType: 'Create',
                after: 1,
              },
            ],
          },
        ],
      },
      {
        path: 'tags',
        propertyChangeType: 'Modify',
        before: {
          a: '1',
          b: {
            c: [1, 2],
          },
        },
        after: 'flat',
      },
      {
        path: 'properties.x',
        propertyChangeType: 'Modify',
        before: 'flat',
        after: {
          k: true,
          l: null,
        },
      },
      {
        path: 'properties.empty',
        propertyChangeType: 'Array',
        children: [],
      },
      {
        path: 'properties.gone',
        propertyChangeType: 'Delete',
        before: {
          deep: {
            er: [
              {
                x: 1,
              },
              3,
              [],
              {},
            ],
          },
        },
      },
      {
        path: 'properties.readOnly',
        propertyChangeType: 'NoEffect',
        after: 1.5,
      },
      {
        path: 'properties.veryLongPropertyNameIndeed',
        propertyChangeType: 'Create',
        after: [
          1,
          'two',
          {
            three: 3,
          },
        ],
      },
    ],
  },
  {
    resourceId:
      '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1',
    changeType: 'Delete',
    before: {
      apiVersion: '2024-07-01',
      id: '/x',
      name: 'vm1',
      properties: {
        hardwareProfile: {
          vmSize: 'Standard_B1s',
        },
        zones: ['1', '2'],
      },
    },
  },
  {
    resourceId:
      '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm0',
    changeType: 'Delete',
  },
  {
    resourceId:
      '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/other/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1',
    changeType: 'Deploy',
  },
  {
    resourceId:
      '/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/roleAssignments/ra',
    changeType: 'Create',
    after: {
      apiVersion: '2022-04-01',
      properties: {
        principalId: 'p',
      },
    },
  },
  {
    resourceId:
      '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id2',
    changeType: 'NoChange',
    before: {
      apiVersion: '2023-01-31',
    },
  },
  {
    resourceId:
      '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id3',
    changeType: 'Ignore',
  },
  {
    resourceId:
      '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/RG/providers/Microsoft.Storage/storageAccounts/s',
    changeType: 'Unsupported',
    unsupportedReason: 'no',
  },
] as WhatIfChange[];

/** az's text for {@link KITCHEN}, without colours (`format_what_if_operation_result(r, False)`). */
const KITCHEN_TEXT = [
  'Note: The result may contain false positive predictions (noise).',
  'You can help us improve the accuracy of the result by opening an issue here: https://aka.ms/WhatIfIssues',
  '',
  'Resource and property changes are indicated with these symbols:',
  '  - Delete',
  '  + Create',
  '  ! Deploy',
  '  ~ Modify',
  '  = Nochange',
  '  x Unsupported',
  '  * Ignore',
  '  x Noeffect',
  '',
  'The deployment will update the following scopes',
  '',
  'Scope: /subscriptions/00000000-0000-0000-0000-000000000001',
  '',
  '  + Microsoft.Authorization/roleAssignments/ra [2022-04-01]',
  '',
  '      apiVersion:             "2022-04-01"',
  '      properties.principalId: "p"',
  '',
  'Scope: /subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/other',
  '',
  '  ! Microsoft.ManagedIdentity/userAssignedIdentities/id1',
  '',
  'Scope: /subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg',
  '',
  '  - Microsoft.Compute/virtualMachines/vm0',
  '  - Microsoft.Compute/virtualMachines/vm1 [2024-07-01]',
  '',
  '      apiVersion:                        "2024-07-01"',
  '      id:                                "/x"',
  '      name:                              "vm1"',
  '      properties.hardwareProfile.vmSize: "Standard_B1s"',
  '      properties.zones: [',
  '        0: "1"',
  '        1: "2"',
  '      ]',
  '',
  '  ~ Microsoft.Network/virtualNetworks/vnet [2020-01-01]',
  '    - properties.gone:',
  '',
  '        deep.er: [',
  '          0:',
  '',
  '            x: 1',
  '',
  '          1: 3',
  '          2: []',
  '          3: {}',
  '        ]',
  '',
  '    + properties.veryLongPropertyNameIndeed: [',
  '        0: 1',
  '        1: "two"',
  '        2:',
  '',
  '          three: 3',
  '',
  '      ]',
  '    ~ properties.addressSpace.addressPrefixes: [',
  '      - 0: "10.0.0.0/16"',
  '      + 0: "10.0.0.0/15"',
  '      ~ 1:',
  '',
  '        ~ name: "a" => "b"',
  '',
  '      ~ 2: [',
  '        + 0: 1',
  '        ]',
  '      ]',
  '    ~ properties.empty:    []',
  '',
  '    ~ properties.x:        "flat" =>',
  '',
  '        k: true',
  '        l: null',
  '',
  '    ~ tags:',
  '',
  '        a:  "1"',
  '        b.c: [',
  '          0: 1',
  '          1: 2',
  '        ]',
  '',
  '      => "flat"',
  '',
  '    x properties.readOnly: 1.5',
  '',
  '  = Microsoft.ManagedIdentity/userAssignedIdentities/id2 [2023-01-31]',
  '  x Microsoft.Storage/storageAccounts/s',
  '  * Microsoft.ManagedIdentity/userAssignedIdentities/id3',
  '',
  'Resource changes: 2 to delete, 1 to create, 1 to deploy, 1 to modify, 1 no change, 1 unsupported, 1 to ignore.',
].join('\n');

const SMALL: WhatIfChange[] = [
  {
    resourceId: `${SUB}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a`,
    changeType: 'Modify',
    before: { apiVersion: '2023-01-31' },
    delta: [
      { path: 'tags.env', propertyChangeType: 'Create', after: 'dev' },
      { path: 'tags.team', propertyChangeType: 'Modify', before: 'a', after: 'b' },
    ],
  },
  {
    resourceId: `${SUB}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/b`,
    changeType: 'Create',
    after: { apiVersion: '2023-01-31', name: 'b' },
  },
];

/** az's text for {@link SMALL} with colours (`format_what_if_operation_result(r, True)`). */
const SMALL_COLORED =
  'Note: The result may contain false positive predictions (noise).\nYou can help us improve the accuracy of the result by opening an issue here: https://aka.ms/WhatIfIssues\n\nResource and property changes are indicated with these symbols:\n  \u001b[38;5;77m+\u001b[0m Create\n  \u001b[38;5;141m~\u001b[0m Modify\n\nThe deployment will update the following scope:\n\nScope: /subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg\n\u001b[38;5;77m\n  + Microsoft.ManagedIdentity/userAssignedIdentities/b\u001b[0m [2023-01-31]\u001b[38;5;77m\n\n      apiVersion\u001b[0m:\u001b[38;5;77m "2023-01-31"\n      name\u001b[0m:\u001b[38;5;77m       "b"\n\u001b[0m\u001b[38;5;141m\n  ~ Microsoft.ManagedIdentity/userAssignedIdentities/a\u001b[0m [2023-01-31]\u001b[38;5;141m\u001b[0m\n    \u001b[38;5;77m+\u001b[0m tags.env\u001b[0m:\u001b[0m  \u001b[38;5;77m"dev"\u001b[0m\n    \u001b[38;5;141m~\u001b[0m tags.team\u001b[0m:\u001b[0m \u001b[38;5;208m"a"\u001b[0m => \u001b[38;5;77m"b"\u001b[0m\n\u001b[38;5;141m\u001b[0m\nResource changes: 1 to create, 1 to modify.';

describe('formatWhatIf', () => {
  it('prints every kind of change as az does, byte for byte', () => {
    expect(formatWhatIf(KITCHEN, false)).toBe(KITCHEN_TEXT);
  });

  it('colours as az does on a terminal, and not at all otherwise', () => {
    expect(formatWhatIf(SMALL, true)).toBe(SMALL_COLORED);
    expect(formatWhatIf(SMALL, false)).toBe(
      SMALL_COLORED.replace(new RegExp(`${ESC}\\[[0-9;]*m`, 'g'), ''),
    );
    expect(formatWhatIf(SMALL, false)).not.toContain(ESC);
  });

  it('says "this symbol" and "scope:" for one kind in one scope, "no change." for none', () => {
    const one = formatWhatIf(
      [{ resourceId: `${SUB}/resourceGroups/rg/providers/A.B/c/d`, changeType: 'NoChange' }],
      false,
    );
    expect(one).toBe(
      [
        'Note: The result may contain false positive predictions (noise).',
        'You can help us improve the accuracy of the result by opening an issue here: https://aka.ms/WhatIfIssues',
        '',
        'Resource and property changes are indicated with this symbol:',
        '  = Nochange',
        '',
        'The deployment will update the following scope:',
        '',
        `Scope: ${SUB}/resourceGroups/rg`,
        '',
        '  = A.B/c/d',
        '',
        'Resource changes: 1 no change.',
      ].join('\n'),
    );
    expect(formatWhatIf([], false).split('\n').slice(2)).toEqual([
      '',
      '',
      'Resource changes: no change.',
    ]);
  });

  it('takes change types in any case and refuses unknown ones', () => {
    const lower = formatWhatIf(
      [{ resourceId: `${SUB}/resourceGroups/rg/providers/A.B/c/d`, changeType: 'create' }],
      false,
    );
    expect(lower).toContain('\n  + A.B/c/d\n');
    expect(() => formatWhatIf([{ resourceId: `${SUB}/x`, changeType: 'Explode' }], false)).toThrow(
      'Invalid change type: Explode',
    );
  });
});

describe('excludeChangeTypes', () => {
  it('leaves out the types named, in any case', () => {
    const kept = excludeChangeTypes(KITCHEN, ['nochange', 'IGNORE', 'Delete']).map(
      (c) => c.changeType,
    );
    expect(kept).toEqual(['Modify', 'Deploy', 'Create', 'Unsupported']);
    expect(excludeChangeTypes(KITCHEN, undefined)).toHaveLength(KITCHEN.length);
  });
});
