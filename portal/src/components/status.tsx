// The live region where each page says what its last action did, or why it failed.
import type { ReactNode } from 'react';

export interface StatusMessage {
  readonly kind: 'ok' | 'error' | 'busy';
  readonly text: string;
}

/** Announced to screen readers as it changes; errors assertively. */
export function Status(props: { readonly message: StatusMessage | undefined }): ReactNode {
  const { message } = props;
  return (
    <div className="status-area">
      <p role="status" aria-live="polite" className="status ok">
        {message !== undefined && message.kind !== 'error' ? message.text : ''}
      </p>
      <p role="alert" className="status error">
        {message?.kind === 'error' ? message.text : ''}
      </p>
    </div>
  );
}
