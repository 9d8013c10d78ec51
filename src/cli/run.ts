// The `tessera` command line: parses the arguments, runs the command, and turns errors into exit statuses.
import { CommanderError } from 'commander';
import { isAppError } from '../core/errors.js';
import { buildProgram } from './program.js';
import type { CliDependencies } from './server-launcher.js';

/**
 * Runs `tessera` on `argv` (`process.argv`'s shape) with `deps`. A usage error is exit status 2
 * (commander has written it), as is a configuration found wrong after loading (one line on
 * stderr); anything else is rethrown.
 */
export async function runCli(argv: readonly string[], deps: CliDependencies): Promise<void> {
  try {
    await buildProgram(deps).parseAsync(argv);
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
}
