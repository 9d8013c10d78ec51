// Unit tests of the migrate rules: what each finds in a text and what its fix writes.
import { describe, expect, it } from 'vitest';
import { findUses, fixUses } from './rules.js';

const IMDS = 'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01';

const brief = (path: string, text: string): string[] =>
  findUses(path, text).map((f) => `${String(f.line)}:${f.kind}:${f.fixable ? 'fix' : 'keep'}`);

describe('legacy token URLs', () => {
  it.each([
    [
      `curl -H Metadata:true 'http://localhost:50342/oauth2/token?resource=https://vault.azure.net'`,
      `curl -H Metadata:true '${IMDS}&resource=https://vault.azure.net'`,
    ],
    [
      `url = "http://127.0.0.1:50342/oauth2/token?resource=r&client_id=c"`,
      `url = "${IMDS}&resource=r&client_id=c"`,
    ],
    [
      `get("http://localhost:50342/oauth2/token?api-version=2018-02-01&resource=r")`,
      `get("${IMDS}&resource=r")`,
    ],
    [`x = 'localhost:50342/oauth2/token?' + q`, `x = '${IMDS}&' + q`],
    [
      `requests.get("http://localhost:50342/oauth2/token", params=p)`,
      `requests.get("${IMDS}", params=p)`,
    ],
  ])('rewrites %s', (before, after) => {
    expect(brief('a.txt', before)).toEqual(['1:legacy-url:fix']);
    expect(fixUses('a.txt', before)).toBe(after);
    expect(findUses('a.txt', after)).toEqual([]);
  });

  it.each([
    ['curl without a Metadata header', `curl -s 'http://localhost:50342/oauth2/token?resource=r'`],
    ['a curl form POST', `curl localhost:50342/oauth2/token -d resource=r -H Metadata:true`],
    ['a POST in code', `requests.post("http://localhost:50342/oauth2/token", data=d)`],
    [
      'a query appended later',
      `E = "http://localhost:50342/oauth2/token"\nu = E + "?resource=" + r`,
    ],
  ])('lists but leaves %s', (_, text) => {
    const [finding] = findUses('a.sh', text);
    expect(finding).toMatchObject({ kind: 'legacy-url', fixable: false });
    expect(finding?.reason).toMatch(/\w/);
    expect(fixUses('a.sh', text)).toBe(text);
  });

  it('sees the Metadata header on a continuation line, and curl -G as a GET', () => {
    const text = `curl -G http://localhost:50342/oauth2/token \\\n  --data-urlencode resource=r \\\n  -H 'Metadata: true'\n`;
    expect(brief('a.sh', text)).toEqual(['1:legacy-url:fix']);
  });

  it('lists other URLs on the host, and leaves IMDS and other ports alone', () => {
    const text = `base = "http://localhost:50342/"\nok = "${IMDS}&resource=r"\nother = "http://localhost:503420/oauth2/token"\n`;
    expect(brief('a.py', text)).toEqual(['1:legacy-host:keep']);
    expect(fixUses('a.py', text)).toBe(text);
  });
});

describe('extension installs in scripts', () => {
  it('finds Set-AzVMExtension and az vm extension set for the managed-identity extension only', () => {
    const text = [
      'Set-AzVMExtension -VMName v `',
      '  -Publisher Microsoft.ManagedIdentity -ExtensionType ManagedIdentityExtensionForWindows',
      'Set-AzureRmVMExtension -Name x -ExtensionType ManagedIdentityExtensionForLinux',
      'Remove-AzVMExtension -Name ManagedIdentityExtensionForLinux',
      'Set-AzVMExtension -Publisher Microsoft.Azure.Extensions -ExtensionType CustomScript',
      'az vmss extension set -n ManagedIdentityExtensionForLinux --publisher Microsoft.ManagedIdentity',
      'az vm extension set -n CustomScript --publisher Microsoft.Azure.Extensions',
    ].join('\n');
    expect(brief('a.ps1', text)).toEqual([
      '1:powershell-extension:keep',
      '3:powershell-extension:keep',
      '6:az-cli-extension:keep',
    ]);
    expect(findUses('a.ps1', text)[0]?.replacement).toBe(
      'remove this step: IMDS needs no extension',
    );
  });
});

const extension = (name: string): string =>
  `{"name": "${name}", "properties": {"publisher": "Microsoft.ManagedIdentity", "type": "ManagedIdentityExtensionForLinux"}}`;

describe('ARM templates', () => {
  it('removes a nested extension and the dependsOn that names it, keeping the layout', () => {
    const before = [
      '{',
      '    "resources": [',
      '        {"name": "vm", "resources": [',
      `            ${extension('ManagedIdentityExtensionForLinux')},`,
      '            {"name": "other"}',
      '        ]},',
      '        {"name": "cs", "dependsOn": ["a", "[resourceId(\'Microsoft.Compute/virtualMachines/extensions\', \'vm\', \'ManagedIdentityExtensionForLinux\')]"]}',
      '    ]',
      '}',
    ].join('\r\n');
    const after = [
      '{',
      '    "resources": [',
      '        {"name": "vm", "resources": [',
      '            {"name": "other"}',
      '        ]},',
      '        {"name": "cs", "dependsOn": ["a"]}',
      '    ]',
      '}',
    ].join('\r\n');
    expect(brief('t.json', before)).toEqual(['4:arm-extension:fix']);
    expect(fixUses('t.json', before)).toBe(after);
  });

  it('removes a last or only entry, a scale-set entry and its provisionAfterExtensions', () => {
    const before = `{"extensions": [{"name": "b", "properties": {"provisionAfterExtensions": ["mi"]}}, ${extension('mi')}], "r": [${extension('x')}]}\n`;
    expect(fixUses('t.json', before)).toBe(
      `{"extensions": [{"name": "b", "properties": {"provisionAfterExtensions": []}}], "r": []}\n`,
    );
  });

  it('removes a symbolic-name resource (languageVersion 2.0) and references to its name', () => {
    const before = `{"resources": {"vm": {"dependsOn": ["mi"]}, "mi": ${extension('vm/mi')}}}`;
    expect(fixUses('t.json', before)).toBe(`{"resources": {"vm": {"dependsOn": []}}}`);
  });

  it('lists but leaves JSON that does not parse, and an extension outside any list', () => {
    const commented = `{"resources": [\n  // a comment\n  ${extension('mi')}\n]}`;
    expect(brief('t.json', commented)).toEqual(['3:arm-extension:keep']);
    expect(fixUses('t.json', commented)).toBe(commented);
    const body = extension('mi');
    expect(brief('body.json', body)).toEqual(['1:arm-extension:keep']);
    expect(fixUses('body.json', body)).toBe(body);
  });

  it('reads only .json files as templates, and finds nothing in a template without it', () => {
    expect(findUses('t.yaml', extension('mi'))).toEqual([]);
    expect(findUses('t.json', '{"resources": [{"name": "vm"}]}')).toEqual([]);
  });
});
