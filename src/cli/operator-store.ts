// Operator commands that work on the store directly, where the server runs.
import { ensureDataDir, loadConfigOrExit, loadOrCreateMasterKey } from '../config/index.js';
import type { Store } from '../core/ports.js';
import { databaseOptionsFrom, openStore } from '../store/index.js';
import { type ConfigFlagOptions, loadOptionsFrom } from './flags.js';

/**
 * Loads the configuration, opens the store with the existing master key (never a new one: it
 * could not open what the server sealed), runs `work`, and closes the store whatever happens.
 */
export async function withStore<T>(
  options: ConfigFlagOptions,
  work: (store: Store, config: ReturnType<typeof loadConfigOrExit>) => Promise<T>,
): Promise<T> {
  const config = loadConfigOrExit(loadOptionsFrom(options));
  await ensureDataDir(config.dataDir);
  // Never generate a key here: a new key could not open what the server has sealed.
  const masterKey = await loadOrCreateMasterKey({
    dataDir: config.dataDir,
    configured: config.masterKey,
    allowGenerate: false,
  });
  const { store } = await openStore({
    database: databaseOptionsFrom(config),
    masterKey: masterKey.key,
  });
  try {
    return await work(store, config);
  } finally {
    await store.close();
  }
}
