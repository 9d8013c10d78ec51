// Child process of the end-to-end suites: a Tessera server on a given data directory and port,
// restartable on both, so a test can kill it (SIGKILL is the outage) and start it again.
//
// argv: <data dir> <port>. Opens the SQLite store in the data directory, starts the server on
// 127.0.0.1:<port>, makes sure the administrator exists, then prints one JSON line,
// `ServerChildReady` of server-process.ts. Stops cleanly on SIGTERM, and exits when its stdin
// closes, so that it never outlives the test process that started it.
import { join } from 'node:path';
import { ADMIN_SECRET_FILE, loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/config/logger.js';
import { ensureAdministrator } from '../../src/server/bootstrap.js';
import { startServer } from '../../src/server/runtime.js';
import { openStore } from '../../src/store/index.js';
import { TEST_MASTER_KEY } from '../fixtures/keys.js';

const [dataDir, port] = process.argv.slice(2);
if (dataDir === undefined || port === undefined) throw new Error('usage: <data dir> <port>');

const config = loadConfig({
  env: {},
  cwd: dataDir,
  flags: { dataDir, 'server.host': '127.0.0.1', 'server.port': port },
});
const { store } = await openStore({
  database: { driver: 'sqlite', file: config.store.sqlite.file },
  masterKey: TEST_MASTER_KEY,
});
const server = await startServer({ config, store, logger: createLogger({ level: 'silent' }) });
const administrator = await ensureAdministrator({
  store,
  services: server.services,
  tenant: server.tenant,
  dataDir,
  clock: { now: () => Date.now() },
});

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  try {
    await server.close();
    await store.close();
  } finally {
    process.exit(0);
  }
};
process.once('SIGTERM', () => void stop());
process.stdin.once('close', () => void stop()).resume();

process.stdout.write(
  `${JSON.stringify({
    url: server.url,
    tenantId: server.tenant.id,
    subscriptionId: server.subscriptionId,
    issuer: server.services.issuerFor(server.tenant.id),
    adminAppId: administrator.principal.appId,
    // Written on the first start only; it stays in the data directory.
    adminSecretFile: join(dataDir, ADMIN_SECRET_FILE),
  })}\n`,
);
