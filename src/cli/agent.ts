// `tessera agent`: the host agent: registers with a join token, syncs its VMs, serves IMDS and /metrics.
import { ensureDataDir, loadConfigOrExit } from '../config/index.js';
import { createLogger } from '../config/logger.js';
import { startAgentRuntime } from '../agent/runtime.js';
import { type ConfigFlagOptions, loadOptionsFrom } from './flags.js';
import { untilSignal } from './signals.js';

/**
 * Loads the configuration (`agent.serverUrl` required; `agent.joinToken` on the first start),
 * starts the agent and its listeners, prints where IMDS listens, and runs until SIGINT or
 * SIGTERM. A bad configuration exits with status 2 and one line on stderr.
 */
export async function runAgent(options: ConfigFlagOptions): Promise<void> {
  const config = loadConfigOrExit(loadOptionsFrom(options));
  await ensureDataDir(config.dataDir);
  const logger = createLogger({ level: config.log.level, name: 'tessera-agent' });
  const runtime = await startAgentRuntime({ config, logger });
  const status = runtime.agent.status();
  process.stdout.write(
    [
      `tessera agent: host ${status.hostName ?? ''} (${status.hostId ?? ''})`,
      `  IMDS:     ${runtime.imdsUrl}`,
      ...(runtime.metricsUrl === undefined ? [] : [`  metrics:  ${runtime.metricsUrl}/metrics`]),
      `tessera agent: ready (Ctrl-C to stop)`,
      '',
    ].join('\n'),
  );
  await untilSignal();
  await runtime.close();
  process.stdout.write('tessera agent: stopped\n');
}
