// agent.serverUrl: one URL (a load balancer's) or the server's replicas, from every source.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../core/errors.js';
import { loadConfig, type LoadConfigOptions } from './load.js';
import { configLeaves } from './schema.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-config-urls-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const serverUrls = (options: LoadConfigOptions): readonly string[] | undefined =>
  loadConfig({ env: {}, cwd: dir, ...options }).agent.serverUrl;

function failure(options: LoadConfigOptions): string {
  try {
    serverUrls(options);
  } catch (error) {
    if (isAppError(error) && error.code === 'ConfigInvalid') return error.message;
    throw error;
  }
  throw new Error('expected the configuration to be rejected');
}

const EXPECTED = 'expected an http:// or https:// URL, or up to 16 separated by commas';

describe('agent.serverUrl', () => {
  it('is unset by default and takes one URL as before', () => {
    expect(serverUrls({})).toBeUndefined();
    const env = { TESSERA_AGENT_SERVER_URL: 'https://lb.example:8443' };
    expect(serverUrls({ env })).toEqual(['https://lb.example:8443']);
  });

  it('takes several, comma-separated, from the environment and from --set', () => {
    const env = { TESSERA_AGENT_SERVER_URL: 'https://a:8444, https://b:8444,' };
    expect(serverUrls({ env })).toEqual(['https://a:8444', 'https://b:8444']);
    const flags = { 'agent.serverUrl': 'http://a:1,http://b:2' };
    expect(serverUrls({ env, flags })).toEqual(['http://a:1', 'http://b:2']);
  });

  it('takes a list (or one string) in a config file', async () => {
    const yaml = join(dir, 'list.yaml');
    await writeFile(yaml, 'agent:\n  serverUrl:\n    - https://a:8444\n    - https://b:8444\n');
    expect(serverUrls({ configFile: yaml })).toEqual(['https://a:8444', 'https://b:8444']);
    const json = join(dir, 'one.json');
    await writeFile(json, JSON.stringify({ agent: { serverUrl: 'https://a:8444' } }));
    expect(serverUrls({ configFile: json })).toEqual(['https://a:8444']);
  });

  it('names the bad entry, where it came from and what was expected', async () => {
    const env = { TESSERA_AGENT_SERVER_URL: 'https://a:8444,ftp://b' };
    expect(failure({ env })).toBe(
      `invalid configuration: agent.serverUrl (from TESSERA_AGENT_SERVER_URL): ${EXPECTED}, got "ftp://b"`,
    );
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'agent:\n  serverUrl: [https://a:8444, 7]\n');
    expect(failure({ configFile: file })).toBe(
      `invalid configuration: agent.serverUrl (from ${file}): ${EXPECTED}, got 7`,
    );
    expect(failure({ flags: { 'agent.serverUrl': [] } })).toBe(
      `invalid configuration: agent.serverUrl (from flags): ${EXPECTED}, got an empty list`,
    );
    expect(failure({ env: { TESSERA_AGENT_SERVER_URL: ' , ' } })).toContain(EXPECTED);
    const many = Array.from({ length: 17 }, (_, i) => `http://r${i}:1`).join(',');
    expect(failure({ env: { TESSERA_AGENT_SERVER_URL: many } })).toContain(EXPECTED);
  });

  it('keeps refusing unknown keys beside it', () => {
    expect(failure({ flags: { 'agent.serverUrls': 'http://a:1' } })).toBe(
      'invalid configuration: unknown key "agent.serverUrls" (from flags)',
    );
  });

  it('is one settable key, a list, with its environment variable', () => {
    expect(configLeaves.find((leaf) => leaf.path === 'agent.serverUrl')).toMatchObject({
      env: 'TESSERA_AGENT_SERVER_URL',
      kind: 'list',
      secret: false,
    });
  });
});
