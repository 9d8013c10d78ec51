// The caller's permissions at the scopes a page writes to, for its write buttons.
import { useCallback } from 'react';
import { permissionsAt } from '../api/arm.js';
import { isAllowed, type PermissionBlock } from '../api/permissions.js';
import { usePortal } from './context.js';
import { useLoad } from './hooks.js';

export interface Permissions {
  /** True or false once known, undefined while loading; `scope` must be one asked for. */
  readonly can: (action: string, scope: string) => boolean | undefined;
  readonly scopes: readonly string[];
}

/** Loads the caller's permissions at each of `scopes` (ARM folds in what is inherited). */
export function usePermissions(scopes: readonly string[]): Permissions {
  const { http } = usePortal();
  const key = scopes.join('\n');
  const load = useCallback(async () => {
    const list = key === '' ? [] : key.split('\n');
    const blocks = await Promise.all(
      list.map((scope) => permissionsAt(http, scope).catch((): PermissionBlock[] => [])),
    );
    return new Map(list.map((scope, i) => [scope.toLowerCase(), blocks[i] ?? []]));
  }, [http, key]);
  const { data } = useLoad(load);
  return {
    scopes,
    can: (action, scope) => {
      const blocks = data?.get(scope.toLowerCase());
      return blocks === undefined ? undefined : isAllowed(blocks, action);
    },
  };
}

/** The id of the note that says why an action's buttons at a scope are disabled. */
export const whyId = (action: string, scope: string): string =>
  `why-${`${action}-${scope}`.replace(/[^A-Za-z0-9]+/g, '-').toLowerCase()}`;
