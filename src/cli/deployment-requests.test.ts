// Unit tests of how `tessera deployment` polls as az 2.45 (azure-core) does: the first poll at once, then each answer's Retry-After, failures as raw text.
import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { HttpRequest, HttpResponse } from '../client/http.js';
import type { Connection } from './client-kit.js';
import {
  type Answer,
  AzDeploymentError,
  deploymentUrl,
  pollAsyncOperation,
  pollLocation,
  retryAfterMs,
} from './deployment-requests.js';

/** A connection whose server answers `answers` in turn, recording each request and each wait. */
function scripted(answers: HttpResponse[]) {
  const requests: HttpRequest[] = [];
  const log: string[] = [];
  const conn = {
    serverUrl: 'http://127.0.0.1:9',
    tokens: { getToken: () => Promise.resolve('token') },
    send: (request: HttpRequest) => {
      requests.push(request);
      log.push(`GET ${request.url}`);
      const next = answers.shift();
      return next === undefined
        ? Promise.reject(new Error('no more answers'))
        : Promise.resolve(next);
    },
  } as unknown as Connection;
  const sleep = (ms: number) => {
    log.push(`sleep ${String(ms)}`);
    return Promise.resolve();
  };
  return { conn, requests, log, sleep };
}

const status = (body: unknown, headers: IncomingHttpHeaders = {}, code = 200): HttpResponse => ({
  status: code,
  headers,
  text: JSON.stringify(body),
});

const STATUS_URL =
  'https://management.example/subscriptions/s/resourcegroups/rg/providers/Microsoft.Resources/deployments/d/operationStatuses/1?api-version=2021-04-01';
const started: Answer = {
  status: 201,
  text: '{}',
  body: {},
  headers: { 'azure-asyncoperation': STATUS_URL, 'retry-after': '1' },
};
const LOCAL =
  'http://127.0.0.1:9/subscriptions/s/resourcegroups/rg/providers/Microsoft.Resources/deployments/d/operationStatuses/1?api-version=2021-04-01';

describe('pollAsyncOperation', () => {
  it('polls at once, then after each Retry-After (30 s without one), on its own server only', async () => {
    const { conn, requests, log, sleep } = scripted([
      status({ status: 'Running' }, { 'retry-after': '2' }),
      status({ status: 'Accepted' }),
      status({ status: 'Succeeded' }),
    ]);
    await pollAsyncOperation(conn, started, sleep);
    expect(log).toEqual([
      `GET ${LOCAL}`,
      'sleep 2000',
      `GET ${LOCAL}`,
      'sleep 30000',
      `GET ${LOCAL}`,
    ]);
    expect(requests.every((r) => r.headers?.authorization === 'Bearer token')).toBe(true);
  });

  it.each([
    ['Failed', '{"status":"Failed","error":{"code":"DeploymentFailed","message":"m"}}'],
    ['Canceled', '{"status":"Canceled"}'],
  ])('fails on %s with the status body as az prints it', async (_state, text) => {
    const { conn, sleep } = scripted([{ status: 200, headers: {}, text }]);
    const failure = pollAsyncOperation(conn, started, sleep);
    await expect(failure).rejects.toBeInstanceOf(AzDeploymentError);
    await expect(failure).rejects.toThrow(text);
  });

  it('fails on an error answer with its raw text', async () => {
    const text = '{"error":{"code":"DeploymentNotFound","message":"gone"}}';
    const { conn, sleep } = scripted([{ status: 404, headers: {}, text }]);
    await expect(pollAsyncOperation(conn, started, sleep)).rejects.toThrow(text);
  });
});

describe('pollLocation', () => {
  it("follows a 202's Location at once, then after Retry-After, until another status", async () => {
    const { conn, log, sleep } = scripted([
      status({}, { 'retry-after': '3', location: 'http://elsewhere/next' }, 202),
      status({ done: true }, {}, 200),
    ]);
    const first: Answer = { status: 202, text: '', body: {}, headers: { location: '/first' } };
    const last = await pollLocation(conn, first, sleep);
    expect(last.body).toEqual({ done: true });
    expect(log).toEqual([
      'GET http://127.0.0.1:9/first',
      'sleep 3000',
      'GET http://127.0.0.1:9/next',
    ]);
  });

  it('does not poll an answer that is not a 202', async () => {
    const { conn, log, sleep } = scripted([]);
    const done: Answer = { status: 204, text: '', body: {}, headers: { location: '/x' } };
    expect(await pollLocation(conn, done, sleep)).toBe(done);
    expect(log).toEqual([]);
  });
});

describe('retryAfterMs', () => {
  it('reads integer seconds and HTTP dates; anything else, or 0, is az default of 30 s', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs({ 'retry-after': '1' }, now)).toBe(1000);
    expect(retryAfterMs({ 'retry-after': ' 5 ' }, now)).toBe(5000);
    expect(retryAfterMs({ 'retry-after': 'Thu, 01 Jan 2026 00:00:07 GMT' }, now)).toBe(7000);
    expect(retryAfterMs({ 'retry-after': '0' }, now)).toBe(30_000);
    expect(retryAfterMs({ 'retry-after': 'soon' }, now)).toBe(30_000);
    expect(retryAfterMs({}, now)).toBe(30_000);
  });
});

describe('deploymentUrl', () => {
  it("is az's path: lower-case resourcegroups, a list with its trailing slash, 2021-04-01", () => {
    expect(deploymentUrl('s', 'my rg', 'd', 'whatIf')).toBe(
      '/subscriptions/s/resourcegroups/my%20rg/providers/Microsoft.Resources/deployments/d/whatIf?api-version=2021-04-01',
    );
    expect(deploymentUrl('s', 'rg')).toBe(
      '/subscriptions/s/resourcegroups/rg/providers/Microsoft.Resources/deployments/?api-version=2021-04-01',
    );
  });
});
