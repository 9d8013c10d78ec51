// Formatting for people: times in a fixed readable form and "x ago", ids split where they may wrap.

/** `2026-11-24 03:28:24 UTC`. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** `12 s ago`, `5 min ago`, `3 h ago`, `2 d ago`, with the exact time after it. */
export function relative(iso: string, now: number): string {
  const ms = now - Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const s = Math.max(0, Math.round(ms / 1000));
  const text =
    s < 60
      ? `${s} s`
      : s < 3600
        ? `${Math.floor(s / 60)} min`
        : s < 86400
          ? `${Math.floor(s / 3600)} h`
          : `${Math.floor(s / 86400)} d`;
  return `${text} ago (${formatTime(iso)})`;
}

/** `HH:MM:SS` in UTC. */
export const clock = (iso: string): string => new Date(iso).toISOString().slice(11, 19);

/**
 * Where `value` may break: after the hyphen nearest its middle (a GUID's fourth, so two halves of
 * 19 and 17 characters), or nowhere when it has no hyphen inside it.
 */
export function guidHalves(value: string): readonly [string, string] {
  const middle = value.length / 2;
  let at = -1;
  for (let i = 1; i < value.length - 1; i++) {
    if (value[i] === '-' && (at === -1 || Math.abs(i - middle) < Math.abs(at - middle))) at = i;
  }
  return at === -1 ? [value, ''] : [value.slice(0, at + 1), value.slice(at + 1)];
}

/** Whether `value` is a GUID (`8-4-4-4-12` hex digits, either case). */
export const isGuid = (value: string): boolean =>
  /^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/i.test(value);
