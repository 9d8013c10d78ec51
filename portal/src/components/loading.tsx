// What a page shows while its data loads, or why it could not.
import type { ReactNode } from 'react';
import { describeError } from '../api/http.js';

export function Loading(props: { readonly error: unknown }): ReactNode {
  if (props.error !== undefined) {
    return (
      <p role="alert" className="status error">
        Could not load: {describeError(props.error)}
      </p>
    );
  }
  return (
    <p role="status" className="muted">
      Loading…
    </p>
  );
}
