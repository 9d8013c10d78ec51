// Tests for Azure RBAC action-pattern matching: wildcards, case, and literal metacharacters.
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { actionMatches, compileActionPattern, validateActionPattern } from './actions.js';

describe('action patterns', () => {
  const table: [pattern: string, action: string, matches: boolean][] = [
    // `*` alone grants everything
    ['*', 'Microsoft.Compute/virtualMachines/read', true],
    ['*', 'Microsoft.KeyVault/vaults/secrets/getSecret/action', true],
    // case-insensitive, both ways
    ['Microsoft.Compute/virtualMachines/read', 'microsoft.compute/VIRTUALMACHINES/Read', true],
    ['microsoft.web/sites/restart/Action', 'Microsoft.Web/sites/restart/action', true],
    // literal patterns match exactly, not as prefixes
    ['Microsoft.Compute/virtualMachines/read', 'Microsoft.Compute/virtualMachines/readX', false],
    ['Microsoft.Compute/virtualMachines/read', 'Microsoft.Compute/virtualMachines', false],
    // `*/read`: read on every type of every provider, however deep
    ['*/read', 'Microsoft.Compute/virtualMachines/read', true],
    ['*/read', 'Microsoft.Network/virtualNetworks/subnets/read', true],
    ['*/read', 'Microsoft.Compute/virtualMachines/write', false],
    ['*/read', 'Microsoft.Storage/storageAccounts/unread', false],
    // `Provider/*`: all actions of a provider
    ['Microsoft.Authorization/*', 'Microsoft.Authorization/roleAssignments/write', true],
    ['Microsoft.Authorization/*', 'Microsoft.AuthorizationX/roleAssignments/write', false],
    ['Microsoft.Support/*', 'Microsoft.Support/supportTickets/write', true],
    // a middle wildcard crosses segments
    ['Microsoft.Authorization/*/Delete', 'Microsoft.Authorization/roleAssignments/delete', true],
    ['Microsoft.Authorization/*/Write', 'Microsoft.Authorization/policyAssignments/write', true],
    ['Microsoft.Authorization/*/Write', 'Microsoft.Authorization/roleAssignments/read', false],
    ['Microsoft.Network/*/read', 'Microsoft.Network/virtualNetworks/subnets/read', true],
    ['Microsoft.Network/*/read', 'Microsoft.Compute/virtualMachines/read', false],
    // … and may stand for no segment: Managed Identity Operator's patterns grant the actions ARM
    // checks (userAssignedIdentities/assign/action when attaching an identity to a VM)
    [
      'Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action',
      'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action',
      true,
    ],
    [
      'Microsoft.ManagedIdentity/userAssignedIdentities/*/read',
      'Microsoft.ManagedIdentity/userAssignedIdentities/read',
      true,
    ],
    [
      'Microsoft.ManagedIdentity/userAssignedIdentities/*/read',
      'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read',
      true,
    ],
    [
      'Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action',
      'Microsoft.ManagedIdentity/userAssignedIdentities/write',
      false,
    ],
    // but never glues two segments together
    ['Microsoft.Authorization/*/Delete', 'Microsoft.Authorization/xdelete', false],
    // a trailing wildcard covers the type's own actions and its children's
    [
      'Microsoft.KeyVault/vaults/secrets/*',
      'Microsoft.KeyVault/vaults/secrets/getSecret/action',
      true,
    ],
    ['Microsoft.KeyVault/vaults/secrets/*', 'Microsoft.KeyVault/vaults/keys/read', false],
    ['Microsoft.KeyVault/vaults/*', 'Microsoft.KeyVault/vaults/certificates/read', true],
    ['Microsoft.KeyVault/vaults/*', 'Microsoft.KeyVault/vaultsX/read', false],
    ['Microsoft.CostManagement/exports/*', 'Microsoft.CostManagement/exports/run/action', true],
    // a wildcard inside a segment matches any run of characters
    ['Microsoft.Compute/virtual*/read', 'Microsoft.Compute/virtualMachineScaleSets/read', true],
    ['Microsoft.Compute/virtual*/read', 'Microsoft.Compute/disks/read', false],
    // repeated whole-segment wildcards behave like one
    ['*/*', 'Microsoft.Compute/virtualMachines/read', true],
    ['Microsoft.Compute/*/*/read', 'Microsoft.Compute/virtualMachines/read', true],
  ];

  it.each(table)('%s ~ %s -> %s', (pattern, action, matches) => {
    expect(actionMatches(pattern, action)).toBe(matches);
  });

  it('treats regular-expression metacharacters literally', () => {
    expect(actionMatches('Microsoft.Web/sites/read', 'MicrosoftXWeb/sites/read')).toBe(false);
    expect(actionMatches('Microsoft.Web/*/re.d', 'Microsoft.Web/sites/read')).toBe(false);
    expect(actionMatches('a(b|c)+/*', 'a(b|c)+/x')).toBe(true);
    expect(actionMatches('a(b|c)+/*', 'ab/x')).toBe(false);
    expect(actionMatches('[x]/*', 'x/y')).toBe(false);
    expect(actionMatches('^$\\/*', '^$\\/y')).toBe(true);
  });

  it('compiles a pattern once, whatever its case', () => {
    expect(compileActionPattern('Microsoft.Network/*/read')).toBe(
      compileActionPattern('MICROSOFT.NETWORK/*/READ'),
    );
  });

  it.each([
    ['empty', ''],
    ['blank', '  '],
    ['too long', `Microsoft.Compute/${'x'.repeat(600)}`],
    ['too many wildcards', '*a*b*c*d*e'],
  ])('refuses a pattern that is %s with a 400 InvalidParameter', (_label, pattern) => {
    expect(() => {
      validateActionPattern(pattern, 'actions');
    }).toThrow(AppError);
    expect(() => compileActionPattern(pattern)).toThrow(
      expect.objectContaining({ code: 'InvalidParameter', target: 'permissions' }),
    );
  });

  it('accepts four wildcards', () => {
    expect(actionMatches('*a*b*c*d', 'xaybzcwd')).toBe(true);
  });
});
