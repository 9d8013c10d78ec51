// `agent.imds.connections`: its defaults, and the combinations refused before anything starts.
import { describe, expect, it } from 'vitest';
import { loadConfig } from './load.js';

const load = (flags: Record<string, unknown>) => loadConfig({ env: {}, cwd: '/srv', flags });

describe('agent.imds.connections', () => {
  it('takes every key from flags or the environment', () => {
    const config = loadConfig({
      env: { TESSERA_AGENT_IMDS_CONNECTIONS_PER_ADDRESS: '16' },
      cwd: '/srv',
      flags: { 'agent.imds.connections.max': 1000, 'agent.imds.connections.idleTimeoutMs': 30_000 },
    });
    expect(config.agent.imds.connections).toMatchObject({
      perAddress: 16,
      max: 1000,
      idleTimeoutMs: 30_000,
    });
  });

  it('refuses a request timeout shorter than the header timeout', () => {
    expect(() =>
      load({
        'agent.imds.connections.headersTimeoutMs': 5_000,
        'agent.imds.connections.requestTimeoutMs': 1_000,
      }),
    ).toThrow(
      /agent\.imds\.connections\.requestTimeoutMs \(from flags\): expected an integer between 100 and 600000, at least agent\.imds\.connections\.headersTimeoutMs, got 1000/,
    );
  });

  it('refuses a process-wide cap one address could fill', () => {
    expect(() => load({ 'agent.imds.connections.max': 100 })).toThrow(
      /agent\.imds\.connections\.max \(from flags\): expected 0, or an integer up to 10000000 and at least twice agent\.imds\.connections\.perAddress, got 100/,
    );
    expect(load({ 'agent.imds.connections.max': 128 }).agent.imds.connections.max).toBe(128);
  });
});
