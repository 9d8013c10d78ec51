// Load on the HTTP token endpoint, shared by the token benchmarks: the server child, the forms, autocannon.
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { createPrivateKey, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { bundledChild } from './child-bundle.js';
import autocannon from 'autocannon';
import { SignJWT } from 'jose';
import { freePort } from '../src/server/runtime.js';
import type { Measurement } from './harness.js';

/** The foreign token's subject that the server's federated credential trusts. */
export const FEDERATED_SUBJECT = 'system:serviceaccount:bench:web';
/** The audience that credential requires: the one Azure's workload identity tokens carry. */
export const FEDERATED_AUDIENCE = 'api://AzureADTokenExchange';

/** What bench/token-server.ts prints when it listens. */
export interface ServerInfo {
  url: string;
  tenantId: string;
  /** The client whose certificate signs {@link assertions}. */
  appId: string;
  sha256: string;
  privateKeyPem: string;
  /** The user-assigned identity that trusts the foreign issuer; only when one was given. */
  federatedClientId?: string;
}

/** `host-bound`: the client's certificate is a host's, so each mint checks the attachment. */
export type Credential = 'host-bound' | 'application';

/** A foreign OIDC issuer for the server to trust: its URL (`iss`) and its CA's PEM file. */
export interface TrustedIssuer {
  readonly url: string;
  readonly caFile: string;
}

/** The token server child and what it printed. */
export interface TokenServer {
  readonly child: ChildProcessByStdio<null, Readable, null>;
  readonly info: ServerInfo;
}

/**
 * Spawns bench/token-server.ts on a free port and waits for its info line. With `issuer`, the
 * server also fetches that issuer's keys (trusting its CA) and holds a user-assigned identity
 * with a federated credential for it. Rejects if the child exits before it prints.
 */
export async function startServer(
  credential: Credential,
  issuer?: TrustedIssuer,
): Promise<TokenServer> {
  const script = await bundledChild('token-server.ts');
  const child = spawn(
    process.execPath,
    [
      // `BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'` profiles the server, as elsewhere.
      ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== ''),
      script,
      String(await freePort('127.0.0.1')),
      credential,
      ...(issuer === undefined ? [] : [issuer.url, issuer.caFile]),
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return { child, info: JSON.parse(await firstLine(child)) as ServerInfo };
}

/** The first line `child` writes to stdout; rejects if it exits first. */
function firstLine(child: ChildProcessByStdio<null, Readable, null>): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: string): void => {
      out += chunk;
      const end = out.indexOf('\n');
      if (end === -1) return;
      settle();
      resolve(out.slice(0, end));
    };
    const onExit = (code: number | null, signal: string | null): void => {
      settle();
      reject(new Error(`token server exited (${code ?? signal ?? '?'}) before it listened`));
    };
    const settle = (): void => {
      child.stdout.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', onData);
    child.on('exit', onExit);
  });
}

/** Ends a server from {@link startServer} and waits until it has exited. */
export async function stopServer({ child }: TokenServer): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

/** Client assertions made ahead of time, each with its own jti, so the load generator only sends. */
export async function assertions(info: ServerInfo, count: number): Promise<string[]> {
  const key = createPrivateKey(info.privateKeyPem);
  const aud = `${info.url}/${info.tenantId}/oauth2/v2.0/token`;
  const now = Math.floor(Date.now() / 1000);
  const forms: string[] = [];
  for (let i = 0; i < count; i++) {
    const jwt = await new SignJWT({
      aud,
      iss: info.appId,
      sub: info.appId,
      jti: randomUUID(),
      nbf: now,
      exp: now + 600,
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', 'x5t#S256': info.sha256 })
      .sign(key);
    forms.push(tokenForm(info.appId, jwt));
  }
  return forms;
}

/** The token request body: the client credentials grant with `assertion` as the client's proof. */
export function tokenForm(clientId: string, assertion: string): string {
  return new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: clientId,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
    scope: 'https://management.azure.com/.default',
  }).toString();
}

/** Options of {@link load}. */
export interface LoadOptions {
  /**
   * Whether `forms` may be sent round-robin, each more than once (federated tokens have no
   * replay check). Otherwise running out of forms fails the load, as a reused assertion would.
   */
  readonly reuse?: boolean;
}

/**
 * POSTs `forms` to the token endpoint from 16 connections for `seconds` (autocannon): tokens
 * issued per second and the latency percentiles. Throws on any non-2xx answer, and when more
 * requests were sent than there are forms unless `options.reuse`.
 */
export async function load(
  info: ServerInfo,
  forms: string[],
  seconds: number,
  options: LoadOptions = {},
): Promise<Measurement> {
  let i = 0;
  const result = await autocannon({
    url: `${info.url}/${info.tenantId}/oauth2/v2.0/token`,
    connections: 16,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        setupRequest: (request) => ({ ...request, body: forms[i++ % forms.length] ?? '' }),
      },
    ],
  });
  if (result.non2xx > 0 || (options.reuse !== true && i > forms.length)) {
    throw new Error(
      `token bench: ${result.non2xx} non-2xx answers (${i} requests, ${forms.length} assertions)`,
    );
  }
  return {
    opsPerSec: result['2xx'] / seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
  };
}
