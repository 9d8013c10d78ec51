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
  chooseServer,
  type ClientFlagOptions,
  connect,
  print,
  reporting,
  subscriptionOf,
  tokensFor,
  usage,
  withExample,
} from './client-kit.js';
import { loadOptionsFrom } from './flags.js';
import { clearTokenCache } from './token-cache.js';

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
 * Signs in with the client-credentials grant against the server and CA other commands would use
 * ({@link chooseServer}), and only when that works records the application (secret included,
 * file mode 0600) in `<dataDir>/login.json`, with the server when `--server` or the configuration
 * named it and the CA when `--ca` did; prints the subscriptions it sees. Without `-u` it says how
 * the dev default works instead.
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
  // The server and CA every other command would use; an earlier login's server is not one.
  const { serverUrl, source, caPem } = await chooseServer(options, config, command, undefined);
  const send = createHttp({ caPem });
  const credentials = {
    tenantId: tenant,
    clientId: username,
    clientSecret: secret,
    source: 'login',
  };
  // Asked of the server, never taken from the cache: a wrong secret fails here.
  const minted = createTokenProvider({ serverUrl, credentials, send });
  await minted.getToken(ARM_SCOPE);
  await ensureDataDir(config.dataDir);
  const cached = tokensFor({ dataDir: config.dataDir, serverUrl, credentials, send, minted });
  const arm = createArmClient({ serverUrl, ...cached });
  const subscriptions = await arm.listSubscriptions();
  // A server found in up.json is not recorded: later commands follow up.json as `up` moves.
  const explicit = source === 'flag' || source === 'config';
  const file = await writeLoginProfile(config.dataDir, {
    tenantId: tenant,
    clientId: username,
    clientSecret: secret,
    server: explicit ? serverUrl : undefined,
    ca: options.ca === undefined ? undefined : resolve(options.ca),
  });
  process.stderr.write(
    `tessera: signed in as ${username} at ${serverUrl}; saved in ${file} (mode 0600)\n`,
  );
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
    'tessera login --service-principal -u 6f1c...e2 -p "$SECRET" --tenant 72f9...47   # the server of <dataDir>/up.json',
    'tessera login --service-principal -u 6f1c...e2 -p "$SECRET" --tenant 72f9...47 --server https://tessera.example:8444 --ca ca.pem',
  ).action((options: LoginOptions, command: Command) =>
    reporting(() => runLogin(options, command)),
  );

  addConfigFlags(
    program
      .command('logout')
      .description('forget the signed-in application and the cached tokens (back to the default)'),
  ).action((options: ClientFlagOptions) =>
    reporting(async () => {
      const { dataDir } = loadConfigOrExit(loadOptionsFrom(options));
      const removed = await removeLoginProfile(dataDir);
      await clearTokenCache(dataDir);
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
