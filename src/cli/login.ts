// `tessera login|logout|account show`: which application the client commands act as, like `az login --service-principal`.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ARM_SCOPE, createArmClient } from '../client/arm.js';
import {
  createTokenProvider,
  readLoginProfile,
  removeLoginProfile,
  writeLoginProfile,
} from '../client/credentials.js';
import { createHttp } from '../client/http.js';
import { ensureDataDir, loadConfigOrExit } from '../config/index.js';
import {
  addClientFlags,
  type ClientFlagOptions,
  connect,
  parseServerUrl,
  print,
  readCa,
  reporting,
  serverUrlFrom,
  subscriptionOf,
  usage,
  withExample,
} from './client-kit.js';
import { loadOptionsFrom } from './flags.js';

/** Options of `tessera login`. */
interface LoginOptions extends ClientFlagOptions {
  readonly servicePrincipal?: boolean;
  readonly username?: string;
  readonly password?: string;
  readonly tenant?: string;
}

/** `az login`'s answer: one entry per subscription the application sees. */
const accountOf = (
  subscription: Record<string, unknown>,
  tenantId: string,
  clientId: string,
  isDefault: boolean,
): Record<string, unknown> => ({
  cloudName: 'Tessera',
  id: subscription.subscriptionId,
  isDefault,
  name: subscription.displayName,
  state: subscription.state,
  tenantId,
  user: { name: clientId, type: 'servicePrincipal' },
});

/**
 * Signs in with the client-credentials grant, and only when that works records the application
 * (secret included, file mode 0600) and the server in `<dataDir>/login.json`; prints the
 * subscriptions it sees. Without `-u` it says how the dev default works instead.
 */
async function runLogin(options: LoginOptions, command: Command): Promise<void> {
  const { username, password, tenant } = options;
  if (options.servicePrincipal !== true || username === undefined || tenant === undefined) {
    return usage(
      command,
      'sign in as an application: tessera login --service-principal -u APPID -p SECRET --tenant TENANT (without a login, commands use <dataDir>/admin.json)',
    );
  }
  const secret = password ?? process.env.AZURE_CLIENT_SECRET;
  if (secret === undefined || secret === '') {
    return usage(command, 'pass the secret with -p SECRET (or set AZURE_CLIENT_SECRET)');
  }
  const config = loadConfigOrExit(loadOptionsFrom(options));
  const given = options.server ?? serverUrlFrom(config);
  if (given === undefined) return usage(command, 'pass --server URL: server.port is 0');
  const url = parseServerUrl(given, command);
  const server = `${url.origin}${url.pathname}`.replace(/\/+$/, '');
  const ca = options.ca === undefined ? undefined : resolve(options.ca);
  const caPem = ca === undefined ? undefined : await readCa(ca, true);
  const send = createHttp({ caPem });
  const credentials = {
    tenantId: tenant,
    clientId: username,
    clientSecret: secret,
    source: 'login',
  };
  const tokens = createTokenProvider({ serverUrl: server, credentials, send });
  await tokens.getToken(ARM_SCOPE);
  const arm = createArmClient({ serverUrl: server, send, tokens });
  const subscriptions = await arm.listSubscriptions();
  await ensureDataDir(config.dataDir);
  const file = await writeLoginProfile(config.dataDir, {
    tenantId: tenant,
    clientId: username,
    clientSecret: secret,
    server,
    ca,
  });
  process.stderr.write(`tessera: signed in as ${username}; saved in ${file} (mode 0600)\n`);
  print(
    subscriptions.map((s, i) => accountOf(s, tenant, username, i === 0)),
    options,
  );
}

/** Registers `login`, `logout` and `account show`; `addConfigFlags` gives each the configuration flags. */
export function registerLoginCommands(
  program: Command,
  addConfigFlags: (command: Command) => Command,
): void {
  withExample(
    addClientFlags(
      addConfigFlags(
        program
          .command('login')
          .description('sign in as an application; later commands act as it until `tessera logout`')
          .option('--service-principal', 'the credentials are an application (service principal)')
          .option('-u, --username <appId>', "the application's client id")
          .option('-p, --password <secret>', 'its client secret (default: AZURE_CLIENT_SECRET)')
          .option('-t, --tenant <tenantId>', 'its tenant'),
      ),
    ),
    'tessera login --service-principal -u 6f1c...e2 -p "$SECRET" --tenant 72f9...47 --server https://127.0.0.1:8443',
  ).action((options: LoginOptions, command: Command) =>
    reporting(() => runLogin(options, command)),
  );

  addConfigFlags(
    program.command('logout').description('forget the signed-in application (back to the default)'),
  ).action((options: ClientFlagOptions) =>
    reporting(async () => {
      const { dataDir } = loadConfigOrExit(loadOptionsFrom(options));
      const removed = await removeLoginProfile(dataDir);
      process.stderr.write(removed ? 'tessera: signed out\n' : 'tessera: nobody was signed in\n');
    }),
  );

  const account = program.command('account').description('the signed-in application');
  withExample(
    addClientFlags(
      addConfigFlags(account.command('show').description('show the subscription and the caller')),
    ),
    'tessera account show --query user.name -o tsv',
  ).action((options: ClientFlagOptions, command: Command) =>
    reporting(async () => {
      const { arm, tokens, config } = await connect(options, command);
      const subscriptionId = await subscriptionOf(arm, options);
      const subscription = (
        await arm.request('GET', `/subscriptions/${subscriptionId}?api-version=2022-12-01`)
      ).body;
      const profile = await readLoginProfile(config.dataDir);
      const clientId = profile?.clientId ?? (await tokens.clientId(ARM_SCOPE));
      const { tenantId: given } = subscription;
      const tenantId = typeof given === 'string' ? given : (profile?.tenantId ?? '');
      print(accountOf(subscription, tenantId, clientId, true), options);
    }),
  );
}
