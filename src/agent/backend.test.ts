// The agent's ImdsBackend: callers by address, tokens from the cache as they are, refusals counted and logged sparingly.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../config/logger.js';
import {
  fakeClient,
  identity,
  silentLogger,
  tokenFor,
  vm,
} from '../../test/agent/agent-fixtures.js';
import { createAgentBackend } from './backend.js';
import { createManualClock } from './clock.js';
import { createTokenCache } from './token-cache.js';
import { createVmMap } from './vm-map.js';

const uai = identity(1);
const a = vm('a', ['10.0.0.4'], [uai]);

function setup(logger = silentLogger()) {
  const clock = createManualClock();
  const vms = createVmMap({ client: fakeClient({}), clock, logger });
  vms.apply({ position: 1, full: true, vms: [a], removed: [] });
  const tokens = createTokenCache({
    upstream: (_vm, who, resource) => Promise.resolve(tokenFor(who, resource, clock.now())),
    clock,
    logger,
  });
  const refused: string[] = [];
  const backend = createAgentBackend({
    vms,
    tokens,
    clock,
    logger,
    onRefused: (address, reason) => refused.push(`${address}: ${reason}`),
  });
  return { clock, backend, refused };
}

describe('agent backend', () => {
  it('finds the caller by its source address in any notation', () => {
    const { backend } = setup();
    expect(backend.vmFor('10.0.0.4')).toBe(a);
    expect(backend.vmFor('::ffff:10.0.0.4')).toBe(a);
    expect(backend.vmFor('10.0.0.5')).toBeUndefined();
  });

  it('answers a cached token with the same promise and object', async () => {
    const { backend } = setup();
    const first = await backend.token(a, uai, 'r', { bypassCache: false });
    const again = backend.token(a, uai, 'r', { bypassCache: false });
    expect(again).toBe(backend.token(a, uai, 'r', { bypassCache: false }));
    expect(await again).toBe(first);
  });

  it('counts every refusal but logs an address at most once a minute', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const { backend, clock, refused } = setup(createLogger({ level: 'info', destination }));
    backend.refused?.('10.0.0.9', 'no VM has this address');
    backend.refused?.('10.0.0.9', 'no VM has this address');
    await clock.advance(60_000);
    backend.refused?.('10.0.0.9', 'no VM has this address');
    expect(refused).toHaveLength(3);
    expect(lines.filter((l) => l.includes('IMDS refused a caller'))).toHaveLength(2);
  });
});
