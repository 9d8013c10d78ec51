// The configuration of every Tessera process: schema, loader, and the data directory on disk.
export {
  configLeaves,
  configSchema,
  envVarFor,
  LOG_LEVELS,
  STORE_DRIVERS,
  type ConfigLeaf,
  type TesseraConfig,
} from './schema.js';
export { CONFIG_FILE_ENV, loadConfig, loadConfigOrExit, type LoadConfigOptions } from './load.js';
export {
  ADMIN_LOGIN_FILE,
  ADMIN_SECRET_FILE,
  ensureDataDir,
  loadOrCreateMasterKey,
  MASTER_KEY_FILE,
  writeSecretFile,
  type MasterKey,
  type MasterKeyOptions,
  type MasterKeySource,
  type WriteSecretFileOptions,
} from './data-dir.js';
