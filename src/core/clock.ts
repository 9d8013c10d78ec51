// The system clock: the one place Tessera reads the time of day; everything else is handed a Clock.
import type { Clock } from './ports.js';

/**
 * The {@link Clock} of the running process (`Date.now()`). Processes pass it in where they are
 * composed (server, agent, CLI); domain code only ever sees the `Clock` it was given, so tests
 * can give another.
 */
export const systemClock: Clock = { now: () => Date.now() };
