// `tessera identity federated-credential`: a user-assigned identity's federated credentials, with `az identity federated-credential`'s names, flags and output.
import type { Command } from 'commander';
import type { ArmClient, ArmObject } from '../client/arm.js';
import { AZ_API_VERSIONS, flattenProperties, identityPath, withApiVersion } from './arm-ids.js';
import { addResourceGroup } from './az-result.js';
import {
  type ClientFlagOptions,
  connect,
  print,
  reporting,
  subscriptionOf,
  usage,
} from './client-kit.js';

/** Options of the `tessera identity federated-credential` commands. */
export interface FederatedCredentialOptions extends ClientFlagOptions {
  readonly resourceGroup: string;
  readonly identityName: string;
  readonly name?: string;
  readonly issuer?: string;
  readonly subject?: string;
  readonly audiences?: string[];
  readonly yes?: boolean;
}

/** What az 2.45 sends when `--audiences` is not given (PROTOCOL-TOOLS.md B.1.8). */
const DEFAULT_AUDIENCE = 'api://AzureADTokenExchange';

/** A credential as az prints it: `properties` flattened, `resourceGroup` added. */
const azCredential = (credential: ArmObject): ArmObject =>
  addResourceGroup(flattenProperties(credential));

/** The path of the credentials of the identity the options name, or of one of them. */
async function credentialPath(
  arm: ArmClient,
  options: FederatedCredentialOptions,
  name?: string,
): Promise<string> {
  const sub = await subscriptionOf(arm, options);
  const collection = `${identityPath(sub, options.resourceGroup, options.identityName)}/federatedIdentityCredentials`;
  const path = name === undefined ? collection : `${collection}/${encodeURIComponent(name)}`;
  return withApiVersion(path, AZ_API_VERSIONS.identities);
}

/** Registers the subcommands on `identity`; `flags` adds the client flags and examples. */
export function registerFederatedCredentialCommands(
  identity: Command,
  flags: (command: Command, ...example: string[]) => Command,
): void {
  const group = identity
    .command('federated-credential')
    .description(
      "an identity's federated credentials: foreign tokens it trusts, as `az identity federated-credential`",
    );
  const onIdentity = (name: string, description: string): Command =>
    group
      .command(name)
      .description(description)
      .requiredOption('-g, --resource-group <group>', 'the resource group')
      .requiredOption('--identity-name <name>', "the identity's name");

  for (const verb of ['create', 'update'] as const) {
    flags(
      onIdentity(verb, `${verb} a federated credential (PUT: create or replace)`)
        .requiredOption('-n, --name <name>', "the credential's name")
        .option('--issuer <url>', "the issuer's URL, as in the tokens' iss")
        .option('--subject <subject>', "the tokens' sub")
        .option('--audiences <audiences...>', `the tokens' aud (default ${DEFAULT_AUDIENCE})`),
      `tessera identity federated-credential ${verb} -g my-rg --identity-name app -n github --issuer https://token.actions.githubusercontent.com --subject repo:org/app:ref:refs/heads/main`,
    ).action((options: FederatedCredentialOptions, command: Command) =>
      reporting(async () => {
        if (options.issuer === undefined || options.subject === undefined) {
          return usage(
            command,
            'usage error: please provide both --issuer and --subject parameters',
          );
        }
        const { arm } = await connect(options, command);
        const properties = {
          issuer: options.issuer,
          subject: options.subject,
          audiences: options.audiences ?? [DEFAULT_AUDIENCE],
        };
        const path = await credentialPath(arm, options, options.name);
        print(azCredential((await arm.request('PUT', path, { properties })).body), options);
      }),
    );
  }

  flags(
    onIdentity('show', 'show a federated credential').requiredOption(
      '-n, --name <name>',
      "the credential's name",
    ),
    'tessera identity federated-credential show -g my-rg --identity-name app -n github',
  ).action((options: FederatedCredentialOptions, command: Command) =>
    reporting(async () => {
      const { arm } = await connect(options, command);
      const path = await credentialPath(arm, options, options.name);
      print(azCredential((await arm.request('GET', path)).body), options);
    }),
  );

  flags(
    onIdentity('list', "list an identity's federated credentials"),
    'tessera identity federated-credential list -g my-rg --identity-name app -o table',
  ).action((options: FederatedCredentialOptions, command: Command) =>
    reporting(async () => {
      const { arm } = await connect(options, command);
      const found = await arm.list(await credentialPath(arm, options));
      print(found.map(azCredential), options);
    }),
  );

  flags(
    onIdentity('delete', 'delete a federated credential (none there is no error)')
      .requiredOption('-n, --name <name>', "the credential's name")
      .option('-y, --yes', 'do not ask for confirmation (the CLI never asks; accepted as az does)'),
    'tessera identity federated-credential delete -g my-rg --identity-name app -n github --yes',
  ).action((options: FederatedCredentialOptions, command: Command) =>
    reporting(async () => {
      const { arm } = await connect(options, command);
      await arm.request('DELETE', await credentialPath(arm, options, options.name));
    }),
  );
}
