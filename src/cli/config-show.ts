// `tessera config show`: the configuration in effect, with secret values hidden.
import { configLeaves, loadConfigOrExit, type TesseraConfig } from '../config/index.js';
import { type ClientFlagOptions, print, reporting } from './client-kit.js';
import { type ConfigFlagOptions, loadOptionsFrom } from './flags.js';

const HIDDEN = '(set, hidden)';

/** A copy of `config` with the value of every secret key replaced by a marker. */
export function hideSecrets(config: TesseraConfig): unknown {
  const copy = structuredClone(config) as unknown as Record<string, unknown>;
  for (const leaf of configLeaves.filter((l) => l.secret)) {
    const path = leaf.path.split('.');
    let node: Record<string, unknown> | undefined = copy;
    for (const key of path.slice(0, -1)) node = node?.[key] as Record<string, unknown> | undefined;
    const last = path[path.length - 1];
    if (node !== undefined && last !== undefined && node[last] !== undefined) node[last] = HIDDEN;
  }
  return copy;
}

/** Options of `tessera config show`. */
export type ConfigShowOptions = ConfigFlagOptions & Pick<ClientFlagOptions, 'output' | 'query'>;

/** Prints the configuration in effect, secrets hidden, with `--output` and `--query`. */
export async function runConfigShow(options: ConfigShowOptions): Promise<void> {
  const config = loadConfigOrExit(loadOptionsFrom(options));
  await reporting(() => {
    print(hideSecrets(config), options);
    return Promise.resolve();
  });
}
