// The `tessera` command line: parses arguments and hands each command to its module.
import { Command, CommanderError, Option } from 'commander';
import { isAppError } from '../core/errors.js';
import { runAgent } from './agent.js';
import { registerAgentNetworkCommand } from './agent-network.js';
import { runConfigShow } from './config-show.js';
import { registerDemoStoryCommand } from './demo-story.js';
import { registerExtensionCommand } from './extension.js';
import { type ConfigFlagOptions, parseSetFlag } from './flags.js';
import { registerGroupCommands } from './group.js';
import { runHostCreate } from './host.js';
import { registerIdentityCommands } from './identity.js';
import { registerKeyVaultCommands } from './keyvault.js';
import { registerLoginCommands } from './login.js';
import { registerMigrateCommand } from './migrate/scan.js';
import { registerRoleCommands } from './role.js';
import { runServer } from './server-start.js';
import { runSigningKeyList, runSigningKeyRotate } from './signing-key.js';
import { registerTokenCommand } from './token.js';
import { runUp } from './up.js';
import { addResetFlag } from './up-reset.js';
import { registerVmCommands } from './vm.js';
import { registerVmssCommands } from './vmss.js';

function addConfigFlags(command: Command): Command {
  return command
    .option('-c, --config <file>', 'configuration file (.json, .yaml, .yml)')
    .option('--data-dir <dir>', 'data directory (default ./.tessera)')
    .option(
      '--set <key=value>',
      'set any configuration key by its dotted path (repeatable), e.g. --set server.port=9000',
      parseSetFlag,
    );
}

/** `--imds-rate-limit on|off` for the commands that serve IMDS. */
function addImdsFlags(command: Command): Command {
  return command.addOption(
    new Option(
      '--imds-rate-limit <mode>',
      "IMDS throttling per VM (Azure's limits); off for benchmarks and load tests",
    ).choices(['on', 'off']),
  );
}

function buildProgram(): Command {
  const program = new Command('tessera')
    .description('Self-hosted managed identities for virtual machines, wire-compatible with Azure.')
    // A usage mistake is one line (`error: …`), as every other error; `--help` shows the usage.
    .exitOverride();

  addResetFlag(
    addImdsFlags(
      addConfigFlags(
        program
          .command('up')
          .description(
            'run everything in one process on an embedded database (for a laptop or CI)',
          ),
      ),
    ),
  ).action(async (options: ConfigFlagOptions & { reset?: boolean }) => {
    await runUp(options);
  });

  addConfigFlags(
    program
      .command('server')
      .description(
        'run the server: directory and token issuer, ARM, Key Vault and the agent API (hosts run `tessera agent`)',
      ),
  ).action(async (options: ConfigFlagOptions) => {
    await runServer(options);
  });

  addImdsFlags(
    addConfigFlags(
      program
        .command('agent')
        .description(
          'run the host agent: IMDS for the VMs on this host (needs agent.serverUrl, and agent.joinToken once)',
        ),
    ),
  ).action(async (options: ConfigFlagOptions) => {
    await runAgent(options);
  });

  registerAgentNetworkCommand(program);
  registerExtensionCommand(program);
  registerMigrateCommand(program);

  const config = program.command('config').description('inspect the configuration');
  addConfigFlags(
    config
      .command('show')
      .description('print the configuration in effect, secrets hidden, as JSON'),
  ).action((options: ConfigFlagOptions) => {
    runConfigShow(options);
  });

  const signingKey = program
    .command('signing-key')
    .description('token-signing keys (operator commands, run where the server runs)');
  addConfigFlags(signingKey.command('list').description('list the published signing keys')).action(
    async (options: ConfigFlagOptions) => {
      await runSigningKeyList(options);
    },
  );
  addConfigFlags(
    signingKey
      .command('rotate')
      .description('publish a new key now; it signs after the publish lead')
      .option('--immediate', 'sign with the new key at once and unpublish all others (compromise)'),
  ).action(async (options: ConfigFlagOptions & { immediate?: boolean }) => {
    await runSigningKeyRotate(options);
  });

  const host = program
    .command('host')
    .description('agent hosts (operator commands, run where the server runs)');
  addConfigFlags(
    host
      .command('create')
      .description('create a host (or renew its join token) and print its one-time join token')
      .requiredOption('-n, --name <name>', "the host's name: 1-63 letters, digits, '-', '_', '.'"),
  ).action(async (options: ConfigFlagOptions & { name: string }) => {
    await runHostCreate(options);
  });

  registerLoginCommands(program, addConfigFlags);
  registerKeyVaultCommands(program, addConfigFlags);
  registerDemoStoryCommand(program, addConfigFlags);
  registerGroupCommands(program, addConfigFlags);
  registerIdentityCommands(program, addConfigFlags);
  registerRoleCommands(program, addConfigFlags);
  registerVmCommands(program, addConfigFlags);
  registerVmssCommands(program, addConfigFlags);
  registerTokenCommand(program);

  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has already written its message (or the help text).
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else if (isAppError(error) && error.code === 'ConfigInvalid') {
    // Found after loading (the data directory, the master key file): the same one line.
    process.stderr.write(`tessera: ${error.message}\n`);
    process.exitCode = 2;
  } else {
    throw error;
  }
}
