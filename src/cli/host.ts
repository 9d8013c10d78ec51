// `tessera host create`: an operator command that gives a host its one-time join token, run where the server runs.
//
// Like `tessera signing-key`, it opens the store directly: an operator enrolling the first hosts
// needs no ARM token for it. Over HTTP the same is `PUT /agent/v1/hosts/{name}`.
import { isAppError } from '../core/errors.js';
import { issueJoinToken } from '../server/agent-api/hosts.js';
import type { ConfigFlagOptions } from './flags.js';
import { withStore } from './operator-store.js';

/**
 * Creates host `name` (or gives an existing one a new join token, which replaces the previous
 * token) and prints `{"id","name","joinToken"}` as JSON on stdout, the only time the token is
 * shown. A bad name prints one line on stderr and sets exit code 2.
 */
export async function runHostCreate(options: ConfigFlagOptions & { name: string }): Promise<void> {
  await withStore(options, async (store) => {
    try {
      const { created, host } = await issueJoinToken(
        { store, clock: { now: () => Date.now() } },
        options.name,
      );
      process.stdout.write(`${JSON.stringify(host, null, 2)}\n`);
      process.stderr.write(
        `${created ? 'created host' : 'new join token for host'} '${host.name}': the join token is shown only now and works once${created ? '' : '; the previous one no longer works'}\n`,
      );
    } catch (error) {
      if (!isAppError(error) || error.status >= 500) throw error;
      process.stderr.write(`tessera: ${error.message}\n`);
      process.exitCode = 2;
    }
  });
}
