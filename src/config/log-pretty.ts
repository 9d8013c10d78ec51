// Log lines for a person on a terminal: pino-pretty laid out on one line, requests in words.
import type { DestinationStream } from 'pino';
import { prettyFactory } from 'pino-pretty';

/** A line as {@link humanLine} reads it: pino's JSON, parsed. */
type LogRecord = Record<string, unknown>;

const text = (value: unknown): string =>
  typeof value === 'string' || typeof value === 'number' ? String(value) : '';

/**
 * The message of a line for a person: a request as `GET /path (req-1)`, its completion as
 * `200 in 3 ms (req-1)`, anything else as its `msg`. Fields it does not show are appended by
 * pino-pretty; the request fields are not (see {@link prettyDestination}).
 */
export function humanLine(log: LogRecord, messageKey: string): string {
  const message = text(log[messageKey]);
  const id = text(log['reqId']);
  const suffix = id === '' ? '' : ` (${id})`;
  const { req, res, responseTime } = log;
  if (typeof req === 'object' && req !== null) {
    const { method, url } = req as LogRecord;
    return `${message}: ${text(method)} ${text(url)}${suffix}`;
  }
  if (typeof res === 'object' && res !== null) {
    const ms = typeof responseTime === 'number' ? String(Math.round(responseTime)) : '?';
    return `${message}: ${text((res as LogRecord)['statusCode'])} in ${ms} ms${suffix}`;
  }
  return `${message}${suffix}`;
}

/**
 * Lines for a person on a terminal (pino-pretty): time, level and message on one line, the
 * other fields after it, colours when `colorize`. It formats, synchronously, what the logger has
 * already scrubbed: the same lines as every other destination, only laid out differently.
 */
export function prettyDestination(
  output: { write(text: string): unknown },
  colorize: boolean,
): DestinationStream {
  const pretty = prettyFactory({
    colorize,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,name,reqId,req,res,responseTime',
    messageFormat: humanLine,
  });
  return {
    write: (line) => {
      output.write(pretty(line));
    },
  };
}
