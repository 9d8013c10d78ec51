// `tessera deployment group …` and `deployment operation group list`: template deployments through ARM, with az 2.45's requests, flags, output and errors.
import { readFileSync } from 'node:fs';
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Command } from 'commander';
import { ClientError } from '../client/errors.js';
import { isRecord } from '../core/guards.js';
import { withApiVersion } from './arm-ids.js';
import { printResult } from './az-result.js';
import {
  clientFlags,
  type ClientFlagOptions,
  type Connection,
  connect,
  print,
  reporting,
  subscriptionOf,
  usage,
} from './client-kit.js';
import {
  completeParameters,
  defaultDeploymentName,
  processParameters,
  readTemplateFile,
  terminalAsk,
} from './deployment-parameters.js';
import {
  AzDeploymentError,
  call,
  deploymentUrl,
  DEPLOYMENTS_API_VERSION,
  ok,
  pollAsyncOperation,
  pollLocation,
  raw,
  requestBody,
  reportingAz,
  segment,
  type Sleep,
} from './deployment-requests.js';
import {
  azHttpErrorMessage,
  azPreflightMessage,
  azShape,
  azWhatIfResult,
  DEPLOYMENT_TABLE,
  DEPLOYMENTS_TABLE,
  pythonJsonIndented,
  VALIDATION_TABLE,
} from './deployment-shape.js';
import { excludeChangeTypes, formatWhatIf, type WhatIfChange } from './what-if-format.js';

/** Options of the `tessera deployment group` and `deployment operation group` commands. */
export interface DeploymentOptions extends ClientFlagOptions {
  readonly resourceGroup: string;
  readonly name?: string;
  readonly templateFile?: string;
  readonly parameters?: string[];
  readonly mode?: string;
  /** False with `--no-wait`. */
  readonly wait?: boolean;
  /** False with `--no-prompt`. */
  readonly prompt?: boolean;
  readonly whatIf?: boolean;
  readonly confirmWithWhatIf?: boolean;
  readonly proceedIfNoChange?: boolean;
  readonly whatIfResultFormat?: string;
  readonly whatIfExcludeChangeTypes?: string[];
  readonly resultFormat?: string;
  readonly excludeChangeTypes?: string[];
  /** False with `--no-pretty-print`. */
  readonly prettyPrint?: boolean;
  readonly filter?: string;
}

const warn = (message: string): void => void process.stderr.write(`WARNING: ${message}\n`);

/** An enum flag's value in any case, as az's enum arguments take it; the first by default. */
function choiceOf(flag: string, given: string | undefined, choices: string[], command: Command) {
  const found = choices.find((c) => c.toLowerCase() === (given ?? choices[0])?.toLowerCase());
  if (found !== undefined) return found;
  const allowed = choices.join(', ');
  return usage(
    command,
    `'${given ?? ''}' is not a valid value for '${flag}'. Allowed values: ${allowed}.`,
  );
}

const MODES = ['Incremental', 'Complete'];
const RESULT_FORMATS = ['FullResourcePayloads', 'ResourceIdOnly'];

/** What a create, validate or what-if sends: the deployment's name and its request body. */
interface Prepared {
  readonly name: string;
  /** The request body, the template file's text in it as az sends it (`requestBody`). */
  readonly body: (extra?: Readonly<Record<string, unknown>>) => string;
}

/** Reads the template and parameters (asking for missing ones on a terminal), as az does first. */
async function prepare(options: DeploymentOptions, command: Command): Promise<Prepared> {
  const file = options.templateFile;
  if (file === undefined) {
    return usage(command, 'the following arguments are required: --template-file/-f');
  }
  const mode = choiceOf('--mode', options.mode, MODES, command);
  try {
    const template = readTemplateFile(file);
    const declared = isRecord(template.parameters) ? template.parameters : {};
    const given = processParameters(declared, options.parameters ?? [], { warn });
    const parameters = await completeParameters(template, given, {
      noPrompt: options.prompt === false,
      ask: process.stdin.isTTY ? terminalAsk : undefined,
      warn,
    });
    // az's order on the wire: parameters, mode, then the template.
    // Read again as text: the file parsed, so it is there and readable.
    const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
    const properties = { parameters, mode, template };
    return {
      name: options.name ?? defaultDeploymentName(file),
      body: (extra) => requestBody(properties, text, extra),
    };
  } catch (error) {
    // A template or parameter az refuses before any request: in az's words, as its other errors.
    if (error instanceof ClientError && error.code === 'InvalidArgument') {
      throw new AzDeploymentError(error.message);
    }
    throw error;
  }
}

/** The target of a command: connection, subscription, the deployment's URL maker. */
async function target(options: DeploymentOptions, command: Command) {
  const conn = await connect(options, command);
  const sub = await subscriptionOf(conn.arm, options);
  const url = (name?: string, action?: string): string =>
    deploymentUrl(sub, options.resourceGroup, name, action);
  return { conn, sub, url };
}

/** `POST …/validate`: az's message for a refusal, or for an `error` in the answer. */
async function validate(conn: Connection, url: string, prepared: Prepared, sleep: Sleep) {
  let answer = await call(conn, 'POST', url, prepared.body());
  if (answer.status === 202) answer = await pollLocation(conn, answer, sleep);
  if (answer.status >= 400) {
    const error = answer.body.error;
    throw new AzDeploymentError(isRecord(error) ? azHttpErrorMessage(error) : answer.text.trim());
  }
  if (answer.body.error !== undefined && answer.body.error !== null) {
    throw new AzDeploymentError(azPreflightMessage(answer.body.error));
  }
  return answer.body;
}

/** `POST …/whatIf` and the changes it predicts, excluded types left out. */
async function whatIf(
  conn: Connection,
  url: string,
  prepared: Prepared,
  settings: { resultFormat: string; exclude: string[] | undefined },
  sleep: Sleep,
): Promise<Record<string, unknown>> {
  const whatIfSettings = { resultFormat: settings.resultFormat };
  let answer = await call(conn, 'POST', url, prepared.body({ whatIfSettings }));
  if (answer.status === 202) answer = raw(await pollLocation(conn, answer, sleep));
  const body = raw(answer).body;
  if (body.error !== undefined && body.error !== null) {
    throw new AzDeploymentError(azPreflightMessage(body.error));
  }
  const properties = isRecord(body.properties) ? body.properties : {};
  const changes = Array.isArray(properties.changes) ? (properties.changes as WhatIfChange[]) : [];
  return {
    ...body,
    properties: { ...properties, changes: excludeChangeTypes(changes, settings.exclude) },
  };
}

/** A what-if result's changes. */
const changesOf = (result: Record<string, unknown>): WhatIfChange[] =>
  ((isRecord(result.properties) ? result.properties.changes : undefined) ?? []) as WhatIfChange[];

/** Prints what-if changes in az's pretty format, coloured on a terminal as az colours them. */
function printWhatIf(result: Record<string, unknown>): void {
  const colored = process.stdout.isTTY && process.stderr.isTTY;
  process.stdout.write(`${formatWhatIf(changesOf(result), colored)}\n`);
}

/** True when a what-if predicts something other than NoChange or Ignore. */
const hasChange = (result: Record<string, unknown>): boolean =>
  changesOf(result).some((c) => !['nochange', 'ignore'].includes(c.changeType.toLowerCase()));

/** az's y/n question before a confirmed deployment; a usage error without a terminal. */
async function confirmDeployment(command: Command): Promise<boolean> {
  if (!process.stdin.isTTY) {
    return usage(command, 'unable to prompt for confirmation as no tty available');
  }
  for (;;) {
    const answer = await terminalAsk(
      '\nAre you sure you want to execute the deployment? (y/n): ',
      false,
    );
    if (/^y$/i.test(answer.trim())) return true;
    if (/^n$/i.test(answer.trim())) return false;
  }
}

/**
 * `deployment group create` as az 2.45: [what-if and confirmation], validate, PUT, poll the
 * `Azure-AsyncOperation` URL, GET and print the deployment. `--no-wait` stops after the PUT.
 */
export async function runCreate(
  options: DeploymentOptions,
  command: Command,
  sleep: Sleep = (ms) => sleepFor(ms),
): Promise<void> {
  const flag = '--what-if-result-format';
  const settings = {
    resultFormat: choiceOf(flag, options.whatIfResultFormat, RESULT_FORMATS, command),
    exclude: options.whatIfExcludeChangeTypes,
  };
  const prepared = await prepare(options, command);
  const { conn, url } = await target(options, command);
  if (options.whatIf === true || options.confirmWithWhatIf === true) {
    const predicted = await whatIf(conn, url(prepared.name, 'whatIf'), prepared, settings, sleep);
    printWhatIf(predicted);
    if (options.whatIf === true) return;
    const ask = options.proceedIfNoChange !== true || hasChange(predicted);
    if (ask && !(await confirmDeployment(command))) return;
  }
  await validate(conn, url(prepared.name, 'validate'), prepared, sleep);
  const started = raw(await call(conn, 'PUT', url(prepared.name), prepared.body()));
  if (options.wait === false) return;
  await pollAsyncOperation(conn, started, sleep);
  const done = raw(await call(conn, 'GET', url(prepared.name)));
  printResult(azShape(done.body, 'DeploymentExtended'), options, DEPLOYMENT_TABLE);
}

/** Adds `-g`, `-n`, `-f`, `-p`, `--mode` and `--no-prompt`: what the template commands share. */
function templateFlags(command: Command): Command {
  return command
    .requiredOption('-g, --resource-group <group>', 'the resource group')
    .option('-n, --name <name>', "the deployment's name (default: the template file's base name)")
    .option('-f, --template-file <file>', 'the template: a JSON file, comments allowed')
    .option(
      '-p, --parameters <parameters...>',
      'parameters: @file.json, a parameters file, inline JSON or KEY=VALUE (repeatable, merged in order)',
    )
    .option('--mode <mode>', 'Incremental (default) or Complete')
    .option(
      '--no-prompt',
      'do not ask for missing parameters: warn and send the deployment anyway',
    );
}

/** Registers `tessera deployment group|operation`; `addConfigFlags` gives each the configuration flags. */
export function registerDeploymentCommands(
  program: Command,
  addConfigFlags: (command: Command) => Command,
): void {
  const deployment = program
    .command('deployment')
    .description('template deployments (ARM), as `az deployment`');
  const group = deployment
    .command('group')
    .description('deployments at a resource group, as `az deployment group`');
  const flags = clientFlags(addConfigFlags);
  const named = (name: string, description: string): Command =>
    group
      .command(name)
      .description(description)
      .requiredOption('-g, --resource-group <group>', 'the resource group')
      .requiredOption('-n, --name <name>', "the deployment's name");

  flags(
    templateFlags(group.command('create').description('deploy a template to a resource group'))
      .option('--no-wait', 'do not wait for the deployment to finish')
      .option('-w, --what-if', 'only show what the deployment would change')
      .option(
        '--confirm-with-what-if',
        'show what the deployment would change and ask before deploying',
      )
      .option(
        '--proceed-if-no-change',
        'with --confirm-with-what-if: deploy without asking when nothing changes',
      )
      .option(
        '-r, --what-if-result-format <format>',
        'FullResourcePayloads (default) or ResourceIdOnly',
      )
      .option(
        '-x, --what-if-exclude-change-types <types...>',
        'change types to leave out of the what-if',
      ),
    'tessera deployment group create -g my-rg -f main.json -p @main.parameters.json -p prefix=app',
    'tessera deployment group create -g my-rg -n main -f main.json --what-if',
  ).action((options: DeploymentOptions, command: Command) =>
    reportingAz(() => runCreate(options, command)),
  );

  flags(
    templateFlags(
      group.command('validate').description('check a template deployment without running it'),
    ),
    'tessera deployment group validate -g my-rg -f main.json -p count=3',
  ).action((options: DeploymentOptions, command: Command) =>
    reportingAz(async () => {
      const prepared = await prepare(options, command);
      const { conn, url } = await target(options, command);
      const result = await validate(conn, url(prepared.name, 'validate'), prepared, (ms) =>
        sleepFor(ms),
      );
      printResult(
        azShape({ error: null, ...result }, 'DeploymentValidateResult'),
        options,
        VALIDATION_TABLE,
      );
    }),
  );

  flags(
    templateFlags(
      group.command('what-if').description('show what a template deployment would change'),
    )
      .option('-r, --result-format <format>', 'FullResourcePayloads (default) or ResourceIdOnly')
      .option(
        '--no-pretty-print',
        "print the result as data (--output) instead of az's pretty text",
      )
      .option('-x, --exclude-change-types <types...>', 'change types to leave out'),
    'tessera deployment group what-if -g my-rg -f main.json -p prefix=app',
    'tessera deployment group what-if -g my-rg -f main.json --no-pretty-print --query "changes[].changeType"',
  ).action((options: DeploymentOptions, command: Command) =>
    reportingAz(async () => {
      const settings = {
        resultFormat: choiceOf('--result-format', options.resultFormat, RESULT_FORMATS, command),
        exclude: options.excludeChangeTypes,
      };
      const prepared = await prepare(options, command);
      const { conn, url } = await target(options, command);
      const result = await whatIf(conn, url(prepared.name, 'whatIf'), prepared, settings, (ms) =>
        sleepFor(ms),
      );
      if (options.prettyPrint === false) printResult(azWhatIfResult(result), options);
      else printWhatIf(result);
    }),
  );

  flags(
    named('show', 'show a deployment'),
    'tessera deployment group show -g my-rg -n main',
  ).action((options: DeploymentOptions, command: Command) =>
    reporting(async () => {
      const { conn, url } = await target(options, command);
      const answer = ok(await call(conn, 'GET', url(options.name)), 'GET deployment');
      printResult(azShape(answer.body, 'DeploymentExtended'), options, DEPLOYMENT_TABLE);
    }),
  );

  flags(
    group
      .command('list')
      .description("list a resource group's deployments")
      .requiredOption('-g, --resource-group <group>', 'the resource group')
      .option('--filter <odata>', 'e.g. "provisioningState eq \'Failed\'"'),
    'tessera deployment group list -g my-rg -o table',
  ).action((options: DeploymentOptions, command: Command) =>
    reporting(async () => {
      const { conn, url } = await target(options, command);
      const filter =
        options.filter === undefined ? '' : `$filter=${encodeURIComponent(options.filter)}&`;
      const found = await conn.arm.list(url().replace('?', `?${filter}`));
      printResult(
        found.map((d) => azShape(d, 'DeploymentExtended')),
        options,
        DEPLOYMENTS_TABLE,
      );
    }),
  );

  flags(
    named('delete', "delete a deployment from the group's history (its resources stay)").option(
      '--no-wait',
      'do not wait for the deletion to finish',
    ),
    'tessera deployment group delete -g my-rg -n main',
  ).action((options: DeploymentOptions, command: Command) =>
    reporting(async () => {
      const { conn, url } = await target(options, command);
      const answer = ok(await call(conn, 'DELETE', url(options.name)), 'DELETE deployment');
      if (options.wait !== false)
        ok(await pollLocation(conn, answer, (ms) => sleepFor(ms)), 'delete');
    }),
  );

  flags(
    named('cancel', 'cancel a running deployment'),
    'tessera deployment group cancel -g my-rg -n main',
  ).action((options: DeploymentOptions, command: Command) =>
    reporting(async () => {
      const { conn, url } = await target(options, command);
      ok(await call(conn, 'POST', url(options.name, 'cancel')), 'POST cancel');
    }),
  );

  flags(
    named('export', 'print the template a deployment used'),
    'tessera deployment group export -g my-rg -n main > main.json',
  ).action((options: DeploymentOptions, command: Command) =>
    reporting(async () => {
      const { conn, url } = await target(options, command);
      const answer = ok(
        await call(conn, 'POST', url(options.name, 'exportTemplate')),
        'POST exportTemplate',
      );
      const template = answer.body.template ?? null;
      // az prints the template itself, in its own order (json.dumps, indent 2), whatever -o says.
      if (options.output === 'json' && options.query === undefined) {
        process.stdout.write(`${pythonJsonIndented(template)}\n`);
      } else {
        print(template, options);
      }
    }),
  );

  const operation = deployment.command('operation').description('the operations of deployments');
  flags(
    operation
      .command('group')
      .description('operations of deployments at a resource group')
      .command('list')
      .description("list a deployment's operations, one per resource it wrote")
      .requiredOption('-g, --resource-group <group>', 'the resource group')
      .requiredOption('-n, --name <name>', "the deployment's name"),
    'tessera deployment operation group list -g my-rg -n main --query "[].properties.statusMessage"',
  ).action((options: DeploymentOptions, command: Command) =>
    reporting(async () => {
      const { conn, sub } = await target(options, command);
      const path = `/subscriptions/${segment(sub)}/resourcegroups/${segment(options.resourceGroup)}/deployments/${segment(options.name ?? '')}/operations`;
      const found = await conn.arm.list(withApiVersion(path, DEPLOYMENTS_API_VERSION));
      printResult(
        found.map((op) => azShape(op, 'DeploymentOperation')),
        options,
      );
    }),
  );
}
