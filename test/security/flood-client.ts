// Child process of the connection-flood suite: one VM's address opening connections that send half a
// request and never finish it, counting what the listener did with each. Forked with IPC: it gets one
// FloodOrder, sends FloodProgress while it opens and FloodReport once every attempt is made, holds
// what is still open until told `close`, then closes everything, sends the final report and exits.
import { connect, type Socket } from 'node:net';

/** What to flood, from where, how hard. */
export interface FloodOrder {
  readonly type: 'flood';
  readonly host: string;
  readonly port: number;
  /** The source address (the attacking VM). */
  readonly from: string;
  /** Connections to attempt in all. */
  readonly attempts: number;
  /** Connects in flight at once (kept under the listen backlog). */
  readonly batch: number;
  /** Sockets this process may have open at once: kept under its own file limit. */
  readonly maxOpen: number;
  /** Give up opening after this long. */
  readonly deadlineMs: number;
  /** What each connection sends: a request without its final CRLF CRLF. */
  readonly partial: string;
}

/** Counts of the flood so far. */
export interface FloodReport {
  readonly type: 'progress' | 'done' | 'closed';
  /** Connections attempted. */
  attempted: number;
  /** Connections the kernel completed (the listener may still close them unread). */
  connected: number;
  /** Closed by the listener before it sent a byte: refused. */
  refused: number;
  /** Answered by the listener (a 408 once the header timeout ran out), by status line. */
  answered: Record<string, number>;
  /** Failures before a connection was made, by code (EMFILE: this process ran out of files). */
  connectErrors: Record<string, number>;
  /** Open now (connecting or connected, not closed). */
  open: number;
  /** Connected, nothing received, not closed: held by the listener right now. */
  held: number;
  /** The most sockets open at once. */
  peakOpen: number;
  /** Why opening stopped: all attempted, the deadline, or this process's file limit. */
  stoppedBy: 'attempts' | 'deadline' | 'EMFILE' | 'running';
  /** From the first connect to the last attempt. */
  durationMs: number;
}

const report: FloodReport = {
  type: 'progress',
  attempted: 0,
  connected: 0,
  refused: 0,
  answered: {},
  connectErrors: {},
  open: 0,
  held: 0,
  peakOpen: 0,
  stoppedBy: 'running',
  durationMs: 0,
};
/** Every socket not closed yet: whether it connected, whether anything came back. */
const sockets = new Map<Socket, { connected: boolean; received: boolean }>();
let pending = 0;
let wake: (() => void) | undefined;
const nudge = (): void => {
  const w = wake;
  wake = undefined;
  w?.();
};

function heldNow(): number {
  let held = 0;
  for (const state of sockets.values()) if (state.connected && !state.received) held += 1;
  return held;
}

function send(type: FloodReport['type'], then?: () => void): void {
  process.send?.({ ...report, type, held: heldNow() }, undefined, undefined, () => then?.());
}

function open(order: FloodOrder): void {
  report.attempted += 1;
  pending += 1;
  report.open += 1;
  report.peakOpen = Math.max(report.peakOpen, report.open);
  const state = { connected: false, received: false };
  const socket = connect({ host: order.host, port: order.port, localAddress: order.from });
  sockets.set(socket, state);
  socket.on('connect', () => {
    state.connected = true;
    pending -= 1;
    report.connected += 1;
    socket.write(order.partial);
    nudge();
  });
  socket.on('data', (chunk: Buffer) => {
    if (state.received) return;
    state.received = true;
    const status = chunk.toString('latin1').split('\r\n', 1)[0] ?? '';
    report.answered[status] = (report.answered[status] ?? 0) + 1;
  });
  socket.on('error', (error: NodeJS.ErrnoException) => {
    if (state.connected) return;
    const code = error.code ?? 'unknown';
    report.connectErrors[code] = (report.connectErrors[code] ?? 0) + 1;
  });
  socket.on('close', () => {
    if (!state.connected) pending -= 1;
    else if (!state.received) report.refused += 1;
    report.open -= 1;
    sockets.delete(socket);
    nudge();
  });
}

async function flood(order: FloodOrder): Promise<void> {
  const started = Date.now();
  let lastProgress = 0;
  while (report.attempted < order.attempts) {
    if ((report.connectErrors.EMFILE ?? 0) > 0 || (report.connectErrors.ENFILE ?? 0) > 0) {
      report.stoppedBy = 'EMFILE';
      break;
    }
    if (Date.now() - started > order.deadlineMs) {
      report.stoppedBy = 'deadline';
      break;
    }
    if (pending >= order.batch || report.open >= order.maxOpen) {
      // Until a connect completes or a socket closes; at most 50 ms, to check the deadline.
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(nudge, 50);
      });
      continue;
    }
    open(order);
    if (report.attempted - lastProgress >= 500) {
      lastProgress = report.attempted;
      report.durationMs = Date.now() - started;
      send('progress');
      // Let the connects and closes be handled before the next ones.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  if (report.stoppedBy === 'running') report.stoppedBy = 'attempts';
  report.durationMs = Date.now() - started;
  // Let the last connects land, and the listener refuse what it refuses.
  const settle = Date.now() + 5_000;
  while (pending > 0 && Date.now() < settle) await new Promise((r) => setTimeout(r, 20));
  await new Promise((resolve) => setTimeout(resolve, 300));
  send('done');
}

function closeAll(): void {
  for (const socket of sockets.keys()) socket.destroy();
  // Exit once the report is on its way: an exit right after `send` can lose it.
  send('closed', () => process.exit(0));
}

process.on('message', (message: FloodOrder | { type: 'close' }) => {
  if (message.type === 'close') {
    closeAll();
    return;
  }
  flood(message).catch((error: unknown) => {
    process.stderr.write(`flood failed: ${String(error)}\n`);
    closeAll();
  });
});
// The parent went away: close everything rather than linger.
process.on('disconnect', () => {
  for (const socket of sockets.keys()) socket.destroy();
  process.exit(0);
});
