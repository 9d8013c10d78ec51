// Every command that prints data takes `--output` and `--query`; the few that do not are listed here with the reason.
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, commandPath } from '../../src/cli/program.js';
import type { CliDependencies } from '../../src/cli/server-launcher.js';

/** The program's dependencies for a test that only reads its commands: nothing is started. */
const READ_ONLY: CliDependencies = {
  launchServer: () => Promise.reject(new Error('this test starts no server')),
};

/**
 * The commands without `--output`, each with why: they print no data a script would select from
 * (a long-running process's banner, words about what an action did, a report for a person or a
 * CI log), or nothing at all.
 */
const WITHOUT_OUTPUT: Readonly<Record<string, string>> = {
  up: 'runs until stopped; prints where it listens (scripts read up.json)',
  server: 'runs until stopped; prints where it listens',
  agent: 'runs until stopped; prints where IMDS listens',
  extension: 'runs until stopped; prints where the legacy shim listens',
  'agent network up': "reports in words what it changed on the host's network",
  'agent network down': "reports in words what it removed from the host's network",
  'agent network allow': 'reports in words the addresses it allowed',
  'agent network revoke': 'reports in words the addresses it revoked',
  'migrate scan':
    'a linter: file:line findings for a person or a CI log, the verdict in the exit status',
  'signing-key rotate':
    'reports in words what the rotation committed; `signing-key list` gives the keys as data',
  'installation update':
    'reports in words what it recorded; `installation show` gives the record as data',
  logout: 'prints nothing on stdout (one line on stderr)',
  demo: 'tells a story in numbered steps for a person',
};

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

const has = (command: Command, flag: string): boolean =>
  command.options.some((option) => option.long === flag);

describe('--output and --query', () => {
  const commands = runnable(buildProgram(READ_ONLY));

  it('are taken together, by every command outside the list', () => {
    const without = commands.filter((c) => !has(c, '--output')).map(commandPath);
    expect(without.sort()).toEqual(Object.keys(WITHOUT_OUTPUT).sort());
    const outputOnly = commands.filter((c) => has(c, '--output') !== has(c, '--query'));
    expect(outputOnly.map(commandPath)).toEqual([]);
  });

  it('--output is -o, as in az, wherever it is taken', () => {
    const long = commands.filter(
      (c) => has(c, '--output') && !c.options.some((option) => option.short === '-o'),
    );
    expect(long.map(commandPath)).toEqual([]);
  });

  it('covers the commands the CLI gaps were found in', () => {
    const paths = commands.filter((c) => has(c, '--output')).map(commandPath);
    for (const path of [
      'host create',
      'host list',
      'host show',
      'host delete',
      'signing-key list',
      'config show',
      'keyvault list',
      'keyvault show',
      'keyvault delete',
      'keyvault secret list',
    ]) {
      expect(paths).toContain(path);
    }
  });
});
