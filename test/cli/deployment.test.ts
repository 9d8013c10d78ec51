// `tessera deployment group …`, `deployment operation group list` and `group export` as an operator runs them: one real `tessera server`, az 2.45's flags, output and errors.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Result, run, type ServerUnderTest, startServer, stop } from './cli-harness.js';

let dir: string;
let server: ServerUnderTest;
const GROUP = 'deploy-rg';
const SCHEMA = 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#';
const IDENTITIES = 'Microsoft.ManagedIdentity/userAssignedIdentities';
const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';

/** Runs `tessera ...args` against the server as its administrator, in the templates' directory. */
const tessera = (...args: string[]): Promise<Result> => run([...args, ...server.flags], {}, dir);

/** `tessera deployment group VERB … -g deploy-rg`. */
const dg = (verb: string, ...args: string[]): Promise<Result> =>
  tessera('deployment', 'group', verb, ...args, '-g', GROUP);

/** `tessera deployment operation group list -g deploy-rg -n NAME …`. */
const operations = (name: string, ...args: string[]): Promise<Result> =>
  tessera('deployment', 'operation', 'group', 'list', '-g', GROUP, '-n', name, ...args);

/** The JSON a successful command printed. */
function json(result: Result): Record<string, unknown> {
  expect([result.code, result.stderr]).toEqual([0, '']);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

/** The one line a failed command wrote on stderr (nothing on stdout), with its exit status. */
function failure(result: Result, code: 1 | 2): string {
  expect([result.code, result.stdout]).toEqual([code, '']);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0] ?? '';
}

/** An identity, optionally granted Reader on the group; outputs echo each parameter's type. */
const MAIN = `// A template as people write them: comments, and a multi-line expression.
{
  "$schema": "${SCHEMA}",
  "contentVersion": "1.0.0.0",
  "parameters": {
    "identityName": { "type": "string" }, // no default: it must be given
    "copies": { "type": "int", "defaultValue": 1 },
    "grantReader": { "type": "bool", "defaultValue": true },
    "labels": { "type": "object", "defaultValue": {} }
  },
  /* the identity first, then its grant */
  "resources": [
    {
      "type": "${IDENTITIES}",
      "apiVersion": "2023-01-31",
      "name": "[parameters('identityName')]",
      "location": "[resourceGroup().location]",
      "tags": "[parameters('labels')]"
    },
    {
      "condition": "[parameters('grantReader')]",
      "type": "Microsoft.Authorization/roleAssignments",
      "apiVersion": "2022-04-01",
      "name": "[guid(resourceGroup().id, parameters('identityName'))]",
      "dependsOn": ["[parameters('identityName')]"],
      "properties": {
        "roleDefinitionId": "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '${READER}')]",
        "principalId": "[reference(parameters('identityName')).principalId]",
        "principalType": "ServicePrincipal"
      }
    }
  ],
  "outputs": {
    "principalId": { "type": "string", "value": "[reference(parameters('identityName')).principalId]" },
    "copies": { "type": "int", "value": "[parameters('copies')]" },
    "grantReader": { "type": "bool", "value": "[parameters('grantReader')]" },
    "labels": { "type": "object", "value": "[parameters('labels')]" }
  }
}
`;

const PARAMETERS = JSON.stringify({
  $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#',
  contentVersion: '1.0.0.0',
  parameters: { identityName: { value: 'app-id' }, copies: { value: 2 } },
});

const template = (resources: unknown[]) =>
  JSON.stringify({ $schema: SCHEMA, contentVersion: '1.0.0.0', resources });
const identity = (name: string, tags?: Record<string, string>) => ({
  type: IDENTITIES,
  apiVersion: '2023-01-31',
  name,
  location: '[resourceGroup().location]',
  ...(tags === undefined ? {} : { tags }),
});
const STORAGE = {
  type: 'Microsoft.Storage/storageAccounts',
  apiVersion: '2023-01-01',
  name: 'tesserastore1',
  location: '[resourceGroup().location]',
  sku: { name: 'Standard_LRS' },
  kind: 'StorageV2',
};
const BAD_ROLE = [
  identity('grantee'),
  {
    type: 'Microsoft.Authorization/roleAssignments',
    apiVersion: '2022-04-01',
    name: "[guid(resourceGroup().id, 'no-such-role')]",
    dependsOn: ['grantee'],
    properties: {
      roleDefinitionId:
        "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '00000000-0000-0000-0000-00000000dead')]",
      principalId: "[reference('grantee').principalId]",
    },
  },
];

let sub: string;
let created: Record<string, unknown>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-cli-deploy-'));
  server = await startServer(join(dir, 'data'));
  await Promise.all([
    writeFile(join(dir, 'main.json'), MAIN),
    writeFile(join(dir, 'main.parameters.json'), PARAMETERS),
    writeFile(join(dir, 'name.txt'), 'from-a-file\n'),
    writeFile(join(dir, 'bad-role.json'), template(BAD_ROLE)),
    writeFile(join(dir, 'storage.json'), template([STORAGE])),
    writeFile(
      join(dir, 'second.json'),
      template([identity('app-id', { team: 'b', env: 'dev' }), identity('second'), STORAGE]),
    ),
  ]);
  const group = json(await tessera('group', 'create', '-n', GROUP, '-l', 'westeurope'));
  sub = String(group.id).split('/')[2] ?? '';
});

afterAll(async () => {
  await stop(server.child);
  await rm(dir, { recursive: true, force: true });
});

describe('tessera deployment group', { timeout: 300_000 }, () => {
  it('create: deploys a commented template with a parameters file and KEY=VALUE by type', async () => {
    created = json(
      await dg(
        ...['create', '-f', 'main.json', '-p', '@main.parameters.json'],
        ...['-p', 'copies=3', 'grantReader=false', '-p', 'labels={"team":"a"}'],
      ),
    );
    // az's DeploymentExtended: named after the file, every model field, resourceGroup added.
    expect(created).toMatchObject({
      id: `/subscriptions/${sub}/resourceGroups/${GROUP}/providers/Microsoft.Resources/deployments/main`,
      name: 'main',
      type: 'Microsoft.Resources/deployments',
      location: null,
      tags: null,
      resourceGroup: GROUP,
      properties: {
        provisioningState: 'Succeeded',
        mode: 'Incremental',
        error: null,
        templateLink: null,
        debugSetting: null,
        parameters: {
          identityName: { type: 'String', value: 'app-id' },
          copies: { type: 'Int', value: 3 },
          grantReader: { type: 'Bool', value: false },
          labels: { type: 'Object', value: { team: 'a' } },
        },
        outputs: {
          copies: { type: 'Int', value: 3 },
          grantReader: { type: 'Bool', value: false },
          labels: { type: 'Object', value: { team: 'a' } },
        },
      },
    });
    const properties = created.properties as Record<string, unknown>;
    expect(properties.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/);
    expect(properties.outputResources).toEqual([
      {
        id: `/subscriptions/${sub}/resourceGroups/${GROUP}/providers/${IDENTITIES}/app-id`,
        resourceGroup: GROUP,
      },
    ]);
    const principal = await tessera(
      ...['identity', 'show', '-g', GROUP, '-n', 'app-id', '--query', 'principalId', '-o', 'tsv'],
    );
    const outputs = properties.outputs as Record<string, { value: unknown }>;
    expect(principal.stdout).toBe(`${String(outputs.principalId?.value)}\n`);
  });

  it('create: takes a parameters file by path, inline JSON and KEY=@file, later ones winning', async () => {
    const parameters = json(
      await dg(
        ...['create', '-n', 'forms', '-f', 'main.json'],
        ...[
          '-p',
          'main.parameters.json',
          '{"copies": {"value": 5}} // inline',
          'identityName=@name.txt',
        ],
        ...['--query', 'properties.parameters'],
      ),
    );
    expect(parameters).toEqual({
      identityName: { type: 'String', value: 'from-a-file' },
      copies: { type: 'Int', value: 5 },
      grantReader: { type: 'Bool', value: true },
      labels: { type: 'Object', value: {} },
    });
  });

  it('create: refuses parameters as az does, before any request', async () => {
    const create = (...more: string[]) => dg('create', '-f', 'main.json', ...more);
    const [unknown, garbage, missing, notInt, noFile] = await Promise.all([
      create('-p', 'identityName=x', 'nosuch=1'),
      create('-p', 'garbage'),
      create(),
      create('-p', 'identityName=x', 'copies=three'),
      dg('create', '-f', 'nosuch.json'),
    ]);
    expect(failure(unknown, 1)).toBe(
      "ERROR: unrecognized template parameter 'nosuch'. Allowed parameters: copies, grantReader, identityName, labels",
    );
    expect(failure(garbage, 1)).toBe('ERROR: Unable to parse parameter: garbage');
    // No terminal to ask on (stdin is not one here): az's error.
    expect(failure(missing, 1)).toBe('ERROR: Missing input parameters: identityName');
    expect(failure(notInt, 1)).toBe("ERROR: invalid literal for int() with base 10: 'three'");
    expect(failure(noFile, 1)).toBe("ERROR: [Errno 2] No such file or directory: 'nosuch.json'");

    // --no-prompt sends it anyway: the server's validation refuses it, printed as az prints it.
    const sent = await create('--no-prompt');
    expect([sent.code, sent.stdout]).toEqual([1, '']);
    const [warning, error] = sent.stderr.trimEnd().split('\n');
    expect(warning).toBe('WARNING: Missing input parameters: identityName ');
    // The file's own line and column: the template goes out as the file's text, as az sends it.
    const lines = MAIN.split('\n');
    const at = lines.findIndex((l) => l.includes('"identityName": {'));
    const column = (lines[at] ?? '').indexOf('{') + 1;
    expect(error).toContain(
      `{"code": "InvalidTemplate", "message": "Deployment template validation failed: 'The value for the template parameter 'identityName' at line '${at + 1}' and column '${column}' is not provided.`,
    );
  });

  it('show, list, validate and operation list print what az prints', async () => {
    const [shown, table, names, failedOnly, validated, ops] = await Promise.all([
      dg('show', '-n', 'main'),
      dg('list', '-o', 'table'),
      dg('list', '--query', 'sort([].name)', '-o', 'tsv'),
      dg('list', '--filter', "provisioningState eq 'Failed'"),
      dg('validate', '-f', 'main.json', '-p', 'identityName=v', '-o', 'table'),
      operations('forms'),
    ]);
    expect(json(shown)).toEqual(created);
    expect(table.stdout.split('\n')[0]).toMatch(/^Name +State +Timestamp +Mode +ResourceGroup$/);
    expect(table.stdout).toMatch(/\nmain +Succeeded +\S+\+00:00 +Incremental +deploy-rg\n/);
    expect(names.stdout).toBe('forms\nmain\n');
    expect(JSON.parse(failedOnly.stdout)).toEqual([]);
    expect(validated.stdout.split('\n').slice(0, 3)).toEqual([
      'Result     CorrelationId',
      '---------  ------------------------------------',
      expect.stringMatching(/^Succeeded {2}[0-9a-f-]{36}$/),
    ]);
    const listed = JSON.parse(ops.stdout) as Record<string, Record<string, unknown>>[];
    expect(listed.map((op) => op.properties?.targetResource)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ resourceType: IDENTITIES, resourceName: 'from-a-file' }),
        expect.objectContaining({ resourceType: 'Microsoft.Authorization/roleAssignments' }),
      ]),
    );
    expect(listed).toHaveLength(2);
    for (const op of listed) {
      expect(op.properties).toMatchObject({
        provisioningState: 'Succeeded',
        statusMessage: null,
        request: null,
      });
    }
  });

  it.each([
    ['bad-role.json', 'RoleDefinitionDoesNotExist'],
    ['storage.json', 'InvalidResourceNamespace'],
  ])('create: %s fails with the status body on one line, as az prints it', async (file, code) => {
    const name = file.replace('.json', '');
    const line = failure(await dg('create', '-f', file), 1);
    expect(line).toMatch(/^ERROR: \{"status":"Failed","error":\{"code":"DeploymentFailed",/);
    const body = JSON.parse(line.slice('ERROR: '.length)) as {
      error: { details: { code: string }[] };
    };
    expect(body.error.details.map((d) => d.code)).toEqual([code]);

    const failedCodes =
      "[?properties.provisioningState=='Failed'].properties.statusMessage.error.code";
    const [state, failed] = await Promise.all([
      dg('show', '-n', name, '--query', 'properties.provisioningState', '-o', 'tsv'),
      operations(name, '--query', failedCodes),
    ]);
    expect(state.stdout).toBe('Failed\n');
    expect(JSON.parse(failed.stdout)).toEqual([code]);
  });

  it('what-if: prints az pretty changes against the same group, or the result as data', async () => {
    const whatIf = (...more: string[]) => dg('what-if', '-f', 'second.json', ...more);
    const [pretty, data, excluded, viaCreate] = await Promise.all([
      whatIf(),
      whatIf(
        '--no-pretty-print',
        '--query',
        'sort_by(changes, &resourceId)[].[changeType, resourceId]',
      ),
      whatIf('-x', 'Ignore', 'unsupported'),
      dg('create', '-f', 'second.json', '--what-if'),
    ]);
    expect([pretty.code, pretty.stderr]).toEqual([0, '']);
    const lines = pretty.stdout.split('\n');
    expect(lines.slice(0, 11)).toEqual([
      'Note: The result may contain false positive predictions (noise).',
      'You can help us improve the accuracy of the result by opening an issue here: https://aka.ms/WhatIfIssues',
      '',
      'Resource and property changes are indicated with these symbols:',
      '  + Create',
      '  ~ Modify',
      '  x Unsupported',
      '  * Ignore',
      '',
      'The deployment will update the following scope:',
      '',
    ]);
    expect(pretty.stdout).toContain(`\n  + ${IDENTITIES}/second [2023-01-31]\n`);
    expect(pretty.stdout).toContain(
      `\n  ~ ${IDENTITIES}/app-id [2023-01-31]\n    + tags.env:  "dev"\n    ~ tags.team: "a" => "b"\n`,
    );
    expect(pretty.stdout).toContain('\n  x Microsoft.Storage/storageAccounts/tesserastore1\n');
    // The group's other identities (from-a-file, grantee) are left alone: Ignore.
    expect(pretty.stdout).toContain(`\n  * ${IDENTITIES}/from-a-file\n`);
    expect(lines.at(-2)).toBe(
      'Resource changes: 1 to create, 1 to modify, 1 unsupported, 2 to ignore.',
    );
    expect(lines.at(-1)).toBe('');
    expect(pretty.stdout).not.toContain('\u001b[');

    const changes = JSON.parse(data.stdout) as [string, string][];
    const types = changes.map(([type]) => type).sort();
    expect(types).toEqual(['Create', 'Ignore', 'Ignore', 'Modify', 'Unsupported']);
    expect(excluded.stdout.split('\n').at(-2)).toBe('Resource changes: 1 to create, 1 to modify.');
    expect(viaCreate.stdout).toBe(pretty.stdout);
    // --what-if deployed nothing.
    const second = await tessera('identity', 'show', '-g', GROUP, '-n', 'second');
    expect(second.code).toBe(1);
  });

  it('--no-wait returns at once; show follows the deployment; export and delete', async () => {
    const started = await dg(
      ...['create', '-n', 'later', '-f', 'main.json', '-p', 'identityName=later-id', '--no-wait'],
    );
    expect([started.code, started.stdout, started.stderr]).toEqual([0, '', '']);
    let state = '';
    for (let i = 0; i < 100 && state !== 'Succeeded\n'; i += 1) {
      const query = ['--query', 'properties.provisioningState', '-o', 'tsv'];
      const shown = await dg('show', '-n', 'later', ...query);
      state = shown.stdout;
      expect(['Accepted\n', 'Running\n', 'Succeeded\n']).toContain(state);
    }
    expect(state).toBe('Succeeded\n');

    const exported = await dg('export', '-n', 'later');
    // az prints the template as it was deployed, in its own order.
    const keys = Object.keys(json(exported));
    expect(keys).toEqual(['$schema', 'contentVersion', 'parameters', 'resources', 'outputs']);

    const [cancel, deleted] = await Promise.all([
      dg('cancel', '-n', 'later'),
      dg('delete', '-n', 'forms'),
    ]);
    expect(failure(cancel, 1)).toBe(
      "tessera: DeploymentCannotBeCancelled: The deployment 'later' cannot be cancelled because its provisioning state is 'Succeeded'. Only a deployment that is 'Accepted' or 'Running' can be cancelled.",
    );
    expect([deleted.code, deleted.stdout, deleted.stderr]).toEqual([0, '', '']);
    const gone = await dg('show', '-n', 'forms');
    expect(failure(gone, 1)).toBe(
      "tessera: DeploymentNotFound: Deployment 'forms' could not be found.",
    );
    // Deleting the history entry leaves what it deployed.
    const kept = await tessera('identity', 'list', '-g', GROUP, '--query', '[].name');
    expect(JSON.parse(kept.stdout)).toContain('from-a-file');
  });
});

describe('tessera group export', { timeout: 120_000 }, () => {
  it("captures the group as a template, with az's flags as ARM's options", async () => {
    const appId = `/subscriptions/${sub}/resourceGroups/${GROUP}/providers/${IDENTITIES}/app-id`;
    const exportOf = (name: string, ...more: string[]) =>
      tessera('group', 'export', '-n', name, ...more);
    const [all, literal, one, missing] = await Promise.all([
      exportOf(GROUP),
      exportOf(GROUP, '--skip-resource-name-params', '--query', 'resources[].name'),
      exportOf(GROUP, '--include-parameter-default-value', '--resource-ids', appId),
      exportOf('no-such-group'),
    ]);
    const template = json(all);
    expect(template.$schema).toBe(SCHEMA);
    const types = (template.resources as { type: string }[]).map((r) => r.type);
    expect(types).toContain(IDENTITIES);
    expect(types).toContain('Microsoft.Authorization/roleAssignments');
    expect(json(literal) as unknown as string[]).toEqual(
      expect.arrayContaining(['app-id', 'from-a-file', 'later-id']),
    );
    const single = json(one);
    expect(single.resources).toHaveLength(1);
    expect(single.parameters).toEqual({
      userAssignedIdentities_app_id_name: { type: 'String', defaultValue: 'app-id' },
    });
    expect(failure(missing, 1)).toBe(
      "tessera: ResourceGroupNotFound: Resource group 'no-such-group' could not be found.",
    );
    const badId = await exportOf(GROUP, '--resource-ids', 'app-id');
    expect(failure(badId, 2)).toBe(
      "error: argument --resource-ids: invalid ResourceId value: 'app-id'",
    );
  });
});
