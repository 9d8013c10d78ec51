// `tessera identity federated-credential` as an operator runs it, with az's flags: one real
// `tessera server`, the CLI against it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  json,
  oneLine,
  type Result,
  run,
  type ServerUnderTest,
  startServer,
  stop,
} from './cli-harness.js';

let dir: string;
let server: ServerUnderTest;

const tessera = (...args: string[]): Promise<Result> => run([...args, ...server.flags]);

const ON = ['-g', 'fic-rg', '--identity-name', 'app'];
const GITHUB = 'https://token.actions.githubusercontent.com';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-cli-fic-'));
  server = await startServer(join(dir, 'data'));
  expect((await tessera('group', 'create', '-n', 'fic-rg', '-l', 'westeurope')).code).toBe(0);
  expect((await tessera('identity', 'create', '-g', 'fic-rg', '-n', 'app')).code).toBe(0);
});

afterAll(async () => {
  await stop(server.child);
  await rm(dir, { recursive: true, force: true });
});

describe('tessera identity federated-credential', { timeout: 120_000 }, () => {
  it('creates, lists, shows, updates and deletes, printing what az prints', async () => {
    const subject = 'repo:octo/app:ref:refs/heads/main';
    const created = json(
      await tessera(
        ...['identity', 'federated-credential', 'create', ...ON, '-n', 'github'],
        ...['--issuer', GITHUB, '--subject', subject],
      ),
    );
    expect(created).toMatchObject({
      name: 'github',
      resourceGroup: 'fic-rg',
      issuer: GITHUB,
      subject,
      audiences: ['api://AzureADTokenExchange'],
      type: 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials',
    });
    const updated = json(
      await tessera(
        ...['identity', 'federated-credential', 'update', ...ON, '-n', 'github'],
        ...[
          '--issuer',
          GITHUB,
          '--subject',
          'repo:octo/app:environment:prod',
          '--audiences',
          'api://Other',
        ],
      ),
    );
    expect(updated).toMatchObject({
      subject: 'repo:octo/app:environment:prod',
      audiences: ['api://Other'],
    });
    const listed = await tessera(
      'identity',
      'federated-credential',
      'list',
      ...ON,
      '--query',
      '[].name',
      '-o',
      'tsv',
    );
    expect(listed.stdout.trim()).toBe('github');
    const shown = json(
      await tessera('identity', 'federated-credential', 'show', ...ON, '-n', 'github'),
    );
    expect(shown).toEqual(updated);
    const deleted = await tessera(
      'identity',
      'federated-credential',
      'delete',
      ...ON,
      '-n',
      'github',
      '--yes',
    );
    expect([deleted.code, deleted.stdout, deleted.stderr]).toEqual([0, '', '']);
    const gone = await tessera('identity', 'federated-credential', 'show', ...ON, '-n', 'github');
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('ResourceNotFound');
  });

  it('refuses a missing subject as az does, and says Azure’s refusal in one line', async () => {
    const missing = await tessera(
      'identity',
      'federated-credential',
      'create',
      ...ON,
      '-n',
      'x1',
      '--issuer',
      GITHUB,
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('please provide both --issuer and --subject');
    const two = await tessera(
      ...[
        'identity',
        'federated-credential',
        'create',
        ...ON,
        '-n',
        'two-audiences',
        '--issuer',
        GITHUB,
      ],
      ...['--subject', 's', '--audiences', 'a', 'b'],
    );
    expect(two.code).toBe(1);
    expect(oneLine(two)).toContain(
      'Federated identity credentials must have exactly one audience.',
    );
  });
});
