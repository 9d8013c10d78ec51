// What the crash child writes, shared by the child and the test that checks for it.

/** Principals the child writes in its one transaction (after one tenant). */
export const ROWS = 40;
/** The tenant the child's transaction creates. */
export const CRASH_TENANT = 'crash-tenant';
