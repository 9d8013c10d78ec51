// Text that must fit narrow columns: resource types broken after their slashes, ids kept readable.
import { Fragment, type ReactNode } from 'react';
import { isGuid } from '../lib/format.js';
import { Guid } from './guid.js';

/** An action or resource type, breaking first after its slashes (`Microsoft.X/` `things/write`). */
export function Path(props: { readonly value: string }): ReactNode {
  return props.value.split('/').map((part, i) => (
    <Fragment key={i}>
      {i === 0 ? null : (
        <>
          /<wbr />
        </>
      )}
      {part}
    </Fragment>
  ));
}

/** An id or value: a GUID breaking only at its middle, anything else wrapping where it must. */
export function Id(props: { readonly value: string }): ReactNode {
  return isGuid(props.value) ? <Guid value={props.value} /> : <code>{props.value}</code>;
}
