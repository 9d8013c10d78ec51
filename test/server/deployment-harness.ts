// Deploying templates through a test server's ARM surface as az does: PUT, poll the Azure-AsyncOperation URL, read.
import { expect } from 'vitest';
import type { ArmHarness, ArmResult } from './arm-harness.js';

export const DEPLOY_V = 'api-version=2021-04-01';
export const SCHEMA =
  'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#';

/** A template of `resources` (and optional parameters and outputs). */
export const template = (
  resources: unknown[],
  extra: { parameters?: Record<string, unknown>; outputs?: Record<string, unknown> } = {},
): Record<string, unknown> => ({ $schema: SCHEMA, contentVersion: '1.0.0.0', ...extra, resources });

/** A user-assigned identity resource named `name`, in the group's location. */
export const identity = (name: string, extra: Record<string, unknown> = {}) => ({
  type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
  apiVersion: '2023-01-31',
  name,
  location: '[resourceGroup().location]',
  ...extra,
});

/** The path of deployment `name` at `scope` (a group or subscription id). */
export const deploymentPath = (scope: string, name: string, suffix = ''): string =>
  `${scope}/providers/Microsoft.Resources/deployments/${name}${suffix}?${DEPLOY_V}`;

/** Polls `started`'s Azure-AsyncOperation URL until its status is final; the last body. */
export async function settle(
  h: ArmHarness,
  started: ArmResult,
  token = h.admin,
): Promise<Record<string, unknown>> {
  const url = new URL(started.headers.get('azure-asyncoperation') ?? '');
  for (;;) {
    const polled = await h.arm('GET', `${url.pathname}${url.search}`, { token });
    expect(polled.status).toBe(200);
    if (polled.body?.status !== 'Running') return polled.body ?? {};
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** PUTs a deployment, waits for it to finish, and answers its final GET. */
export async function deploy(
  h: ArmHarness,
  scope: string,
  name: string,
  properties: Record<string, unknown>,
  options: { token?: string; location?: string } = {},
): Promise<{ status: Record<string, unknown>; deployment: ArmResult }> {
  const token = options.token ?? h.admin;
  const started = await h.arm('PUT', deploymentPath(scope, name), {
    token,
    body: {
      ...(options.location === undefined ? {} : { location: options.location }),
      properties: { mode: 'Incremental', ...properties },
    },
  });
  expect(started.status, JSON.stringify(started.body)).toBeOneOf([200, 201]);
  const status = await settle(h, started, token);
  return { status, deployment: await h.arm('GET', deploymentPath(scope, name), { token }) };
}
