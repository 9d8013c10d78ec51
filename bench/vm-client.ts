// IMDS requests as a given VM makes them: from that VM's (loopback) source address, which is how
// the agent recognises the caller. Used by the benchmarks that place many VMs on one host.
import { Agent, request } from 'node:http';

const agents = new Map<string, Agent>();

/**
 * A GET of `url` with `Metadata: true` from `localAddress`: over a keep-alive pool of that address,
 * or (`keepAlive` false, for thousands of VMs asking once each) on a connection of its own.
 */
export function getFrom(
  url: string,
  localAddress: string,
  keepAlive = true,
): Promise<{ status: number; body: string }> {
  let agent = agents.get(localAddress);
  if (agent === undefined && keepAlive) {
    agent = new Agent({ keepAlive: true, maxSockets: 8, localAddress });
    agents.set(localAddress, agent);
  }
  const options = agent === undefined ? { agent: false as const, localAddress } : { agent };
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { Metadata: 'true' }, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Closes the pools of every address (and so their sockets). */
export function closeVmClients(): void {
  for (const agent of agents.values()) agent.destroy();
  agents.clear();
}

/**
 * Asks from `address` until IMDS answers 200 (the agent may not know the VM or the identity yet),
 * within `limitMs`; returns the body.
 */
export async function tokenWhenReady(
  url: string,
  address: string,
  limitMs: number,
  keepAlive = true,
): Promise<string> {
  const deadline = performance.now() + limitMs;
  for (;;) {
    const answer = await getFrom(url, address, keepAlive);
    if (answer.status === 200) return answer.body;
    if (performance.now() > deadline) {
      throw new Error(
        `no token for ${address} within ${limitMs} ms: ${answer.status} ${answer.body}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Runs `work` on every item with `workers` at a time. */
export async function eachConcurrently<T>(
  items: readonly T[],
  workers: number,
  work: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(workers, items.length) }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await work(item);
      }
    }),
  );
}
