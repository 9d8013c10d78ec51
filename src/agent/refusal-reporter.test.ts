// The refusal reporter: batched per address and reason, kept through outages, dropped when the server says no.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../test/agent/agent-fixtures.js';
import { AppError } from '../core/errors.js';
import type { RefusalReport } from '../wire/agent-api.js';
import { createManualClock } from './clock.js';
import { createRefusalReporter } from './refusal-reporter.js';
import { upstreamUnavailable } from './server-client.js';

function setup(answer: (report: RefusalReport) => Promise<void> = () => Promise.resolve()) {
  const clock = createManualClock();
  const reports: RefusalReport[] = [];
  const reporter = createRefusalReporter({
    client: {
      reportRefusals: (report) => {
        reports.push(structuredClone(report));
        return answer(report);
      },
    },
    clock,
    logger: silentLogger(),
    intervalMs: 1_000,
    retryMs: 10_000,
    maxPending: 3,
  });
  return { clock, reporter, reports };
}

describe('refusal reporter', () => {
  it('sends one entry per address and reason after the interval, with counts and times', async () => {
    const { clock, reporter, reports } = setup();
    const start = clock.now();
    reporter.record('10.0.0.9', 'no VM has this address');
    await clock.advance(300);
    reporter.record('10.0.0.9', 'no VM has this address');
    reporter.record('10.0.0.8', 'no VM has this address');
    expect(reports).toEqual([]);
    await clock.advance(700);
    expect(reports).toEqual([
      {
        refusals: [
          {
            address: '10.0.0.9',
            reason: 'no VM has this address',
            count: 2,
            firstAt: start,
            lastAt: start + 300,
          },
          {
            address: '10.0.0.8',
            reason: 'no VM has this address',
            count: 1,
            firstAt: start + 300,
            lastAt: start + 300,
          },
        ],
      },
    ]);
    expect(reporter.pending()).toBe(0);
    // Quiet: no timer is left running.
    expect(clock.pending()).toBe(0);
  });

  it('keeps entries while the server is unreachable and sends them merged after the retry wait', async () => {
    let down = true;
    const { clock, reporter, reports } = setup(() =>
      down ? Promise.reject(upstreamUnavailable('down', 5)) : Promise.resolve(),
    );
    reporter.record('10.0.0.9', 'no VM has this address');
    await clock.advance(1_000);
    expect(reports).toHaveLength(1);
    reporter.record('10.0.0.9', 'no VM has this address');
    await clock.advance(1_000);
    expect(reports).toHaveLength(1);
    down = false;
    await clock.advance(9_000);
    expect(reports).toHaveLength(2);
    expect(reports[1]?.refusals).toMatchObject([{ address: '10.0.0.9', count: 2 }]);
    expect(reporter.pending()).toBe(0);
  });

  it('drops what the server refuses, and what is beyond the distinct-caller limit', async () => {
    const { clock, reporter, reports } = setup(() =>
      Promise.reject(new AppError('InvalidParameter', 'no', { status: 400 })),
    );
    for (const address of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']) {
      reporter.record(address, 'no VM has this address');
    }
    expect(reporter.pending()).toBe(3);
    await clock.advance(1_000);
    expect(reports[0]?.refusals.map((r) => r.address)).toEqual([
      '10.0.0.1',
      '10.0.0.2',
      '10.0.0.3',
    ]);
    expect(reporter.pending()).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it('sends what is pending when stopped, but does not wait on a server it could not reach', async () => {
    const { clock, reporter, reports } = setup();
    reporter.record('10.0.0.9', 'no VM has this address');
    await reporter.stop();
    expect(reports).toHaveLength(1);
    expect(clock.pending()).toBe(0);

    const failing = setup(() => Promise.reject(upstreamUnavailable('down', 5)));
    failing.reporter.record('10.0.0.9', 'no VM has this address');
    await failing.clock.advance(1_000);
    failing.reporter.record('10.0.0.8', 'no VM has this address');
    await failing.reporter.stop();
    expect(failing.reports).toHaveLength(1);
    expect(failing.clock.pending()).toBe(0);
  });
});
