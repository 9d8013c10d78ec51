// Child process of the IMDS and attach benchmarks: a host agent (startAgentRuntime, as `tessera
// agent` runs it) with its state in argv[2], registering with the server at argv[3] using the join
// token in BENCH_JOIN_TOKEN (not needed again once registered: a restart uses its state). IMDS listens
// on a free loopback port with throttling off; the metrics listener runs too (port 0), as in
// production, so the hot path pays for its counters. BENCH_AGENT_FLAGS (JSON) adds configuration
// flags (e.g. `agent.sealKeys`). Prints one JSON line once the first VM sync is done (with the time
// from the start of the runtime to that sync: what a restart costs before IMDS knows every VM);
// runs until SIGTERM or until its stdin closes.
import { startAgentRuntime } from '../src/agent/runtime.js';
import { ensureDataDir, loadConfig } from '../src/config/index.js';
import { createLogger, type LogLevel } from '../src/config/logger.js';

/** Silent unless BENCH_LOG_LEVEL asks for lines (to stderr: stdout carries the JSON line). */
const logLevel = (): LogLevel => (process.env.BENCH_LOG_LEVEL ?? 'silent') as LogLevel;

const [dir, serverUrl] = process.argv.slice(2);
const joinToken = process.env.BENCH_JOIN_TOKEN;
if (dir === undefined || serverUrl === undefined) {
  throw new Error('usage: [BENCH_JOIN_TOKEN=...] imds-agent.ts <state directory> <server URL>');
}
const config = loadConfig({
  env: {},
  cwd: dir,
  flags: {
    dataDir: dir,
    'agent.imds.host': '127.0.0.1',
    'agent.imds.port': 0,
    'agent.imds.rateLimit.mode': 'off',
    'agent.metrics.host': '127.0.0.1',
    'agent.metrics.port': 0,
    ...(JSON.parse(process.env.BENCH_AGENT_FLAGS ?? '{}') as Record<string, unknown>),
  },
});
await ensureDataDir(config.dataDir);
const started = performance.now();
const runtime = await startAgentRuntime({
  config,
  logger: createLogger({ level: logLevel(), destination: process.stderr, name: 'tessera-agent' }),
  serverUrl,
  joinToken,
});
await runtime.agent.synced();
const syncedMs = performance.now() - started;
process.stdout.write(
  `${JSON.stringify({ imdsUrl: runtime.imdsUrl, syncedMs, vms: runtime.agent.status().vms })}\n`,
);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  void runtime.close().finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdin.once('end', stop);
process.stdin.resume();
