// The ARM calls of `tessera deployment` as az 2.45 makes them: raw answers, Location and Azure-AsyncOperation polling, az's deployment errors.
import type { IncomingHttpHeaders } from 'node:http';
import { ARM_SCOPE } from '../client/arm.js';
import { errorFromAnswer } from '../client/errors.js';
import { isRecord } from '../core/guards.js';
import { withApiVersion } from './arm-ids.js';
import { type Connection, reporting } from './client-kit.js';

/** What az 2.45 sends for deployments, operations and a group's export (its `latest` profile). */
export const DEPLOYMENTS_API_VERSION = '2021-04-01';

/** How long az waits between polls when an answer gives no usable `Retry-After`. */
const DEFAULT_POLL_MS = 30_000;

/** A failure az reports in its own words (`ERROR: …`): a template command's ARM error. */
export class AzDeploymentError extends Error {
  override readonly name = 'AzDeploymentError';
}

/** Runs a command as {@link reporting} does, az's deployment errors printed as az prints them. */
export function reportingAz(work: () => Promise<void>): Promise<void> {
  return reporting(async () => {
    try {
      await work();
    } catch (error) {
      if (!(error instanceof AzDeploymentError)) throw error;
      process.stderr.write(`ERROR: ${error.message}\n`);
      process.exitCode = 1;
    }
  });
}

/** An ARM answer whatever its status, its body parsed when it is JSON. */
export interface Answer {
  readonly status: number;
  readonly text: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
}

/** One ARM call to the connection's server; `path` may be an absolute URL (only its path is used). */
export async function call(conn: Connection, method: string, path: string, body?: unknown) {
  // A URL the server handed out is asked of this server only: the token goes nowhere else.
  const local = /^https?:/i.test(path) ? `${new URL(path).pathname}${new URL(path).search}` : path;
  const token = await conn.tokens.getToken(ARM_SCOPE);
  const answer = await conn.send({
    method,
    url: `${conn.serverUrl}${local}`,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
    },
    // A string is a body already written (a deployment's, the template file's text in it).
    body: body === undefined || typeof body === 'string' ? body : JSON.stringify(body),
  });
  let parsed: unknown;
  try {
    parsed = answer.text === '' ? {} : JSON.parse(answer.text);
  } catch {
    parsed = undefined;
  }
  return { ...answer, body: isRecord(parsed) ? parsed : {} } satisfies Answer;
}

/** The answer, or the failure it carries in the CLI's usual words (`tessera: Code: message`). */
export function ok(answer: Answer, what: string): Answer {
  if (answer.status >= 400) throw errorFromAnswer(answer.status, answer.text, what);
  return answer;
}

/** A failed template command's answer as az prints it: its raw text. */
export function raw(answer: Answer): Answer {
  if (answer.status >= 400) throw new AzDeploymentError(answer.text.trim());
  return answer;
}

/** How long to wait before the next poll: an integer `Retry-After` or HTTP date, else 30 s. */
export function retryAfterMs(headers: IncomingHttpHeaders, now = Date.now()): number {
  const given = headers['retry-after'];
  const value = typeof given === 'string' ? given : undefined;
  if (value === undefined || value.trim() === '') return DEFAULT_POLL_MS;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000 || DEFAULT_POLL_MS;
  const at = Date.parse(value);
  return Number.isNaN(at) ? DEFAULT_POLL_MS : Math.max(0, at - now);
}

/** Waits `ms`: injected by tests. */
export type Sleep = (ms: number) => Promise<unknown>;

/**
 * Follows a 202's `Location` until the answer is no longer 202 (az's Location polling): the first
 * poll at once, as azure-core does, then after each answer's `Retry-After`.
 */
export async function pollLocation(conn: Connection, first: Answer, sleep: Sleep): Promise<Answer> {
  let answer = first;
  let location = first.headers.location;
  while (answer.status === 202 && typeof location === 'string') {
    if (answer !== first) await sleep(retryAfterMs(answer.headers));
    answer = await call(conn, 'GET', location);
    if (typeof answer.headers.location === 'string') location = answer.headers.location;
  }
  return answer;
}

/**
 * Polls a PUT's `Azure-AsyncOperation` URL until its `status` is final: the first poll at once,
 * as azure-core does, then after each answer's `Retry-After` (az's default 30 s without one). A
 * `Failed` or `Canceled` status, none, or an error answer fails with the status body's raw text,
 * as az prints it.
 */
export async function pollAsyncOperation(
  conn: Connection,
  started: Answer,
  sleep: Sleep,
): Promise<void> {
  const url = started.headers['azure-asyncoperation'];
  if (typeof url !== 'string') return;
  for (;;) {
    const last = raw(await call(conn, 'GET', url));
    const status = typeof last.body.status === 'string' ? last.body.status.toLowerCase() : '';
    if (status === 'succeeded') return;
    if (status === '' || status === 'failed' || status === 'canceled') {
      throw new AzDeploymentError(last.text.trim());
    }
    await sleep(retryAfterMs(last.headers));
  }
}

export const segment = encodeURIComponent;

/** A deployment's path (and action) with az's lower-case `resourcegroups` and api-version. */
export function deploymentUrl(sub: string, group: string, name?: string, action?: string): string {
  const base = `/subscriptions/${segment(sub)}/resourcegroups/${segment(group)}/providers/Microsoft.Resources/deployments`;
  const path = name === undefined ? `${base}/` : `${base}/${segment(name)}`;
  return withApiVersion(action === undefined ? path : `${path}/${action}`, DEPLOYMENTS_API_VERSION);
}

/**
 * The request body as az sends it (PROTOCOL-TOOLS Part C 1.3): `properties` as JSON with the
 * template file's text spliced in last, comments and all, so an `InvalidTemplate` names the
 * user's own line and column.
 */
export function requestBody(
  properties: Readonly<Record<string, unknown>>,
  templateText: string,
  extra: Readonly<Record<string, unknown>> = {},
): string {
  const rest = Object.fromEntries(Object.entries(properties).filter(([k]) => k !== 'template'));
  const head = JSON.stringify({ ...rest, ...extra });
  return `{"properties": ${head.slice(0, -1)}${head === '{}' ? '' : ', '}"template": ${templateText}}}`;
}
