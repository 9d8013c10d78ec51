// Child process of the IMDS and attach benchmarks: a Tessera server on a fresh SQLite store in the
// directory given as argv[2]. Prints one JSON line (URL, an administrator ARM token, the first
// subscription) and runs until SIGTERM or until its stdin closes (the parent went away).
import { readFile } from 'node:fs/promises';
import { ensureDataDir, loadConfig } from '../src/config/index.js';
import { createLogger, type LogLevel } from '../src/config/logger.js';
import { ensureAdministrator } from '../src/server/bootstrap.js';
import { freePort, startServer } from '../src/server/runtime.js';
import { openStore } from '../src/store/index.js';

/** Silent unless BENCH_LOG_LEVEL asks for lines (to stderr: stdout carries the JSON line). */
const logLevel = (): LogLevel => (process.env.BENCH_LOG_LEVEL ?? 'silent') as LogLevel;

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: imds-server.ts <data directory>');
const port = await freePort('127.0.0.1');
const config = loadConfig({
  env: {},
  cwd: dir,
  flags: { dataDir: dir, 'server.port': port, 'server.host': '127.0.0.1' },
});
await ensureDataDir(config.dataDir);
const { store } = await openStore({
  database: { driver: 'sqlite', file: config.store.sqlite.file },
  masterKey: Buffer.alloc(32, 5),
});
const clock = { now: () => Date.now() };
const server = await startServer({
  config,
  store,
  logger: createLogger({ level: logLevel(), destination: process.stderr, name: 'tessera-server' }),
  clock,
});
const administrator = await ensureAdministrator({
  store,
  services: server.services,
  tenant: server.tenant,
  dataDir: config.dataDir,
  clock,
});
const secret = await readFile(administrator.secretFile ?? '', 'utf8');
const response = await fetch(`${server.url}/${server.tenant.id}/oauth2/v2.0/token`, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: administrator.principal.appId,
    client_secret: secret,
    scope: 'https://management.azure.com/.default',
  }).toString(),
});
const { access_token: adminToken } = (await response.json()) as { access_token: string };
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
