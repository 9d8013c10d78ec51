// `tessera installation show|update`: the record every server replica must agree with, read and changed where servers run.
//
// Like `signing-key`, they open the store directly: the record decides which servers may start,
// so changing it is an operator's act on the database, not a request to a server.
import type { Command } from 'commander';
import { systemClock } from '../core/clock.js';
import { configInvalid } from '../core/errors.js';
import {
  type InstallationRecord,
  installationDisagreements,
  installationMismatchMessage,
} from '../core/installation.js';
import type { Store } from '../core/ports.js';
import { printResult } from './az-result.js';
import { addOutputFlags, type ClientFlagOptions, reporting, withExample } from './client-kit.js';
import type { ConfigFlagOptions } from './flags.js';
import { withStore } from './operator-store.js';

/** The installation record as `installation show` prints it (the master key only as a verdict). */
export interface InstallationView {
  readonly publicUrl: string;
  /** The issuer template (`server.tokens.issuer`), or null for `{publicUrl}/{tenantId}/`. */
  readonly issuer: string | null;
  /** Whether this command's master key is the installation's. */
  readonly masterKey: 'matches' | 'differs';
  /** When the values were recorded, ISO-8601. */
  readonly recordedAt: string;
}

/** `record` as {@link InstallationView}, the key judged against the one `store` was opened with. */
function viewOf(record: InstallationRecord, store: Store): InstallationView {
  const differs = installationDisagreements(
    {
      publicUrl: record.publicUrl,
      publicUrlConfigured: true,
      issuer: record.issuer,
      masterKeyCheck: store.installation.masterKeyCheck,
    },
    record,
  ).some((d) => d.setting === 'masterKey');
  return {
    publicUrl: record.publicUrl,
    issuer: record.issuer,
    masterKey: differs ? 'differs' : 'matches',
    recordedAt: new Date(record.recordedAt).toISOString(),
  };
}

const NOT_RECORDED =
  'no installation is recorded in this database yet: the first server to start records it';

/** Prints the installation record, with `--output` and `--query`. */
export async function runInstallationShow(
  options: ConfigFlagOptions & Pick<ClientFlagOptions, 'output' | 'query'>,
): Promise<void> {
  await reporting(() =>
    withStore(options, async (store) => {
      const record = await store.installation.get();
      if (record === undefined) throw configInvalid(NOT_RECORDED);
      printResult(viewOf(record, store), options);
    }),
  );
}

const shown = (issuer: string | null): string => issuer ?? 'not set';

/**
 * Records the `publicUrl` and `server.tokens.issuer` of the configuration in effect as
 * the installation's, so replicas configured with them may start (restarted one by one; running
 * ones keep what they started with). Refuses (`ConfigInvalid`) without `publicUrl`, and
 * with a master key that is not the installation's. Prints what changed.
 */
export async function runInstallationUpdate(options: ConfigFlagOptions): Promise<void> {
  await withStore(options, async (store, config) => {
    if (config.publicUrl === undefined) {
      throw configInvalid(
        'invalid configuration: publicUrl is required: `tessera installation update` records the publicUrl and server.tokens.issuer of its configuration as the installation’s',
      );
    }
    const values = {
      publicUrl: config.publicUrl.replace(/\/+$/, ''),
      issuer: config.server.tokens.issuer ?? null,
    };
    const now = systemClock.now();
    const { masterKeyCheck } = store.installation;
    const before = await store.installation.claim({ ...values, masterKeyCheck, recordedAt: now });
    const settings = { ...values, publicUrlConfigured: true, masterKeyCheck };
    const keyDiffers = installationDisagreements(settings, before).filter(
      (d) => d.setting === 'masterKey',
    );
    if (keyDiffers.length > 0) {
      throw configInvalid(installationMismatchMessage(keyDiffers, settings, before));
    }
    const after = (await store.installation.update(values, now)) ?? before;
    process.stdout.write(
      [
        `installation: publicUrl ${after.publicUrl} (was ${before.publicUrl}), server.tokens.issuer ${shown(after.issuer)} (was ${shown(before.issuer)})`,
        'restart every replica with these settings; replicas running now keep the ones they started with',
        '',
      ].join('\n'),
    );
  });
}

/** Adds `tessera installation show|update`; `addConfigFlags` gives each the configuration flags. */
export function registerInstallationCommands(
  program: Command,
  addConfigFlags: (command: Command) => Command,
): void {
  const installation = program
    .command('installation')
    .description(
      'what every server replica must agree on: public URL, issuer, master key (operator commands, run where the server runs)',
    );
  withExample(
    addOutputFlags(
      addConfigFlags(installation.command('show').description('show the installation record')),
    ),
    'tessera installation show --config /etc/tessera/server.yaml',
  ).action(async (options: ConfigFlagOptions & Pick<ClientFlagOptions, 'output' | 'query'>) => {
    await runInstallationShow(options);
  });
  withExample(
    addConfigFlags(
      installation
        .command('update')
        .description(
          "record this configuration's publicUrl and server.tokens.issuer as the installation's",
        ),
    ),
    'tessera installation update --config /etc/tessera/server.yaml --set publicUrl=https://tessera.example',
  ).action(async (options: ConfigFlagOptions) => {
    await runInstallationUpdate(options);
  });
}
