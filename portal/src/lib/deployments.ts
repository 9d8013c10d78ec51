// Deployments as the portal shows them: newest first, durations for people, errors and outputs as rows.
import type { ArmErrorBody, Deployment, DeploymentOutput } from '../api/deployments.js';

/** The states after which a deployment (or an operation) changes no more. */
const FINAL = new Set(['succeeded', 'failed', 'canceled']);

/** Whether a deployment in `state` may still change (Accepted, Running…): the page reads it again. */
export const isActive = (state: string | undefined): boolean =>
  state !== undefined && state !== '' && !FINAL.has(state.toLowerCase());

const timeOf = (d: Deployment): number => {
  const at = Date.parse(d.properties?.timestamp ?? '');
  return Number.isNaN(at) ? -Infinity : at;
};

/**
 * `list` by `properties.timestamp` (when it ended, or started while it runs), newest first; ties,
 * and deployments without a time (last), by name.
 */
export function newestFirst(list: readonly Deployment[]): Deployment[] {
  return [...list].sort((a, b) => timeOf(b) - timeOf(a) || a.name.localeCompare(b.name));
}

/**
 * An ISO 8601 duration as ARM writes one (`PT0.016S`, `PT2M3.5S`, `PT1H`, `P1DT2H`) for people:
 * `0.016 s`, `2 min 3.5 s`, `1 h`, `1 d 2 h`; anything else as given.
 */
export function formatDuration(iso: string): string {
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(iso);
  if (match === null || iso === 'P' || iso.endsWith('T')) return iso;
  const [, days, hours, minutes, seconds] = match;
  const parts = [
    days === undefined ? '' : `${String(Number(days))} d`,
    hours === undefined ? '' : `${String(Number(hours))} h`,
    minutes === undefined ? '' : `${String(Number(minutes))} min`,
    seconds === undefined ? '' : `${String(Number(seconds))} s`,
  ].filter((p) => p !== '');
  return parts.join(' ');
}

/** One error of a tree, with how deep it sits (0 for the error itself, 1 for its details…). */
export interface ErrorLine {
  readonly code: string;
  readonly message: string;
  readonly depth: number;
}

/** `error` and its `details`, depth first, each with its depth. */
export function errorLines(error: ArmErrorBody | undefined, depth = 0): ErrorLine[] {
  if (error === undefined) return [];
  return [
    { code: error.code ?? '', message: error.message ?? '', depth },
    ...(error.details ?? []).flatMap((d) => errorLines(d, depth + 1)),
  ];
}

/** One template output, its value as text (JSON for anything but a string). */
export interface OutputRow {
  readonly name: string;
  readonly type: string;
  readonly value: string;
}

/** A deployment's `outputs`, in the template's order. */
export function outputRows(
  outputs: Readonly<Record<string, DeploymentOutput>> | undefined,
): OutputRow[] {
  return Object.entries(outputs ?? {}).map(([name, output]) => ({
    name,
    type: output.type ?? '',
    value:
      typeof output.value === 'string'
        ? output.value
        : output.value === undefined
          ? ''
          : JSON.stringify(output.value),
  }));
}

/** Where the page is: `#/deployments/{group}/{deployment}`, each part optional. */
export interface DeploymentsPlace {
  readonly group?: string;
  readonly deployment?: string;
}

const decode = (part: string | undefined): string | undefined => {
  if (part === undefined || part === '') return undefined;
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
};

/** The group and deployment a fragment (`#/deployments/demo-rg/main`) names. */
export function deploymentsPlace(hash: string): DeploymentsPlace {
  const [route, group, deployment] = hash.replace(/^#\/?/, '').split('?')[0]?.split('/') ?? [];
  if (route !== 'deployments') return {};
  const g = decode(group);
  const d = g === undefined ? undefined : decode(deployment);
  return {
    ...(g === undefined ? {} : { group: g }),
    ...(d === undefined ? {} : { deployment: d }),
  };
}

/** The fragment of a group's deployments, or of one of them. */
export const deploymentsHref = (group: string, deployment?: string): string =>
  `#/deployments/${encodeURIComponent(group)}${deployment === undefined ? '' : `/${encodeURIComponent(deployment)}`}`;
