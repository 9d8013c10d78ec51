// The server listeners' caps and timeouts: what a flood of connections meets on ARM and the token endpoint.
import { createServer } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from '../config/logger.js';
import {
  limitListener,
  listenerMaxConnections,
  listenerServerOptions,
  SERVER_LISTENER_TIMEOUTS,
} from './listener-limits.js';

describe('listener limits', () => {
  const sockets: Socket[] = [];
  const servers: ReturnType<typeof createServer>[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('takes a quarter of what the file reserve leaves, per listener', () => {
    expect(listenerMaxConnections(() => 20_000)).toBe(4_000);
    expect(listenerMaxConnections(() => 1_024)).toBe(192);
    expect(listenerMaxConnections(() => 10_000_000)).toBe(65_536);
  });

  it('sets timeouts shorter than Node defaults, and a TLS handshake timeout only with TLS', () => {
    expect(listenerServerOptions(false)).toEqual({
      headersTimeout: 10_000,
      requestTimeout: 30_000,
      connectionsCheckingInterval: 1_000,
    });
    expect(listenerServerOptions(true).handshakeTimeout).toBe(10_000);
    const server = createServer(listenerServerOptions(false));
    limitListener(server, {
      clock: { now: () => 0 },
      logger: { warn: () => undefined, error: () => undefined } as unknown as Logger,
      max: 10,
    });
    expect([server.headersTimeout, server.requestTimeout, server.keepAliveTimeout]).toEqual([
      10_000, 30_000, 5_000,
    ]);
    expect(server.timeout).toBe(SERVER_LISTENER_TIMEOUTS.idleTimeoutMs);
    expect(server.maxConnections).toBe(10);
  });

  it('closes connections over the cap unread and says so once a minute', async () => {
    let now = 0;
    const warnings: object[] = [];
    const server = createServer(listenerServerOptions(false), (_req, res) => res.end('ok'));
    servers.push(server);
    limitListener(server, {
      clock: { now: () => now },
      logger: { warn: (details: object) => warnings.push(details) } as unknown as Logger,
      max: 2,
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const open = async (): Promise<{ closed: Promise<string> }> => {
      const socket = connect({ host: '127.0.0.1', port });
      sockets.push(socket);
      let received = '';
      socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
      socket.on('error', () => undefined);
      const closed = new Promise<string>((resolve) =>
        socket.once('close', () => {
          resolve(received);
        }),
      );
      await new Promise((resolve) => socket.once('connect', resolve));
      // Let the listener count it before the next one.
      await new Promise((resolve) => setTimeout(resolve, 30));
      return { closed };
    };
    await open();
    await open();
    const third = await open();
    expect(await third.closed).toBe('');
    now = 1_000;
    expect(await (await open()).closed).toBe('');
    expect(warnings).toEqual([{ refused: 1, max: 2 }]);
    now = 61_000;
    expect(await (await open()).closed).toBe('');
    expect(warnings).toEqual([
      { refused: 1, max: 2 },
      { refused: 2, max: 2 },
    ]);
  });
});
