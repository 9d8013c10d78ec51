// Azure RBAC action patterns (`*`, `*/read`, `Microsoft.Authorization/*/Delete`): compiled once, matched case-insensitively.

/** A compiled action pattern. Takes the requested action already lower-cased. */
export type ActionMatcher = (lowerCaseAction: string) => boolean;

import { invalidParameter } from '../errors.js';

/** Longest pattern accepted; Azure operation names are far shorter. */
export const MAX_ACTION_PATTERN_LENGTH = 512;
/**
 * Most wildcards one pattern may hold. Built-in roles use one or two; the cap keeps the
 * backtracking of a compiled pattern small whatever a custom role holds.
 */
export const MAX_ACTION_PATTERN_WILDCARDS = 4;
const MAX_CACHED_PATTERNS = 10_000;
const cache = new Map<string, ActionMatcher>();

const matchAll: ActionMatcher = () => true;

/**
 * Compiles an `actions`/`notActions`/`dataActions`/`notDataActions` entry into a matcher.
 *
 * Semantics (Azure "Understand role definitions", Actions and NotActions sections): comparison
 * is case-insensitive, and `*` "grants access to all actions that match the string":
 * - `*` inside a segment (`Microsoft.Compute/virtual*`) matches any run of characters, `/`
 *   included, so `Microsoft.Network/*\/read` covers `Microsoft.Network/virtualNetworks/subnets/read`;
 * - `*` that is a whole segment also matches no segment at all, together with one adjacent `/`:
 *   `…/userAssignedIdentities/*\/assign/action` (Managed Identity Operator) grants
 *   `Microsoft.ManagedIdentity/userAssignedIdentities/assign/action`, which is the action ARM
 *   checks when an identity is attached to a VM.
 *
 * Every other character is literal (regular-expression metacharacters are escaped). Compiled
 * matchers are cached by pattern; the cache is bounded and simply starts over when full. Fails
 * as {@link validateActionPattern} does.
 */
export function compileActionPattern(pattern: string): ActionMatcher {
  const key = pattern.toLowerCase();
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  validateActionPattern(pattern);
  const compiled = compile(key);
  if (cache.size >= MAX_CACHED_PATTERNS) cache.clear();
  cache.set(key, compiled);
  return compiled;
}

/**
 * Fails with a 400 `InvalidParameter` (target `target`, default `permissions`) when `pattern`
 * is empty, longer than {@link MAX_ACTION_PATTERN_LENGTH} or holds more than
 * {@link MAX_ACTION_PATTERN_WILDCARDS} wildcards. For checking a custom role before storing it.
 */
export function validateActionPattern(pattern: string, target = 'permissions'): void {
  const shown = pattern.slice(0, 100);
  if (pattern.trim() === '') throw invalidParameter(target, 'An action pattern is empty.');
  if (pattern.length > MAX_ACTION_PATTERN_LENGTH) {
    throw invalidParameter(target, `The action pattern '${shown}…' is too long.`);
  }
  if (pattern.split('*').length - 1 > MAX_ACTION_PATTERN_WILDCARDS) {
    throw invalidParameter(
      target,
      `The action pattern '${shown}' has more than ${MAX_ACTION_PATTERN_WILDCARDS} wildcards.`,
    );
  }
}

/** Whether `action` matches `pattern` (see {@link compileActionPattern}). */
export function actionMatches(pattern: string, action: string): boolean {
  return compileActionPattern(pattern)(action.toLowerCase());
}

function compile(pattern: string): ActionMatcher {
  // Consecutive whole-segment wildcards mean no more than one does: each may stand for nothing.
  const segments = pattern.split('/').filter((s, i, all) => !(s === '*' && all[i - 1] === '*'));
  if (segments.length === 1 && segments[0] === '*') return matchAll;
  if (!pattern.includes('*')) return (action) => action === pattern;
  let source = '^';
  segments.forEach((segment, index) => {
    if (segment === '*') {
      // A whole-segment wildcard takes one adjacent separator with it, so it may match nothing.
      source += index === 0 ? '(?:.*/)?' : '(?:/.*)?';
      return;
    }
    if (index > 0 && !(index === 1 && segments[0] === '*')) source += '/';
    source += segment.split('*').map(escapeRegExp).join('.*');
  });
  const regex = new RegExp(`${source}$`, 's');
  return (action) => regex.test(action);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
