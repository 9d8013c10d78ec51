// Maps the store section of the configuration to the options that open the database.
import type { TesseraConfig } from '../config/index.js';
import type { DatabaseOptions } from './database.js';

/** The database a process configured with `config` uses. */
export function databaseOptionsFrom(config: TesseraConfig): DatabaseOptions {
  const { store } = config;
  if (store.driver === 'sqlite') {
    return { driver: 'sqlite', file: store.sqlite.file, busyTimeoutMs: store.sqlite.busyTimeoutMs };
  }
  if (store.postgres.url === undefined) {
    // The schema refuses this combination; reaching here is a programming error.
    throw new Error('store.postgres.url is required when store.driver is "postgres"');
  }
  return {
    driver: 'postgres',
    url: store.postgres.url,
    schema: store.postgres.schema,
    poolMax: store.postgres.poolMax,
  };
}
