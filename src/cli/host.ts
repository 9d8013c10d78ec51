// `tessera host create`: gives a host its one-time join token, over HTTPS as an operator or in the store where the server runs.
//
// Over HTTPS it is `PUT /agent/v1/hosts/{name}` with the caller's ARM token (the role needs
// `Tessera.Agent/hosts/write` at `/`). Without a server to call, it opens the store directly, like
// `tessera signing-key`: an operator enrolling the first hosts on the server's machine needs no
// token for it.
import type { Command } from 'commander';
import { readLoginProfile } from '../client/credentials.js';
import { loadConfigOrExit } from '../config/index.js';
import { isAppError } from '../core/errors.js';
import { issueJoinToken } from '../server/agent-api/hosts.js';
import { connect, reporting } from './client-kit.js';
import { type ConfigFlagOptions, loadOptionsFrom } from './flags.js';
import { withStore } from './operator-store.js';

/** Options of `tessera host create`. */
export interface HostCreateOptions extends ConfigFlagOptions {
  readonly name: string;
  readonly server?: string;
  readonly ca?: string;
}

/** What both ways print: the host as JSON on stdout, and on stderr that the token shows once. */
function printHost(created: boolean, host: { readonly name: string }): void {
  process.stdout.write(`${JSON.stringify(host, null, 2)}\n`);
  process.stderr.write(
    `${created ? 'created host' : 'new join token for host'} '${host.name}': the join token is shown only now and works once${created ? '' : '; the previous one no longer works'}\n`,
  );
}

/**
 * Creates host `name` (or gives an existing one a new join token, which replaces the previous
 * token) and prints `{"id","name","joinToken"}`, the only time the token is shown. With
 * `--server`, or a server recorded by `tessera login`, it asks that server; an error is the
 * server's one line and exit status 1. Otherwise it writes the store of the configuration; a bad
 * name is one line and exit status 2.
 */
export async function runHostCreate(options: HostCreateOptions, command: Command): Promise<void> {
  const config = loadConfigOrExit(loadOptionsFrom(options));
  if (options.server !== undefined || (await readLoginProfile(config.dataDir)) !== undefined) {
    await reporting(async () => {
      const { arm } = await connect({ ...options, output: 'json' }, command);
      const answer = await arm.request(
        'PUT',
        `/agent/v1/hosts/${encodeURIComponent(options.name)}`,
      );
      printHost(answer.status === 201, answer.body as { name: string });
    });
    return;
  }
  await withStore(options, async (store) => {
    try {
      const { created, host } = await issueJoinToken(
        { store, clock: { now: () => Date.now() } },
        options.name,
      );
      printHost(created, host);
    } catch (error) {
      if (!isAppError(error) || error.status >= 500) throw error;
      process.stderr.write(`tessera: ${error.message}\n`);
      process.exitCode = 2;
    }
  });
}
