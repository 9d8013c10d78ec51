// Tests of the command tree: every command a user runs says, in its --help, how to run it.
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, commandPath } from './program.js';
import type { CliDependencies } from './server-launcher.js';

/** The program's dependencies for tests that only read its commands: nothing is started. */
const READ_ONLY: CliDependencies = {
  launchServer: () => Promise.reject(new Error('this test starts no server')),
};

/** The help text as `--help` prints it, the text added after the options included. */
function helpOf(command: Command): string {
  let text = '';
  command.configureOutput({
    writeOut: (s) => {
      text += s;
    },
  });
  command.outputHelp();
  return text;
}

/** The commands that run something: the leaves, and `agent`, which also has subcommands. */
function runnable(program: Command): Command[] {
  const found: Command[] = [];
  const visit = (command: Command): void => {
    if (command.commands.length === 0 || commandPath(command) === 'agent') found.push(command);
    command.commands.forEach(visit);
  };
  program.commands.forEach(visit);
  return found;
}

describe('the tessera program', () => {
  const commands = runnable(buildProgram(READ_ONLY));

  it('has the az-shaped nouns and verbs the CLI promises', () => {
    const paths = commands.map(commandPath);
    for (const expected of [
      'login',
      'group create',
      'identity create',
      'vm create',
      'vm identity assign',
      'vm extension set',
      'vmss identity remove',
      'role assignment create',
      'role definition list',
      'host create',
      'token get',
      'keyvault secret show',
      'migrate scan',
      'demo',
    ]) {
      expect(paths).toContain(expected);
    }
  });

  it.each(
    runnable(buildProgram(READ_ONLY)).map((command) => [commandPath(command), command] as const),
  )('%s --help shows an example', (path, command) => {
    const help = helpOf(command);
    expect(help).toMatch(/\nExamples?:\n {2}\$ (tessera|npm|npx|TESSERA_)/);
    expect(help).toContain(`Usage: tessera ${path}`);
  });
});
