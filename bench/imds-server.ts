// Child process of the IMDS, attach and scale benchmarks: a Tessera server with its data directory
// in argv[2], on a SQLite store there unless BENCH_STORE_FLAGS (JSON, `store.*` configuration
// flags) says otherwise (e.g. a PostgreSQL schema, see backends.ts). Prints one JSON line (URL, an administrator ARM token, the first
// subscription) and runs until SIGTERM or until its stdin closes (the parent went away).
import { ensureDataDir, loadConfig } from '../src/config/index.js';
import { createLogger, type LogLevel } from '../src/config/logger.js';
import { freePort, startServer } from '../src/server/runtime.js';
import { databaseOptionsFrom, openStore } from '../src/store/index.js';
import { administratorToken } from '../test/fixtures/admin.js';

/** Silent unless BENCH_LOG_LEVEL asks for lines (to stderr: stdout carries the JSON line). */
const logLevel = (): LogLevel => (process.env.BENCH_LOG_LEVEL ?? 'silent') as LogLevel;

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: imds-server.ts <data directory>');
const port = await freePort('127.0.0.1');
const config = loadConfig({
  env: {},
  cwd: dir,
  flags: {
    dataDir: dir,
    'server.port': port,
    'server.host': '127.0.0.1',
    ...(JSON.parse(process.env.BENCH_STORE_FLAGS ?? '{}') as Record<string, string>),
  },
});
await ensureDataDir(config.dataDir);
const { store } = await openStore({
  database: databaseOptionsFrom(config),
  masterKey: Buffer.alloc(32, 5),
});
const clock = { now: () => Date.now() };
const server = await startServer({
  config,
  store,
  logger: createLogger({ level: logLevel(), destination: process.stderr, name: 'tessera-server' }),
  clock,
});
const adminToken = await administratorToken(server, store, config.dataDir);
process.stdout.write(
  `${JSON.stringify({ url: server.url, adminToken, subscriptionId: server.subscriptionId })}\n`,
);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  void server
    .close()
    .then(() => store.close())
    .finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdin.once('end', stop);
process.stdin.resume();
