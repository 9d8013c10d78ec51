// A full garbage collection once the agent has loaded what it holds, so an idle agent gives back the garbage of loading it.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

/**
 * Runs a full (major) garbage collection. Restoring the sealed state and the first sync of
 * 10,000 VMs leave tens of MB of garbage (file buffers, decrypted and parsed JSON) that V8 only
 * collects at its next major GC, which an agent serving cached tokens may not trigger for hours:
 * the agent's RSS stays that much higher. V8 exposes `gc` to a context made after the
 * `--expose-gc` flag is set (as jest's leak detector does); the flag changes nothing else.
 */
export function collectGarbage(): void {
  if (collect === undefined) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
}
