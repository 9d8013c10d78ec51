// Waiting for the signals that stop a long-running command.

/**
 * Resolves on the first SIGINT or SIGTERM. Later ones are ignored while the command shuts down:
 * Ctrl-C under `npm start` reaches the process twice (from the terminal's process group and again
 * from tsx, which forwards it), and Node's default for the second would kill the process before
 * it has closed its listeners and database.
 */
export function untilSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
