// The Key Vault data plane end to end over HTTP: challenge, secrets lifecycle, paging, RBAC data actions.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KV_V, type KvHarness, startKeyVault } from './keyvault-harness.js';

describe('Key Vault data plane', () => {
  let h: KvHarness;
  let officer: string;
  beforeAll(async () => {
    h = await startKeyVault();
    officer = h.officer.token;
  });
  afterAll(async () => {
    await h.close();
  });
  /** The port of the server's (HTTP) listener, which the harness names in every Host. */
  const port = (): string => new URL(h.server.url).port;

  it('challenges a request without a token, as the SDK expects, whatever its body', async () => {
    const answer = await h.kv('PUT', `/secrets/first?api%2Dversion=2025-07-01`, {
      headers: { 'content-length': '0' },
    });
    expect(answer.status).toBe(401);
    // The listener is not on 443: the resource names its port, as Python's SDK checks it.
    expect(answer.headers['www-authenticate']).toBe(
      `Bearer authorization="${h.server.url}/${h.server.tenant.id}", resource="https://vault.localhost:${port()}"`,
    );
    expect(answer.body).toEqual({
      error: {
        code: 'Unauthorized',
        message: 'AKV10000: Request is missing a Bearer or PoP token.',
      },
    });
  });

  it("names the port of the request's Host in the challenge, none on the scheme's default port, never the Host's text", async () => {
    const resourceFor = async (host: string): Promise<string | undefined> => {
      const answer = await h.kv('GET', `/secrets?${KV_V}`, { headers: { host } });
      expect(answer.status).toBe(401);
      const header = String(answer.headers['www-authenticate']);
      return /, resource="([^"]*)"$/.exec(header)?.[1];
    };
    const seen = {
      upperCase: await resourceFor(`VAULT-ONE.vault.localhost:${port()}`),
      // A front (a TLS proxy, a port mapping) the client reached on another port.
      front: await resourceFor('vault-one.vault.localhost:9443'),
      none: await resourceFor('vault-one.vault.localhost'),
      httpDefault: await resourceFor('vault-one.vault.localhost:80'),
      notAPort: await resourceFor('vault-one.vault.localhost:99999'),
      zero: await resourceFor('vault-one.vault.localhost:0'),
    };
    expect(seen).toEqual({
      upperCase: `https://vault.localhost:${port()}`,
      front: 'https://vault.localhost:9443',
      none: 'https://vault.localhost',
      httpDefault: 'https://vault.localhost',
      notAPort: 'https://vault.localhost',
      zero: 'https://vault.localhost',
    });
  });

  it('accepts a token for the resource with the listener port, with or without a trailing slash, and the plain one', async () => {
    const set = await h.kv('PUT', `/secrets/port-audience?${KV_V}`, {
      token: officer,
      body: { value: 'by-port' },
    });
    expect(set.status).toBe(200);
    // The officer's harness token is for the plain resource.
    expect(decodeJwt(officer).aud).toBe('https://vault.localhost');
    const { appId, secret } = h.officer;
    for (const aud of [`https://vault.localhost:${port()}`, `https://vault.localhost:${port()}/`]) {
      const token = await h.token(appId, secret, `${aud}/.default`);
      expect(decodeJwt(token).aud).toBe(aud);
      const read = await h.kv('GET', `/secrets/port-audience?${KV_V}`, { token });
      expect([aud, read.status, read.body?.value]).toEqual([aud, 200, 'by-port']);
    }
    const plain = await h.kv('GET', `/secrets/port-audience?${KV_V}`, { token: officer });
    expect([plain.status, plain.body?.value]).toEqual([200, 'by-port']);
  });

  it("refuses a token for the resource with a port the server does not listen on, with Key Vault's 401 and the challenge", async () => {
    const other = Number(port()) === 65_535 ? 65_534 : Number(port()) + 1;
    const aud = `https://vault.localhost:${String(other)}`;
    const token = await h.token(h.officer.appId, h.officer.secret, `${aud}/.default`);
    expect(decodeJwt(token).aud).toBe(aud);
    const answer = await h.kv('GET', `/secrets?${KV_V}`, { token });
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({
      error: {
        code: 'Unauthorized',
        message: `AKV10022: Invalid audience. Expected https://vault.localhost:${port()}, found: ${aud}.`,
      },
    });
    expect(answer.headers['x-ms-error-code']).toBe('Unauthorized');
    expect(answer.headers['www-authenticate']).toBe(
      `Bearer authorization="${h.server.url}/${h.server.tenant.id}", resource="https://vault.localhost:${port()}"`,
    );
  });

  it('sets, gets (latest and by version, trailing slash), updates and lists a secret', async () => {
    const set = await h.kv('PUT', `/secrets/db-password?${KV_V}`, {
      token: officer,
      body: { value: 's3cret', contentType: 'text/plain', tags: { env: 'dev' }, attributes: {} },
    });
    expect(set.status).toBe(200);
    const id = String(set.body?.id);
    expect(id).toMatch(
      /^http:\/\/vault-one\.vault\.localhost:\d+\/secrets\/db-password\/[0-9a-f]{32}$/,
    );
    expect(set.body).toMatchObject({
      value: 's3cret',
      contentType: 'text/plain',
      tags: { env: 'dev' },
      attributes: { enabled: true, recoveryLevel: 'Recoverable+Purgeable', recoverableDays: 90 },
    });
    const version = id.split('/').at(-1) ?? '';

    const latest = await h.kv('GET', `/secrets/db-password/?api%2Dversion=7.5`, { token: officer });
    expect([latest.status, latest.body?.value, latest.body?.id]).toEqual([200, 's3cret', id]);
    const second = await h.kv('PUT', `/secrets/db-password?${KV_V}`, {
      token: officer,
      body: { value: 'rotated' },
    });
    expect(second.body?.value).toBe('rotated');
    const old = await h.kv('GET', `/secrets/db-password/${version}?${KV_V}`, { token: officer });
    expect(old.body?.value).toBe('s3cret');

    const updated = await h.kv('PATCH', `/secrets/db-password/${version}?${KV_V}`, {
      token: officer,
      body: { attributes: { enabled: false, exp: 4_102_444_800 }, tags: { env: 'old' } },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).not.toHaveProperty('value');
    expect(updated.body).toMatchObject({
      tags: { env: 'old' },
      attributes: { enabled: false, exp: 4_102_444_800 },
    });
    const disabled = await h.kv('GET', `/secrets/db-password/${version}?${KV_V}`, {
      token: officer,
    });
    expect([disabled.status, disabled.body]).toEqual([
      403,
      {
        error: {
          code: 'Forbidden',
          message: 'Operation get is not allowed on a disabled secret.',
          innererror: { code: 'SecretDisabled' },
        },
      },
    ]);

    const versions = await h.kv('GET', `/secrets/db-password/versions?${KV_V}`, { token: officer });
    expect((versions.body?.value as { id: string }[]).map((v) => v.id.split('/').at(-1))).toEqual([
      version,
      String(second.body?.id).split('/').at(-1),
    ]);
    const listed = await h.kv('GET', `/secrets?${KV_V}`, { token: officer });
    expect(listed.body?.nextLink).toBeNull();
    const items = listed.body?.value as Record<string, unknown>[];
    expect(items.map((i) => i.id)).toContain(id.replace(`/${version}`, ''));
    expect(JSON.stringify(listed.body)).not.toContain('rotated');
  });

  it('pages with maxresults and a nextLink the client follows as given', async () => {
    for (const name of ['page-a', 'page-b', 'page-c']) {
      await h.kv('PUT', `/secrets/${name}?${KV_V}`, { token: officer, body: { value: name } });
    }
    const names: string[] = [];
    let link: string | null = `/secrets?${KV_V}&maxresults=2`;
    let pages = 0;
    while (link !== null) {
      const path: string = link.startsWith('http') ? link.replace(/^https?:\/\/[^/]+/, '') : link;
      const page = await h.kv('GET', path, { token: officer });
      expect(page.status).toBe(200);
      names.push(
        ...(page.body?.value as { id: string }[]).map((i) => i.id.split('/').at(-1) ?? ''),
      );
      link = page.body?.nextLink as string | null;
      pages += 1;
    }
    expect(pages).toBeGreaterThan(1);
    expect(names).toEqual(expect.arrayContaining(['page-a', 'page-b', 'page-c']));
    expect(new Set(names).size).toBe(names.length);
  });

  it('soft-deletes, lists deleted, refuses the name, recovers, deletes again and purges', async () => {
    await h.kv('PUT', `/secrets/temp?${KV_V}`, { token: officer, body: { value: 'tmp' } });
    const deleted = await h.kv('DELETE', `/secrets/temp?${KV_V}`, { token: officer });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({
      recoveryId: expect.stringMatching(/\/deletedsecrets\/temp$/) as unknown,
      deletedDate: expect.any(Number) as unknown,
      scheduledPurgeDate: expect.any(Number) as unknown,
    });
    expect(deleted.body).not.toHaveProperty('value');
    const gone = await h.kv('GET', `/secrets/temp?${KV_V}`, { token: officer });
    expect(gone.status).toBe(404);
    expect((gone.body?.error as { code: string }).code).toBe('SecretNotFound');
    const reused = await h.kv('PUT', `/secrets/temp?${KV_V}`, {
      token: officer,
      body: { value: 'x' },
    });
    expect([reused.status, reused.body?.error]).toEqual([
      409,
      {
        code: 'Conflict',
        message:
          'Secret temp is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.',
        innererror: { code: 'ObjectIsDeletedButRecoverable' },
      },
    ]);
    const listedDeleted = await h.kv('GET', `/deletedsecrets?${KV_V}`, { token: officer });
    expect(
      (listedDeleted.body?.value as { recoveryId: string }[]).map((d) => d.recoveryId),
    ).toEqual([deleted.body?.recoveryId]);
    const recovered = await h.kv('POST', `/deletedsecrets/temp/recover?${KV_V}`, {
      token: officer,
    });
    expect(recovered.status).toBe(200);
    expect((await h.kv('GET', `/secrets/temp?${KV_V}`, { token: officer })).body?.value).toBe(
      'tmp',
    );

    await h.kv('DELETE', `/secrets/temp?${KV_V}`, { token: officer });
    const purged = await h.kv('DELETE', `/deletedsecrets/temp?${KV_V}`, { token: officer });
    expect([purged.status, purged.text]).toEqual([204, '']);
    const notDeleted = await h.kv('GET', `/deletedsecrets/temp?${KV_V}`, { token: officer });
    expect([notDeleted.status, notDeleted.body?.error]).toEqual([
      404,
      { code: 'SecretNotFound', message: 'Deleted Secret not found: temp' },
    ]);
    const again = await h.kv('PUT', `/secrets/temp?${KV_V}`, {
      token: officer,
      body: { value: 'new' },
    });
    expect(again.status).toBe(200);
  });
});
