// Issue 18.3: unauthenticated token requests cannot grow the database without limit; refusals are counted, mints are not.
//
// Each request carries 60 KB the caller chose: half as the `resource` (as in the issue), half as
// an invented client id with a resource of the longest length the token endpoint takes, so the
// flood reaches the audit log even where the endpoint refuses long resources before it.
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken, postTokenForm, type TokenAnswer } from './server-process.js';
import { closeStarted, startTesseraServer, type TesseraServer } from '../compat/processes.js';

const REQUESTS = 10_000;
const CONCURRENT = 64;
const MINTS = 20;
const HUGE_RESOURCE = `https://${'r'.repeat(60_000)}.example`;
const LONGEST_RESOURCE = `https://${'r'.repeat(2048 - 'https://.example'.length)}.example`;
const MAX_GROWTH_BYTES = 2 * 1024 * 1024;
const AUDIT_EVENTS = '/providers/Tessera.Audit/events?api-version=2026-11-01';

/** The SQLite database's size: the main file and its write-ahead log. */
async function databaseBytes(dataDir: string): Promise<number> {
  const size = (file: string) =>
    stat(join(dataDir, file)).then(
      (s) => s.size,
      () => 0,
    );
  return (await size('tessera.db')) + (await size('tessera.db-wal'));
}

interface ListedEvent {
  readonly outcome: string;
  readonly resource: string | null;
  readonly reason: string | null;
  readonly tokenId: string | null;
}

async function auditEvents(server: TesseraServer, token: string, query: string) {
  const items: ListedEvent[] = [];
  let next: string | undefined = `${server.url}${AUDIT_EVENTS}&$top=1000${query}`;
  while (next !== undefined) {
    const response = await fetch(next, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    const page = (await response.json()) as { value: ListedEvent[]; nextLink?: string };
    items.push(...page.value);
    next = page.nextLink;
  }
  return items;
}

describe('a flood of refused token requests with 60 KB resources', () => {
  let server: TesseraServer;
  let token: string;
  beforeAll(async () => {
    server = await startTesseraServer({ settings: ['log.level=warn'] });
    token = await adminToken(server);
  });
  afterAll(async () => {
    await closeStarted();
  });

  it('grows the database by under 2 MB, counts every refusal, and still audits every mint', async () => {
    const adminOid = String(decodeJwt(token).oid);
    const issuedBefore = await auditEvents(
      server,
      token,
      `&outcome=issued&principalId=${adminOid}`,
    );
    const before = await databaseBytes(server.dataDir);
    const started = Date.now();
    const answers: TokenAnswer[] = [];
    let minted = 0;
    for (let batch = 0; batch * CONCURRENT < REQUESTS; batch++) {
      const sent = batch * CONCURRENT;
      // Tokens minted meanwhile, among the refusals: each must still be a row of its own.
      const mint = batch % 7 === 0 && minted < MINTS ? adminToken(server) : undefined;
      if (mint !== undefined) minted += 1;
      const requests = Array.from({ length: Math.min(CONCURRENT, REQUESTS - sent) }, (_, i) => {
        const n = sent + i;
        const inventedId = n % 4 < 2 ? randomUUID() : `${randomUUID()}${'c'.repeat(60_000)}`;
        const resource = n % 4 < 2 ? HUGE_RESOURCE : LONGEST_RESOURCE;
        const form = { grant_type: 'client_credentials', client_id: inventedId };
        return n % 2 === 0
          ? postTokenForm(server, 'v1', { ...form, client_secret: 'guess', resource })
          : postTokenForm(server, 'v2', {
              ...form,
              client_secret: 'guess',
              scope: `${resource}/.default`,
            });
      });
      answers.push(...(await Promise.all(requests)));
      await mint;
    }
    expect(minted).toBe(MINTS);
    const floodMs = Date.now() - started;
    const after = await databaseBytes(server.dataDir);

    expect(answers).toHaveLength(REQUESTS);
    const outcomes = answers.map((a) => `${a.status} ${String(a.body.error)}`);
    // Unknown client (AADSTS700016), or a resource too long for the endpoint (AADSTS90100).
    const allowed = ['400 unauthorized_client', '400 invalid_request'];
    expect([...new Set(outcomes)].filter((o) => !allowed.includes(o))).toEqual([]);
    const audited = outcomes.filter((o) => o === '400 unauthorized_client').length;
    expect(audited).toBeGreaterThanOrEqual(REQUESTS / 2);
    const growth = after - before;
    console.log(
      `audit flood: ${REQUESTS} refusals (${audited} reached the issuer) in ${floodMs} ms; database ${before} -> ${after} bytes (+${growth})`,
    );
    expect(growth).toBeLessThan(MAX_GROWTH_BYTES);

    // The audit API shows the refusals as a handful of rows with their strings bounded.
    const refused = await auditEvents(server, token, '&outcome=refused');
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeLessThanOrEqual(4);
    for (const event of refused) {
      expect(event.resource?.length).toBeLessThan(2100);
      // The reason quotes the invented client id: cut, and marked as cut.
      expect(event.reason?.length).toBeLessThan(1100);
      expect(event.reason).toMatch(/…\[truncated \d+ chars\]$/);
    }
    const issued = await auditEvents(server, token, `&outcome=issued&principalId=${adminOid}`);
    expect(issued.length - issuedBefore.length).toBe(MINTS);
    expect(new Set(issued.map((e) => e.tokenId)).size).toBe(issued.length);

    // Stopping writes the counts still in memory; together they are every refusal.
    await server.stop();
    const db = new Database(join(server.dataDir, 'tessera.db'), { readonly: true });
    try {
      const rows = db
        .prepare<[], { details: string }>(
          "select details from audit_events where outcome = 'refused'",
        )
        .all();
      const details = rows.map((r) => JSON.parse(r.details) as Record<string, unknown>);
      console.log(
        `audit flood: ${rows.length} refused rows, counts ${details.map((d) => String(d.count)).join(' + ')}`,
      );
      expect(details.reduce((sum, d) => sum + Number(d.count), 0)).toBe(audited);
      for (const d of details) {
        expect(d.peer).toBe('127.0.0.1');
        expect(String(d.clientId).length).toBeLessThan(600);
      }
    } finally {
      db.close();
    }
  }, 120_000);
});
