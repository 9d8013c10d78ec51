// Unit tests of the installation check: what differs, the one line that says so, and what SQLite lets follow.
import { describe, expect, it } from 'vitest';
import { isAppError } from './errors.js';
import {
  agreeOnInstallation,
  type InstallationRecord,
  type InstallationSettings,
  type InstallationStore,
  installationDisagreements,
  installationMismatchMessage,
  masterKeyCheckOf,
} from './installation.js';

const KEY = Buffer.alloc(32, 1);
const OTHER_KEY = Buffer.alloc(32, 2);
const RECORDED_AT = Date.UTC(2026, 11, 7, 9, 30);

const stored: InstallationRecord = {
  publicUrl: 'https://lb.example',
  issuer: null,
  masterKeyCheck: masterKeyCheckOf(KEY),
  recordedAt: RECORDED_AT,
};
const agreeing: InstallationSettings = {
  publicUrl: 'https://lb.example',
  publicUrlConfigured: true,
  issuer: null,
  masterKeyCheck: masterKeyCheckOf(KEY),
};

/** The store port over one variable, as the SQL repository behaves. */
function memoryInstallation(key: Buffer, initial?: InstallationRecord) {
  let row = initial;
  const store: InstallationStore = {
    masterKeyCheck: masterKeyCheckOf(key),
    get: () => Promise.resolve(row),
    claim: (record) => Promise.resolve((row ??= record)),
    update: (values, at) =>
      Promise.resolve(
        row === undefined ? undefined : (row = { ...row, ...values, recordedAt: at }),
      ),
  };
  return { store, row: () => row };
}

const refusal = async (promise: Promise<unknown>): Promise<string> => {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isAppError(error) || error.code !== 'ConfigInvalid') throw new Error('not refused');
  return error.message;
};

describe('masterKeyCheckOf', () => {
  it('is a fixed-length HMAC that tells keys apart and does not contain the key', () => {
    expect(masterKeyCheckOf(KEY)).toMatch(/^[0-9a-f]{64}$/);
    expect(masterKeyCheckOf(KEY)).toBe(masterKeyCheckOf(Buffer.from(KEY)));
    expect(masterKeyCheckOf(KEY)).not.toBe(masterKeyCheckOf(OTHER_KEY));
    expect(masterKeyCheckOf(KEY)).not.toContain(KEY.toString('hex'));
  });
});

describe('installationDisagreements', () => {
  it('finds none when the settings are the record', () => {
    expect(installationDisagreements(agreeing, stored)).toEqual([]);
  });

  it('names each setting that differs, with both values, the master key first and valueless', () => {
    const settings: InstallationSettings = {
      publicUrl: 'https://b:8444',
      publicUrlConfigured: true,
      issuer: 'https://sts.windows.net/{tenantId}/',
      masterKeyCheck: masterKeyCheckOf(OTHER_KEY),
    };
    expect(installationDisagreements(settings, stored)).toEqual([
      { setting: 'masterKey' },
      { setting: 'publicUrl', configured: 'https://b:8444', recorded: 'https://lb.example' },
      {
        setting: 'server.tokens.issuer',
        configured: 'https://sts.windows.net/{tenantId}/',
        recorded: null,
      },
    ]);
  });
});

describe('installationMismatchMessage', () => {
  it('is one line naming the setting, both values, the date, and the fix', () => {
    const settings = { ...agreeing, publicUrl: 'https://b:8444' };
    const message = installationMismatchMessage(
      installationDisagreements(settings, stored),
      settings,
      stored,
    );
    expect(message).toBe(
      "invalid configuration: publicUrl is https://b:8444 but this installation's is https://lb.example (recorded in the database on 2026-12-07); set publicUrl=https://lb.example on every replica, or change it for every replica with `tessera installation update`",
    );
  });

  it("says when the URL is the listener's, and never shows the key or its check value", () => {
    const settings: InstallationSettings = {
      ...agreeing,
      publicUrl: 'http://10.0.0.2:8443',
      publicUrlConfigured: false,
      masterKeyCheck: masterKeyCheckOf(OTHER_KEY),
    };
    const message = installationMismatchMessage(
      installationDisagreements(settings, stored),
      settings,
      stored,
    );
    expect(message.split('\n')).toHaveLength(1);
    expect(message).toMatch(/^invalid configuration: masterKey is not the key this installation/);
    expect(message).toContain(
      "; also publicUrl is not set (so this server's URL is its listener's, http://10.0.0.2:8443) but this installation's is https://lb.example",
    );
    for (const secret of [
      KEY.toString('base64'),
      OTHER_KEY.toString('base64'),
      stored.masterKeyCheck,
      settings.masterKeyCheck,
    ]) {
      expect(message).not.toContain(secret);
    }
  });
});

describe('agreeOnInstallation', () => {
  const configured = { publicUrl: 'https://lb.example', publicUrlConfigured: true, issuer: null };

  it('records the first start, then lets an agreeing start through', async () => {
    const memory = memoryInstallation(KEY);
    const now = RECORDED_AT;
    const first = await agreeOnInstallation(memory.store, configured, { followUrls: false, now });
    expect(first).toEqual(stored);
    await expect(
      agreeOnInstallation(memory.store, configured, { followUrls: false, now: now + 1 }),
    ).resolves.toEqual(stored);
  });

  it('refuses a different URL or issuer where replicas share the store, changing nothing', async () => {
    const memory = memoryInstallation(KEY, stored);
    for (const other of [
      { ...configured, publicUrl: 'https://b:8444' },
      { ...configured, issuer: 'https://sts.windows.net/{tenantId}/' },
    ]) {
      const message = await refusal(
        agreeOnInstallation(memory.store, other, { followUrls: false, now: RECORDED_AT + 1 }),
      );
      expect(message).toContain("but this installation's is");
      expect(memory.row()).toEqual(stored);
    }
  });

  it('lets the URL and issuer follow the configuration on a one-server store', async () => {
    const memory = memoryInstallation(KEY, stored);
    const moved = {
      ...configured,
      publicUrl: 'http://127.0.0.1:40123',
      publicUrlConfigured: false,
    };
    const now = RECORDED_AT + 60_000;
    const record = await agreeOnInstallation(memory.store, moved, { followUrls: true, now });
    expect(record).toEqual({ ...stored, publicUrl: 'http://127.0.0.1:40123', recordedAt: now });
    expect(memory.row()).toEqual(record);
  });

  it('refuses another master key even on a one-server store', async () => {
    const memory = memoryInstallation(OTHER_KEY, stored);
    const message = await refusal(
      agreeOnInstallation(memory.store, configured, { followUrls: true, now: RECORDED_AT + 1 }),
    );
    expect(message).toMatch(/^invalid configuration: masterKey is not the key/);
    expect(memory.row()).toEqual(stored);
  });
});
