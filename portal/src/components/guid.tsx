// An id such as a GUID, wrapping at most once, after its middle hyphen, never per character.
import type { ReactNode } from 'react';
import { guidHalves } from '../lib/format.js';

/**
 * Shows an id in full, on one line where it fits and on two in a narrow column: each half keeps
 * together, and the `<wbr>` between them is the only place a line may break. Copying it copies the
 * id unchanged (`<wbr>` adds no character).
 */
export function Guid(props: { readonly value: string }): ReactNode {
  const [head, tail] = guidHalves(props.value);
  return (
    <code className="guid">
      <span>{head}</span>
      {tail === '' ? null : (
        <>
          <wbr />
          <span>{tail}</span>
        </>
      )}
    </code>
  );
}
