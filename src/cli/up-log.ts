// Where `tessera up` logs: every line to `<dataDir>/tessera.log`, warnings and errors (or more, on request) to the terminal.
import { closeSync, constants, fchmodSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import {
  createLogger,
  type LogDestination,
  type Logger,
  type LogLevel,
  moreVerbose,
} from '../config/logger.js';
import { prettyDestination } from '../config/log-pretty.js';

/** The log file in the data directory. */
export const LOG_FILE = 'tessera.log';

/** The least severe level the terminal always shows. */
const TERMINAL_FLOOR: LogLevel = 'warn';

/** Where the terminal's lines go. */
export interface Terminal {
  /** Written synchronously, as standard error is on a TTY, a pipe or a file. */
  readonly stream: { write(text: string): unknown };
  /** A person reads it: lines for a person rather than JSON. */
  readonly isTTY: boolean;
  readonly colors: boolean;
}

const standardError = (): Terminal => {
  // `isTTY` is undefined, not false, on a pipe.
  const tty = (process.stderr.isTTY as boolean | undefined) ?? false;
  return { stream: process.stderr, isTTY: tty, colors: tty && process.stderr.hasColors() };
};

/** `tessera up`'s logger and how to finish it. */
export interface UpLog {
  readonly logger: Logger;
  /** `<dataDir>/tessera.log`. */
  readonly file: string;
  /** Writes what is buffered for the file and closes it. */
  close(): void;
}

/**
 * Opens `<dataDir>/tessera.log` for appending, mode 0600 (tightened if it was looser, never
 * through a symbolic link), and makes the logger: lines at `fileLevel` and above go to the file
 * as JSON; lines at `terminalLevel` (at most `warn`: warnings and errors always show) go to
 * `terminal`, for a person when it is a TTY (pino-pretty), as JSON otherwise. Every line is
 * scrubbed of secrets before any destination sees it ({@link createLogger}).
 */
export function createUpLog(options: {
  readonly dataDir: string;
  readonly fileLevel: LogLevel;
  readonly terminalLevel: LogLevel | undefined;
  /** The terminal and what it can show; standard error when absent. */
  readonly terminal?: Terminal;
}): UpLog {
  const file = join(options.dataDir, LOG_FILE);
  const terminal = options.terminal ?? standardError();
  const fd = openSync(
    file,
    constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    fchmodSync(fd, 0o600);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  const toFile = pino.destination({ fd, sync: false });
  // Work still unwinding after close (an agent's renewal failing as the server stops, say) may
  // log once more: those lines are dropped, not written to a closed stream, which would throw.
  let closed = false;
  const fileStream = {
    write: (line: string): void => {
      if (!closed) toFile.write(line);
    },
  };
  const terminalLevel = moreVerbose(options.terminalLevel ?? TERMINAL_FLOOR, TERMINAL_FLOOR);
  const destinations: LogDestination[] = [
    { level: options.fileLevel, stream: fileStream },
    {
      level: terminalLevel,
      stream: terminal.isTTY
        ? prettyDestination(terminal.stream, terminal.colors)
        : terminal.stream,
    },
  ];
  const logger = createLogger({
    level: moreVerbose(options.fileLevel, terminalLevel),
    destinations,
    name: 'tessera',
  });
  return {
    logger,
    file,
    close: () => {
      if (closed) return;
      closed = true;
      toFile.flushSync();
      toFile.end();
    },
  };
}
