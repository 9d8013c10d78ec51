// Turns the command line's configuration flags into the loader's flag layer.
import { InvalidArgumentError } from 'commander';
import type { LoadConfigOptions } from '../config/index.js';

/** Options every command that loads the configuration accepts. */
export interface ConfigFlagOptions {
  readonly config?: string;
  readonly dataDir?: string;
  /** `--imds-rate-limit on|off` (`up` and `agent`): `agent.imds.rateLimit.mode`. */
  readonly imdsRateLimit?: string;
  /** `--set key=value`, accumulated by key path. */
  readonly set?: Readonly<Record<string, string>>;
}

/** Commander argument parser for a repeatable `--set key=value`. */
export function parseSetFlag(
  value: string,
  previous: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('expected key=value, e.g. server.port=9000');
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** The loader options for parsed flags: named flags win over `--set` of the same key. */
export function loadOptionsFrom(options: ConfigFlagOptions): LoadConfigOptions {
  return {
    ...(options.config === undefined ? {} : { configFile: options.config }),
    flags: {
      ...options.set,
      ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
      ...(options.imdsRateLimit === undefined
        ? {}
        : { 'agent.imds.rateLimit.mode': options.imdsRateLimit }),
    },
  };
}
