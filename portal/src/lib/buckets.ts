// Time bucketing for the activity timeline: events counted per outcome in fixed-width buckets.

/** A window the timeline shows and the width of its buckets. */
export interface Window {
  readonly label: string;
  readonly spanMs: number;
  readonly bucketMs: number;
}

export const WINDOWS: readonly Window[] = [
  { label: 'Last 5 minutes (10-second buckets)', spanMs: 5 * 60_000, bucketMs: 10_000 },
  { label: 'Last 15 minutes (30-second buckets)', spanMs: 15 * 60_000, bucketMs: 30_000 },
  { label: 'Last hour (1-minute buckets)', spanMs: 60 * 60_000, bucketMs: 60_000 },
];

/** Counts per bucket: `starts` in seconds (uPlot's x), and issued and refused per bucket. */
export interface Buckets {
  readonly starts: number[];
  readonly issued: number[];
  readonly refused: number[];
}

/**
 * Buckets `events` (time in ms, outcome) into `bucketMs`-wide buckets covering `spanMs` up to
 * `now`, aligned to multiples of `bucketMs`. Events outside the window and outcomes other than
 * issued and refused are left out.
 */
export function bucketize(
  events: readonly { readonly at: number; readonly outcome: string }[],
  now: number,
  spanMs: number,
  bucketMs: number,
): Buckets {
  const last = Math.floor(now / bucketMs) * bucketMs;
  const count = Math.max(1, Math.ceil(spanMs / bucketMs));
  const first = last - (count - 1) * bucketMs;
  const starts: number[] = [];
  for (let i = 0; i < count; i++) starts.push((first + i * bucketMs) / 1000);
  const issued = new Array<number>(count).fill(0);
  const refused = new Array<number>(count).fill(0);
  for (const event of events) {
    const index = Math.floor((event.at - first) / bucketMs);
    if (index < 0 || index >= count) continue;
    if (event.outcome === 'issued') issued[index] = (issued[index] ?? 0) + 1;
    else if (event.outcome === 'refused') refused[index] = (refused[index] ?? 0) + 1;
  }
  return { starts, issued, refused };
}

/** Adds `fresh` events to `known`, newest first, without duplicates, keeping at most `limit`. */
export function mergeEvents<T extends { readonly id: string; readonly time: string }>(
  known: readonly T[],
  fresh: readonly T[],
  limit: number,
): T[] {
  const seen = new Set(known.map((e) => e.id));
  const added = fresh.filter((e) => !seen.has(e.id));
  if (added.length === 0) return known as T[];
  return [...added, ...known].sort((a, b) => b.time.localeCompare(a.time)).slice(0, limit);
}
