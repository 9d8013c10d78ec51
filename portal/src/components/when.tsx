// A time in a table cell: the date and the time of day, on two lines where the column is narrow.
import type { ReactNode } from 'react';
import { formatTime } from '../lib/format.js';

/** `2026-11-24` and `03:28:24 UTC`, each kept on one line. */
export function When(props: { readonly iso: string }): ReactNode {
  const text = formatTime(props.iso);
  const at = text.indexOf(' ');
  if (at === -1) return text;
  return (
    <>
      <span className="nowrap">{text.slice(0, at)}</span>{' '}
      <span className="nowrap">{text.slice(at + 1)}</span>
    </>
  );
}
