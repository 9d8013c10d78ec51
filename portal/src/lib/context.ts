// What every page shares: the signed-in session, its HTTP client and the chosen subscription.
import { createContext, useContext } from 'react';
import type { Session } from '../api/auth.js';
import type { Http } from '../api/http.js';

export interface Portal {
  readonly session: Session;
  readonly http: Http;
  readonly subscriptionId: string;
}

export const PortalContext = createContext<Portal | undefined>(undefined);

/** The portal's shared state; only pages under a signed-in session call it. */
export function usePortal(): Portal {
  const portal = useContext(PortalContext);
  if (portal === undefined) throw new Error('usePortal outside a signed-in session');
  return portal;
}
