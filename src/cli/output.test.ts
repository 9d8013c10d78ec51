// Tests of the client commands' output: az's json, table and tsv, after a JMESPath --query.
import { describe, expect, it } from 'vitest';
import { QueryError, renderOutput } from './output.js';

const identities = [
  {
    name: 'web',
    id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/web',
    type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
    location: 'westus',
    tags: { team: 'a' },
    clientId: 'c-1',
    enabled: true,
    note: null,
  },
  { name: 'batch-runner', location: 'eastus', clientId: 'c-22', enabled: false },
];

describe('renderOutput', () => {
  it('writes JSON indented by 2 with keys sorted at every depth, as az does', () => {
    expect(renderOutput({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } }, 'json', undefined)).toBe(
      '{\n  "a": {\n    "c": null,\n    "d": [\n      {\n        "y": 2,\n        "z": 1\n      }\n    ]\n  },\n  "b": 1\n}\n',
    );
  });

  it('tables the scalar fields without id, type and etag, headed in capitals, sorted', () => {
    expect(renderOutput(identities, 'table', undefined)).toBe(
      [
        'ClientId  Enabled  Location  Name',
        '--------  -------  --------  ------------',
        'c-1       True     westus    web',
        'c-22      False    eastus    batch-runner',
        '',
      ].join('\n'),
    );
  });

  it("keeps a query's column order in a table, and tables bare values", () => {
    expect(renderOutput(identities, 'table', '[].{n:name, where:location}')).toBe(
      'N             Where\n------------  ------\nweb           westus\nbatch-runner  eastus\n',
    );
    expect(renderOutput(identities, 'table', '[].name')).toBe(
      'Result\n------------\nweb\nbatch-runner\n',
    );
    expect(renderOutput([], 'table', undefined)).toBe('');
  });

  it('writes tsv: values sorted by key, lists as their length, objects empty, None for null', () => {
    expect(renderOutput(identities[0], 'tsv', undefined)).toBe(
      [
        'c-1',
        'True',
        identities[0]?.id,
        'westus',
        'web',
        'None',
        '',
        'Microsoft.ManagedIdentity/userAssignedIdentities',
      ].join('\t') + '\n',
    );
    expect(renderOutput(identities, 'tsv', '[].[name, clientId]')).toBe(
      'web\tc-1\nbatch-runner\tc-22\n',
    );
    // A list is one line per element, as `--query "[].name" -o tsv` in a shell loop expects.
    expect(renderOutput({ a: [1, 2, 3], b: true }, 'tsv', 'a')).toBe('1\n2\n3\n');
    expect(renderOutput([[1, [2, 3]]], 'tsv', undefined)).toBe('1\t2\n');
  });

  it('prints a bare scalar as itself, a top-level boolean in lower case', () => {
    expect(renderOutput(identities, 'tsv', '[0].clientId')).toBe('c-1\n');
    expect(renderOutput(identities, 'tsv', '[0].enabled')).toBe('true\n');
    expect(renderOutput(identities, 'json', '[0].clientId')).toBe('"c-1"\n');
  });

  it('prints nothing for no result, and nothing at all with none', () => {
    expect(renderOutput(identities, 'json', 'missing')).toBe('');
    expect(renderOutput(identities, 'tsv', '[0].note')).toBe('');
    expect(renderOutput(identities, 'none', undefined)).toBe('');
  });

  it('refuses a query that does not parse', () => {
    expect(() => renderOutput(identities, 'json', '[?name==')).toThrow(QueryError);
    expect(() => renderOutput(identities, 'json', '[?name==')).toThrow(
      "argument --query: invalid jmespath_type value: '[?name=='",
    );
  });
});
