// The logger never writes a token, key or secret, wherever in a log call it hides.
import { createSign, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { createLogger, redactString, type Logger } from '../../src/config/logger.js';
import { createUpLog } from '../../src/cli/up-log.js';
import { humanLine, prettyDestination } from '../../src/config/log-pretty.js';
import { AppError } from '../../src/core/errors.js';

const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pkcs8Pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const pkcs1Pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const privateJwk = privateKey.export({ format: 'jwk' });

function signJwt(claims: Record<string, unknown>): string {
  const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid: 'test-kid' }));
  const payload = b64url(JSON.stringify(claims));
  const signer = createSign('RSA-SHA256');
  signer.update(`${header}.${payload}`);
  return `${header}.${payload}.${signer.sign(privateKey).toString('base64url')}`;
}

const jwt = signJwt({ aud: 'https://management.azure.com/', oid: randomUUID(), exp: 2e9 });
const otherJwt = signJwt({ aud: 'https://vault.azure.net', oid: randomUUID(), exp: 2e9 });
const clientSecret = `Q8w~${randomBytes(24).toString('base64url')}`;
const masterKey = randomBytes(32).toString('base64');
const dbPassword = `pw-${randomBytes(12).toString('hex')}`;
const vaultValue = `vault-${randomBytes(12).toString('hex')}`;
const bodyValue = `body-${randomBytes(12).toString('hex')}`;
const deepSecret = `deep-${randomBytes(12).toString('hex')}`;

/**
 * A base64 line from the end of a PEM private key: it encodes private CRT values. (An early line
 * may encode the public modulus, which is rightly logged as the JWK's `n`.)
 */
const pemBodyLine = (pem: string): string => {
  const lines = pem.trim().split('\n');
  return lines[lines.length - 3] ?? '';
};

/** Pieces that must never appear: each secret, and recognisable parts of each key. */
const forbidden: Record<string, string> = {
  jwt,
  jwtSignature: jwt.split('.')[2] ?? '',
  jwtPayload: jwt.split('.')[1] ?? '',
  otherJwt: otherJwt.split('.')[2] ?? '',
  pkcs8: pemBodyLine(pkcs8Pem),
  pkcs1: pemBodyLine(pkcs1Pem),
  jwkD: privateJwk.d ?? '',
  jwkP: privateJwk.p ?? '',
  clientSecret,
  masterKey,
  dbPassword,
  vaultValue,
  bodyValue,
  deepSecret,
};

function capture(): { log: Logger; text: () => string; lines: () => Record<string, unknown>[] } {
  const written: string[] = [];
  const log = createLogger({
    level: 'trace',
    name: 'tessera-test',
    destination: { write: (line: string) => void written.push(line) },
  });
  return {
    log,
    text: () => written.join(''),
    lines: () => written.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

function expectNoSecrets(text: string): void {
  for (const [name, secret] of Object.entries(forbidden)) {
    expect(secret.length, name).toBeGreaterThan(8);
    expect(text.includes(secret), `${name} leaked`).toBe(false);
  }
}

describe('createLogger', () => {
  it('writes no token, key or secret while keeping what is not secret', () => {
    const { log, text } = capture();
    const tokenRequest = {
      form: {
        client_id: 'client-id-kept',
        client_secret: clientSecret,
        grant_type: 'client_credentials',
      },
    };
    const config = {
      masterKey,
      store: {
        driver: 'postgres',
        postgres: { url: `postgres://tessera:${dbPassword}@db:5432/t` },
      },
    };

    log.info(
      { headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' } },
      'incoming request',
    );
    log.info({ call: { upstream: { request: tokenRequest } } }, 'token request');
    log.info({ config }, 'configuration loaded');
    log.info({ signingKey: { kid: 'kid-kept', privateKeyPem: pkcs8Pem } }, 'key rotated');
    log.warn(`could not parse ${pkcs1Pem} as a certificate`);
    log.debug({ note: `cached ${otherJwt} for later` }, 'cache');
    log.info('issued %s to %s', jwt, 'vm-kept');
    log.info({ jwk: privateJwk }, 'jwk');
    log.info(
      {
        bundle: {
          id: 'https://v.vault.azure.net/secrets/db/4387e9f3d6e14c459867679a90fd0f79',
          value: vaultValue,
          attributes: { enabled: true },
        },
        response: { status: 200, body: { value: bodyValue } },
        tag: { name: 'env', value: 'prod-kept' },
        list: { value: ['list-item-kept'] },
      },
      'vault',
    );
    log.info({ a: { b: { c: { d: { e: { f: { g: { h: { i: { j: deepSecret } } } } } } } } } });
    log
      .child({ tenant: 'tenant-kept', token: jwt })
      .child({ note: `grandchild holds ${otherJwt}` })
      .info({ user: 'user-kept' }, 'child line');

    const output = text();
    expectNoSecrets(output);
    for (const kept of [
      'client-id-kept',
      'client_credentials',
      'application/json',
      'postgres://tessera:[REDACTED]@db:5432/t',
      'kid-kept',
      'vm-kept',
      'prod-kept',
      'list-item-kept',
      'tenant-kept',
      'user-kept',
      'child line',
      'tessera-test',
      privateJwk.n ?? 'n',
    ]) {
      expect(output).toContain(kept);
    }
    expect(output).toContain('[REDACTED]');
    expect(output).toContain('[Truncated]');
  });

  it('scrubs error messages, stacks and causes, and keeps the error readable', () => {
    const { log, lines, text } = capture();
    const cause = new Error(`POST /token failed: client_secret=${clientSecret}&grant_type=x`);
    const appError = new AppError('InvalidClient', `rejected Bearer ${jwt}`, {
      status: 401,
      cause,
    });

    log.error(new Error(`upstream answered {"access_token":"${otherJwt}"} to ${jwt}`));
    log.error({ err: appError }, 'token request failed');
    log.error(appError, 'with a message');

    expectNoSecrets(text());
    const [alone, nested, first] = lines();
    expect(alone?.['msg']).toBe('upstream answered {"access_token":"[REDACTED]"} to [REDACTED]');
    expect(alone?.['err']).toMatchObject({ type: 'Error' });
    expect(nested?.['msg']).toBe('token request failed');
    expect(nested?.['err']).toMatchObject({
      type: 'AppError',
      code: 'InvalidClient',
      message: 'rejected Bearer [REDACTED]',
      cause: { message: 'POST /token failed: client_secret=[REDACTED]&grant_type=x' },
    });
    expect(String((nested?.['err'] as { stack?: unknown }).stack)).toContain('logger.test.ts');
    expect(first?.['msg']).toBe('with a message');
  });

  it("logs a request without its headers and never changes the caller's objects", () => {
    const { log, lines, text } = capture();
    const req = {
      method: 'POST',
      url: `/oauth2/token?client_secret=${clientSecret}&tenant=kept`,
      headers: { authorization: `Basic ${b64url(`id:${clientSecret}`)}` },
      socket: { remoteAddress: '10.0.0.4', remotePort: 51234 },
    };
    const original = structuredClone(req);
    const loop: Record<string, unknown> = { name: 'loop-kept', secret: clientSecret };
    loop['self'] = loop;

    log.info({ req, res: { statusCode: 401 } }, 'request completed');
    log.info({ loop }, 'circular');

    expectNoSecrets(text());
    expect(text()).not.toContain('Basic ');
    expect(req).toEqual(original);
    expect(loop['secret']).toBe(clientSecret);
    const [completed, circular] = lines();
    expect(completed?.['req']).toEqual({
      method: 'POST',
      url: '/oauth2/token?client_secret=[REDACTED]&tenant=kept',
      remoteAddress: '10.0.0.4',
      remotePort: 51234,
    });
    expect(completed?.['res']).toEqual({ statusCode: 401 });
    expect(circular?.['loop']).toEqual({
      name: 'loop-kept',
      secret: '[REDACTED]',
      self: '[Circular]',
    });
  });

  it('writes nothing at level silent', () => {
    const written: string[] = [];
    const log = createLogger({
      level: 'silent',
      destination: { write: (line: string) => void written.push(line) },
    });
    log.fatal({ password: 'x' }, 'never written');
    expect(written).toEqual([]);
  });
});

/** Logs, at `warn` and `info`, a line carrying every secret in {@link forbidden}, and a request. */
function logEverySecret(log: Logger): void {
  const secrets = {
    headers: { authorization: `Bearer ${jwt}` },
    form: { client_secret: clientSecret, client_id: 'client-id-kept' },
    config: { masterKey, url: `postgres://tessera:${dbPassword}@db/t` },
    key: { privateKeyPem: pkcs8Pem, jwk: privateJwk },
    bundle: { id: 'https://v.vault.azure.net/secrets/s/1', value: vaultValue, attributes: {} },
    response: { body: { value: bodyValue } },
    a: { b: { c: { d: { e: { f: { g: { h: { i: { j: deepSecret } } } } } } } } },
  };
  log.warn(secrets, `could not parse ${pkcs1Pem.trim()} after ${otherJwt}`);
  log.info(secrets, 'the same at info');
  log.info(
    {
      reqId: 'req-7',
      req: { method: 'GET', url: `/x?client_secret=${clientSecret}`, headers: {} },
    },
    'incoming request',
  );
}

describe('every destination', () => {
  it('gets the same scrubbed lines, each at its own level, JSON or for a person', () => {
    const json: string[] = [];
    const human: string[] = [];
    const log = createLogger({
      level: 'debug',
      destinations: [
        { level: 'debug', stream: { write: (line: string) => void json.push(line) } },
        {
          level: 'warn',
          stream: prettyDestination({ write: (t: string) => human.push(t) }, false),
        },
      ],
    });
    logEverySecret(log);
    log.debug('a debug line');

    expectNoSecrets(json.join(''));
    expectNoSecrets(human.join(''));
    expect(json).toHaveLength(4);
    expect(human).toHaveLength(1);
    expect(human[0]).toMatch(
      /^\[\d\d:\d\d:\d\d\] WARN: could not parse \[REDACTED\] after \[REDACTED\] \{.*"client_id":"client-id-kept"/,
    );
    expect(human[0]?.split('\n').filter((l) => l !== '')).toHaveLength(1);
  });

  it('lays a request out for a person as method, URL and id', () => {
    expect(
      humanLine(
        { msg: 'incoming request', reqId: 'req-1', req: { method: 'GET', url: '/x?a=1' } },
        'msg',
      ),
    ).toBe('incoming request: GET /x?a=1 (req-1)');
    expect(
      humanLine(
        { msg: 'request completed', reqId: 'req-1', res: { statusCode: 404 }, responseTime: 2.6 },
        'msg',
      ),
    ).toBe('request completed: 404 in 3 ms (req-1)');
    expect(humanLine({ msg: 'VM sync connected' }, 'msg')).toBe('VM sync connected');
  });

  it.each([true, false])(
    'under tessera up, the log file and the terminal (TTY: %s) are scrubbed alike',
    async (isTTY) => {
      const dataDir = await mkdtemp(join(tmpdir(), 'tessera-up-log-'));
      try {
        const file = join(dataDir, 'tessera.log');
        await writeFile(file, '{"msg":"an earlier run"}\n', { mode: 0o644 });
        const terminal: string[] = [];
        const upLog = createUpLog({
          dataDir,
          fileLevel: 'info',
          terminalLevel: undefined,
          terminal: { stream: { write: (t: string) => terminal.push(t) }, isTTY, colors: false },
        });
        logEverySecret(upLog.logger);
        upLog.close();
        // Work still unwinding after close may log once more: dropped from the file, not thrown.
        expect(() => {
          upLog.logger.info('after close');
        }).not.toThrow();
        upLog.close();

        const written = await readFile(file, 'utf8');
        expectNoSecrets(written);
        expectNoSecrets(terminal.join(''));
        expect((await stat(file)).mode & 0o777).toBe(0o600);
        // Appended, as JSON: the earlier run's line, then all three; the terminal only the warning.
        const lines = written
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { msg: string });
        expect(lines.map((l) => l.msg)).toEqual([
          'an earlier run',
          expect.stringMatching(/^could not parse/) as unknown,
          'the same at info',
          'incoming request',
        ]);
        expect(terminal).toHaveLength(1);
        expect(terminal[0]?.startsWith('{')).toBe(!isTTY);
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  );
});

describe('redactString', () => {
  it('removes JWTs, PEM private keys and credentials', () => {
    expect(redactString(`token ${jwt} end`)).toBe('token [REDACTED] end');
    expect(redactString(`a\n${pkcs8Pem}b`)).toBe('a\n[REDACTED]\nb');
    expect(redactString(`truncated ${pkcs1Pem.slice(0, 200)}`)).toBe('truncated [REDACTED]');
    expect(redactString('Authorization: Bearer abc.def-ghi')).toBe(
      'Authorization: Bearer [REDACTED]',
    );
    expect(redactString('Basic dXNlcjpwYXNz')).toBe('Basic [REDACTED]');
    expect(redactString('postgresql://u:p%40ss@h/db')).toBe('postgresql://u:[REDACTED]@h/db');
    expect(redactString('{"password": "p\\"w", "user": "kept"}')).toBe(
      '{"password":"[REDACTED]", "user": "kept"}',
    );
  });

  it('keeps challenges, public keys and ordinary text', () => {
    const challenge =
      'Bearer authorization="https://login.windows.net/t", resource="https://vault.azure.net"';
    expect(redactString(challenge)).toBe(challenge);
    const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(redactString(publicPem)).toBe(publicPem);
    expect(redactString('Identity not found')).toBe('Identity not found');
    expect(redactString('https://management.azure.com/subscriptions')).toBe(
      'https://management.azure.com/subscriptions',
    );
  });
});
