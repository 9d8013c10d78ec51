// Unit tests of how `tessera deployment` reads a template and `--parameters`, case by case as az 2.45's `_process_parameters` does.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientError } from '../client/errors.js';
import {
  type Ask,
  completeParameters,
  defaultDeploymentName,
  expandFileArgument,
  missingParameters,
  processParameters,
  readTemplateFile,
  type ReadTextFile,
} from './deployment-parameters.js';

/** A file system of these files only. */
const files =
  (contents: Record<string, string>): ReadTextFile =>
  (path) =>
    contents[path];

const DECLARED = {
  name: { type: 'string' },
  secret: { type: 'secureString' },
  count: { type: 'int' },
  enabled: { type: 'Bool' },
  tags: { type: 'object' },
  zones: { type: 'array' },
  settings: { type: 'secureObject' },
  odd: { type: 'float' },
  untyped: {},
};

const PARAMETERS_FILE = `// comments are fine
{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
  "contentVersion": "1.0.0.0",
  "parameters": { "name": { "value": "from-file" }, "count": { "value": 2 } }
}`;

/** The error message `work` fails with, after checking it is the CLI's InvalidArgument. */
function refusal(work: () => unknown): string {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).code).toBe('InvalidArgument');
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('processParameters', () => {
  const warnings: string[] = [];
  const process = (items: string[], read: ReadTextFile = files({})) =>
    processParameters(DECLARED, items, { read, warn: (m) => warnings.push(m) });

  it('unwraps a parameters file given by path or as @file, and a bare object inline', () => {
    const read = files({ 'p.json': PARAMETERS_FILE });
    const expected = { name: { value: 'from-file' }, count: { value: 2 } };
    expect(process(['p.json'], read)).toEqual(expected);
    expect(process(['@p.json'], read)).toEqual(expected);
    expect(process(['{"name": {"value": "inline"}} // a comment'])).toEqual({
      name: { value: 'inline' },
    });
  });

  it('coerces KEY=VALUE by the declared type, as az does', () => {
    expect(
      process([
        'name=a=b',
        'secret=s3cret',
        'count=-42',
        'enabled=TRUE',
        'tags={"team":"a"}',
        'zones=[1,"2"]',
        'settings={"k":null}',
      ]),
    ).toEqual({
      name: { value: 'a=b' },
      secret: { value: 's3cret' },
      count: { value: -42 },
      enabled: { value: true },
      tags: { value: { team: 'a' } },
      zones: { value: [1, '2'] },
      settings: { value: { k: null } },
    });
    expect(process(['enabled=yes', 'count=1_000'])).toEqual({
      enabled: { value: false },
      count: { value: 1000 },
    });
  });

  it('takes an unknown or missing type as a string, with az own warning', () => {
    warnings.length = 0;
    expect(process(['odd=1.5', 'untyped=x'])).toEqual({
      odd: { value: '1.5' },
      untyped: { value: 'x' },
    });
    expect(warnings).toEqual([
      "Unrecognized type 'float' for parameter 'odd'. Interpretting as string.",
      "Unrecognized type 'None' for parameter 'untyped'. Interpretting as string.",
    ]);
  });

  it('merges in order, later values winning', () => {
    const read = files({ 'p.json': PARAMETERS_FILE });
    expect(process(['p.json', 'count=7', '{"name":{"value":"last"}}'], read)).toEqual({
      name: { value: 'last' },
      count: { value: 7 },
    });
    expect(process(['count=7', 'p.json'], read)).toEqual({
      name: { value: 'from-file' },
      count: { value: 2 },
    });
  });

  it('reads KEY=@file as the file text, trailing line breaks removed', () => {
    const read = files({ 'key.pub': 'ssh-rsa AAAA\n\n' });
    expect(process(['name=@key.pub'], read)).toEqual({ name: { value: 'ssh-rsa AAAA' } });
  });

  it('refuses what az refuses, in its words', () => {
    expect(refusal(() => process(['nosuch=1']))).toBe(
      "unrecognized template parameter 'nosuch'. Allowed parameters: count, enabled, name, odd, secret, settings, tags, untyped, zones",
    );
    expect(refusal(() => process(['garbage']))).toBe('Unable to parse parameter: garbage');
    expect(refusal(() => process(['@missing.json']))).toBe(
      'Unable to parse parameter: @missing.json',
    );
    expect(refusal(() => process(['count=abc']))).toBe(
      "invalid literal for int() with base 10: 'abc'",
    );
    expect(refusal(() => process(['tags=notjson']))).toMatch(
      /^Failed to parse string as JSON:\nnotjson\nError detail: /,
    );
    expect(refusal(() => process(['p.json'], files({ 'p.json': '{ nope' })))).toMatch(
      /^Failed to parse p\.json with exception: /,
    );
  });
});

describe('expandFileArgument', () => {
  const read = files({ f: 'text\r\n' });
  it('expands @file and KEY=@file, and leaves anything else alone', () => {
    expect(expandFileArgument('@f', read)).toBe('text');
    expect(expandFileArgument('k=@f', read)).toBe('k=text');
    expect(expandFileArgument('@nosuch', read)).toBe('@nosuch');
    expect(expandFileArgument('@', read)).toBe('@');
    expect(expandFileArgument('user@f', read)).toBe('user@f');
  });
});

describe('missing parameters', () => {
  const template = {
    parameters: {
      b: { type: 'string' },
      a: { type: 'int' },
      c: { type: 'string', defaultValue: 'c' },
      pick: { type: 'string', allowedValues: ['x', 'y'] },
      flag: { type: 'bool', metadata: { description: 'Turn it on' } },
    },
  };

  it('are those without a default or a value, in template order', () => {
    expect(missingParameters(template, { a: { value: 1 } }).map(([n]) => n)).toEqual([
      'b',
      'pick',
      'flag',
    ]);
  });

  it('fail, sorted, without a terminal; only warn with --no-prompt', async () => {
    const warnings: string[] = [];
    const warn = (m: string) => warnings.push(m);
    await expect(
      completeParameters(template, {}, { noPrompt: false, ask: undefined, warn }),
    ).rejects.toThrow('Missing input parameters: a, b, flag, pick');
    expect(
      await completeParameters(template, {}, { noPrompt: true, ask: undefined, warn }),
    ).toEqual({});
    expect(warnings).toEqual(['Missing input parameters: a, b, flag, pick ']);
  });

  it('are asked for on a terminal, each answer read by its type', async () => {
    const questions: string[] = [];
    const answers = ['?', 'abc', '12', '7', '2', 'yes', 't'];
    const ask: Ask = (question) => {
      questions.push(question);
      return Promise.resolve(answers.shift() ?? '');
    };
    const done = await completeParameters(
      { parameters: { ...template.parameters, c: { type: 'int' } } },
      { b: { value: 'given' } },
      { noPrompt: false, ask, warn: () => undefined },
    );
    expect(done).toEqual({
      b: { value: 'given' },
      a: { value: 12 },
      c: { value: 7 },
      pick: { value: 'y' },
      flag: { value: true },
    });
    expect(questions[0]).toBe("Please provide int value for 'a' (? for help): ");
    expect(questions[1]).toBe(
      "Missing description\nPlease provide int value for 'a' (? for help): ",
    );
    expect(questions[4]).toBe(
      "Please provide string value for 'pick' (? for help): \n [1] x\n [2] y\nPlease enter a choice [Default choice(1)]: ",
    );
  });
});

describe('template files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-template-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('are JSON with comments, a byte-order mark allowed', async () => {
    const file = join(dir, 'main.json');
    await writeFile(file, '\uFEFF// note\n{ "resources": [ /* none */ ],\n "x": "a\nb" }');
    expect(readTemplateFile(file)).toEqual({ resources: [], x: 'a\nb' });
  });

  it('are refused, as az does, when missing or not JSON', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{ "resources": [ }');
    expect(refusal(() => readTemplateFile(bad))).toBe(
      `Failed to parse '${bad}', please check whether it is a valid JSON format`,
    );
    expect(refusal(() => readTemplateFile('nosuch.json'))).toBe(
      "[Errno 2] No such file or directory: 'nosuch.json'",
    );
  });

  it('name the deployment by their base name', () => {
    expect(defaultDeploymentName('infra/main.json')).toBe('main');
    expect(defaultDeploymentName('vm.deploy.jsonc')).toBe('vm.deploy');
    expect(defaultDeploymentName('template')).toBe('template');
  });
});
