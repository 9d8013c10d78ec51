// The `tessera` command tree: every command, its flags and help, each handed to its module.
import { Command, Option } from 'commander';
import { LOG_LEVELS } from '../config/index.js';
import { registerAdCommands } from './ad-sp.js';
import { runAgent } from './agent.js';
import { registerAgentNetworkCommand } from './agent-network.js';
import { type ConfigShowOptions, runConfigShow } from './config-show.js';
import { registerDemoStoryCommand } from './demo-story.js';
import { registerDeploymentCommands } from './deployment.js';
import { addOutputFlags, withExample } from './client-kit.js';
import { registerExtensionCommand } from './extension.js';
import { type ConfigFlagOptions, parseSetFlag } from './flags.js';
import { registerGroupCommands } from './group.js';
import { registerHostCommands } from './host.js';
import { registerIdentityCommands } from './identity.js';
import { registerInstallationCommands } from './installation.js';
import { registerKeyVaultCommands } from './keyvault.js';
import { registerLoginCommands } from './login.js';
import { registerMigrateCommand } from './migrate/scan.js';
import { registerRoleCommands } from './role.js';
import type { CliDependencies } from './server-launcher.js';
import { runServer } from './server-start.js';
import { registerSigningKeyCommands } from './signing-key.js';
import { registerTokenCommand } from './token.js';
import { runUp, type UpOptions } from './up.js';
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

/** What `tessera up --log-level` takes: pino's levels but `silent` (warnings always show). */
const UP_TERMINAL_LEVELS = LOG_LEVELS.filter((level) => level !== 'silent');

/** `--imds-rate-limit on|off` for the commands that serve IMDS. */
function addImdsFlags(command: Command): Command {
  return command.addOption(
    new Option(
      '--imds-rate-limit <mode>',
      "IMDS throttling per VM (Azure's limits); off for benchmarks and load tests",
    ).choices(['on', 'off']),
  );
}

/**
 * `--help` examples of the commands whose modules do not add their own, by command path. Every
 * runnable command has one (src/cli/program.test.ts checks).
 */
const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  up: [
    'npm start -- --data-dir ./.tessera',
    'tessera up --reset --imds-rate-limit off',
    'tessera up --log-level info   # every request on the terminal too',
    'tessera up --storage-compatible-issuer   # tokens Azurite (--oauth basic) accepts',
  ],
  server: [
    'tessera server --config /etc/tessera/server.yaml',
    'TESSERA_STORE_DRIVER=postgres TESSERA_STORE_POSTGRES_URL=postgres://tessera@db/tessera tessera server',
  ],
  agent: [
    'tessera agent --set agent.serverUrl=https://tessera.example:8443 --set agent.joinToken="$JOIN_TOKEN"',
  ],
  'agent network up': ['tessera agent network up --bridge tessera0 --anti-spoofing'],
  'agent network down': ['tessera agent network down --bridge tessera0'],
  'agent network allow': ['tessera agent network allow --port vm-a0 --address 10.0.0.4'],
  'agent network revoke': ['tessera agent network revoke --port vm-a0'],
  extension: ['tessera extension', 'tessera extension --port 50343'],
  'config show': ['tessera config show --config tessera.yaml --set server.port=9000'],
  'signing-key list': ['tessera signing-key list --data-dir /var/lib/tessera -o table'],
  'signing-key rotate': ['tessera signing-key rotate', 'tessera signing-key rotate --immediate'],
  logout: ['tessera logout'],
  'ad sp create-for-rbac': [
    'tessera ad sp create-for-rbac -n ci-deployer --role Contributor --scopes /subscriptions/$SUB/resourceGroups/demo-rg',
    'tessera ad sp create-for-rbac -n portal-viewer --role Reader --scopes / --query password -o tsv',
  ],
  'keyvault create': ['tessera keyvault create -n team-vault -g demo-rg'],
  'keyvault secret set': [
    'tessera keyvault secret set --vault-name team-vault -n db-password --value "$PASSWORD"',
    'tessera keyvault secret set --vault-name team-vault -n tls-key --file key.pem',
  ],
  'keyvault secret show': [
    'tessera keyvault secret show --vault-name team-vault -n db-password --query value -o tsv',
  ],
  'keyvault secret list': ['tessera keyvault secret list --vault-name team-vault -o table'],
  'keyvault secret delete': ['tessera keyvault secret delete --vault-name team-vault -n api-key'],
  demo: ['npm start   # in one terminal', 'npm run tessera -- demo   # in another'],
};

/** The command's path below the program (`keyvault secret set`). */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command = command; c.parent !== null; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function addExamples(command: Command): void {
  const example = EXAMPLES[commandPath(command)];
  if (example !== undefined) withExample(command, ...example);
  command.commands.forEach(addExamples);
}

/**
 * Builds the whole `tessera` program (it parses nothing); `deps` are what its commands start of
 * other layers (the server, for `up` and `server`).
 */
export function buildProgram(deps: CliDependencies): Command {
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
  )
    .addOption(
      new Option(
        '--log-level <level>',
        'also show the log on the terminal from this level up (default: warnings and errors; all of it is in <dataDir>/tessera.log)',
      ).choices(UP_TERMINAL_LEVELS),
    )
    .option(
      '--storage-compatible-issuer',
      "sign tokens with Microsoft's v1 issuer https://sts.windows.net/{tenantId}/, the only kind Azurite accepts, unless server.tokens.issuer is set (docs/running.md)",
    )
    .action(async (options: UpOptions) => {
      await runUp(options, deps.launchServer);
    });

  addConfigFlags(
    program
      .command('server')
      .description(
        'run the server: directory and token issuer, ARM, Key Vault and the agent API (hosts run `tessera agent`)',
      ),
  ).action(async (options: ConfigFlagOptions) => {
    await runServer(options, deps.launchServer);
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
  addOutputFlags(
    addConfigFlags(
      config.command('show').description('print the configuration in effect, secrets hidden'),
    ),
  ).action(async (options: ConfigShowOptions) => {
    await runConfigShow(options);
  });

  registerSigningKeyCommands(program, addConfigFlags);
  registerInstallationCommands(program, addConfigFlags);
  registerHostCommands(program, addConfigFlags);

  registerLoginCommands(program, addConfigFlags);
  registerAdCommands(program, addConfigFlags);
  registerKeyVaultCommands(program, addConfigFlags);
  registerDemoStoryCommand(program, addConfigFlags);
  registerGroupCommands(program, addConfigFlags);
  registerDeploymentCommands(program, addConfigFlags);
  registerIdentityCommands(program, addConfigFlags);
  registerRoleCommands(program, addConfigFlags);
  registerVmCommands(program, addConfigFlags);
  registerVmssCommands(program, addConfigFlags);
  registerTokenCommand(program, addConfigFlags);

  addExamples(program);
  return program;
}
