// `tessera vm extension`: a VM's extensions through ARM, shaped like `az vm extension`, the server's warnings on stderr.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { ArmObject } from '../client/arm.js';
import { isRecord } from '../core/guards.js';
import { RESOURCE_TYPES } from '../core/resource-types.js';
import {
  type ClientFlagOptions,
  connect,
  reporting,
  subscriptionOf,
  usage,
  withExample,
} from './client-kit.js';
import { COMPUTE_API, resourcePath } from './vm-identity.js';
import { printResult } from './az-result.js';

const VM_TYPE = RESOURCE_TYPES.virtualMachines;

/** `az vm extension list`'s table columns. */
const EXTENSION_COLUMNS =
  '[].{Name:name, ProvisioningState:properties.provisioningState, Publisher:properties.publisher, Version:properties.typeHandlerVersion, AutoUpgradeMinorVersion:properties.autoUpgradeMinorVersion}';

/** Options of the `tessera vm extension` commands. */
export interface ExtensionOptions extends ClientFlagOptions {
  readonly resourceGroup: string;
  readonly vmName: string;
  readonly name: string;
  readonly publisher: string;
  readonly version: string;
  readonly settings?: string;
  readonly protectedSettings?: string;
  readonly extensionInstanceName?: string;
  /** False with `--no-auto-upgrade`. */
  readonly autoUpgrade: boolean;
}

/**
 * A JSON object flag as `az` reads one: JSON text, or `@file` for a file's content. Anything
 * else (unreadable file, bad JSON, not an object) is a usage error.
 */
export async function jsonObjectFlag(
  flag: string,
  given: string,
  command: Command,
): Promise<ArmObject> {
  let text = given;
  if (given.startsWith('@')) {
    try {
      text = await readFile(given.slice(1), 'utf8');
    } catch (error) {
      const code = String((error as NodeJS.ErrnoException).code);
      return usage(command, `${flag}: cannot read ${given.slice(1)}: ${code}`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return usage(command, `${flag}: not valid JSON: ${given}`);
  }
  if (!isRecord(parsed)) return usage(command, `${flag}: expected a JSON object, got ${given}`);
  return parsed;
}

/**
 * The text of a `Warning` header (RFC 9111 section 5.5: `code agent "text"`, several joined by
 * commas): each quoted text, or the whole value when it has none.
 */
export function warningTexts(header: string | string[] | undefined): string[] {
  const values = header === undefined ? [] : Array.isArray(header) ? header : [header];
  return values.flatMap((value) => {
    const quoted = [...value.matchAll(/\d{3}\s+\S+\s+"((?:[^"\\]|\\.)*)"/g)].map((m) =>
      (m[1] ?? '').replace(/\\(.)/g, '$1'),
    );
    return quoted.length > 0 ? quoted : [value];
  });
}

async function runExtensionSet(options: ExtensionOptions, command: Command): Promise<void> {
  const settings =
    options.settings === undefined
      ? undefined
      : await jsonObjectFlag('--settings', options.settings, command);
  const protectedSettings =
    options.protectedSettings === undefined
      ? undefined
      : await jsonObjectFlag('--protected-settings', options.protectedSettings, command);
  const { arm } = await connect(options, command);
  const sub = await subscriptionOf(arm, options);
  const vmPath = resourcePath(sub, options.resourceGroup, VM_TYPE, options.vmName);
  // As `az`: the extension goes where its VM is (and a missing VM fails here, by ARM's answer).
  const vm = (await arm.request('GET', `${vmPath}?api-version=${COMPUTE_API}`)).body;
  const instance = encodeURIComponent(options.extensionInstanceName ?? options.name);
  const { body, headers } = await arm.request(
    'PUT',
    `${vmPath}/extensions/${instance}?api-version=${COMPUTE_API}`,
    {
      location: vm.location,
      properties: {
        publisher: options.publisher,
        type: options.name,
        typeHandlerVersion: options.version,
        autoUpgradeMinorVersion: options.autoUpgrade,
        ...(settings === undefined ? {} : { settings }),
        ...(protectedSettings === undefined ? {} : { protectedSettings }),
      },
    },
  );
  for (const warning of warningTexts(headers.warning)) {
    process.stderr.write(`WARNING: ${warning}\n`);
  }
  printResult(body, options);
}

/** Adds `vm extension set|delete|list` under `vm`; `flags` adds the client flags. */
export function registerVmExtensionCommands(
  vm: Command,
  flags: (command: Command) => Command,
): void {
  const extension = vm
    .command('extension')
    .description("a VM's extensions (recorded by Tessera, not run; the agent serves IMDS)");
  const base = (name: string, description: string): Command =>
    flags(
      extension
        .command(name)
        .description(description)
        .requiredOption('-g, --resource-group <group>', 'the resource group')
        .requiredOption('--vm-name <vm>', "the VM's name"),
    );

  withExample(
    base('set', 'set (create or update) an extension on a VM')
      .requiredOption(
        '-n, --name <type>',
        "the extension's type, e.g. ManagedIdentityExtensionForLinux",
      )
      .requiredOption('--publisher <publisher>', "the extension's publisher")
      .option('--version <version>', "the extension's typeHandlerVersion", '1.0')
      .option('--settings <json>', 'public settings: JSON text or @file')
      .option(
        '--protected-settings <json>',
        'protected settings (never stored): JSON text or @file',
      )
      .option('--extension-instance-name <name>', "the extension's resource name (default: --name)")
      .option('--no-auto-upgrade', 'do not upgrade to newer minor versions'),
    `tessera vm extension set -g demo-rg --vm-name web -n ManagedIdentityExtensionForLinux --publisher Microsoft.ManagedIdentity --settings '{"port":50342}'`,
  ).action((options: ExtensionOptions, command: Command) =>
    reporting(() => runExtensionSet(options, command)),
  );

  withExample(
    base('delete', 'delete an extension from a VM').requiredOption(
      '-n, --name <name>',
      "the extension's resource name",
    ),
    'tessera vm extension delete -g demo-rg --vm-name web -n ManagedIdentityExtensionForLinux',
  ).action((options: ExtensionOptions, command: Command) =>
    reporting(async () => {
      const { arm } = await connect(options, command);
      const sub = await subscriptionOf(arm, options);
      const vmPath = resourcePath(sub, options.resourceGroup, VM_TYPE, options.vmName);
      const name = encodeURIComponent(options.name);
      await arm.request('DELETE', `${vmPath}/extensions/${name}?api-version=${COMPUTE_API}`);
    }),
  );

  withExample(
    base('list', "list a VM's extensions"),
    'tessera vm extension list -g demo-rg --vm-name web -o table',
  ).action((options: ExtensionOptions, command: Command) =>
    reporting(async () => {
      const { arm } = await connect(options, command);
      const sub = await subscriptionOf(arm, options);
      const vmPath = resourcePath(sub, options.resourceGroup, VM_TYPE, options.vmName);
      const found = await arm.list(`${vmPath}/extensions?api-version=${COMPUTE_API}`);
      printResult(found, options, EXTENSION_COLUMNS);
    }),
  );
}
