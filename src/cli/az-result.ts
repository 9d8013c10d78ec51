// How client commands finish as `az` does: its global `resourceGroup` transform, its table views, its delete confirmation.
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { type ClientFlagOptions, print, usage } from './client-kit.js';
import { isRecord } from '../core/guards.js';

/**
 * `az`'s global transform: every object with an `id` of the form
 * `/subscriptions/{s}/resourceGroups/{g}/{ns}/{type}/{name}…` and no `resourceGroup` key gets
 * `resourceGroup: g`, at any depth; a resource group's own id gets none. Returns `value`.
 */
export function addResourceGroup<T>(value: T): T {
  if (Array.isArray(value)) {
    for (const item of value) addResourceGroup(item);
  } else if (isRecord(value)) {
    const record: Record<string, unknown> = value;
    const known = Object.keys(record).some((key) => key.toLowerCase() === 'resourcegroup');
    const parts = typeof record.id === 'string' ? record.id.split('/') : [];
    // As az's `_parse_id`: the keyword in this exact case, and a resource below the group.
    if (!known && parts[3] === 'resourceGroups' && parts.length > 8) {
      record.resourceGroup = parts[4];
    }
    for (const item of Object.values(record)) addResourceGroup(item);
  }
  return value;
}

/**
 * The options with `az`'s table view of a command's result (a JMESPath projection, which also
 * fixes the column order) as the query, when the output is a table and no `--query` was given:
 * `az` applies its table transformers only then.
 */
export function withTableView<T extends { readonly output: string; readonly query?: string }>(
  options: T,
  view: string,
): T {
  return options.output === 'table' && options.query === undefined
    ? { ...options, query: view }
    : options;
}

/**
 * Prints a result as `az` does: `resourceGroup` added, and, for `-o table` without `--query`,
 * the command's own columns (`tableView`, a JMESPath projection, as az's table transformers).
 */
export function printResult(
  value: unknown,
  options: Pick<ClientFlagOptions, 'output' | 'query'>,
  tableView?: string,
): void {
  const shown = tableView === undefined ? options : withTableView(options, tableView);
  print(addResourceGroup(value), shown);
}

/**
 * `az`'s confirmation before a delete: passes with `--yes`, asks y/n on a terminal, and is a
 * usage error without one (nobody could answer). False when the answer is no.
 */
export async function confirmed(yes: boolean | undefined, command: Command): Promise<boolean> {
  if (yes === true) return true;
  if (!process.stdin.isTTY) {
    return usage(command, 'unable to prompt for confirmation as no tty available: pass --yes');
  }
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(
      'Are you sure you want to perform this operation? (y/n): ',
    );
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}
