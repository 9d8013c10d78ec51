// `tessera host create|list|show|delete`, `vm create --host` and the operator commands' output, as an operator runs them against one real `tessera server`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  json,
  oneLine,
  type Result,
  run,
  type ServerUnderTest,
  startServer,
  stop,
} from './cli-harness.js';

const GROUP = 'hosts-cli';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let dir: string;
let server: ServerUnderTest;

/** Runs `tessera ...args` against the server (HTTP, `--server`) as its administrator. */
const tessera = (...args: string[]): Promise<Result> => run([...args, ...server.flags]);
/** Runs `tessera ...args` on the server's store (no `--server`, no login): the operator's way. */
const onStore = (...args: string[]): Promise<Result> =>
  run([...args, '--data-dir', server.dataDir]);

/** Creates host `name` over HTTP and returns its id. */
async function createHost(name: string): Promise<string> {
  const created = await tessera('host', 'create', '-n', name, '--query', 'id', '-o', 'tsv');
  expect(created.code).toBe(0);
  return created.stdout.trim();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-cli-hosts-'));
  server = await startServer(join(dir, 'server'));
  const group = await tessera('group', 'create', '-n', GROUP, '-l', 'westeurope', '-o', 'none');
  expect([group.code, group.stderr]).toEqual([0, '']);
}, 120_000);

afterAll(async () => {
  await stop(server.child);
  await rm(dir, { recursive: true, force: true });
});

describe('tessera host', { timeout: 300_000 }, () => {
  it('creates a host with --query and --output, over HTTP and on the store', async () => {
    const [token, table, stored] = await Promise.all([
      tessera('host', 'create', '-n', 'rack-q', '--query', 'joinToken', '-o', 'tsv'),
      tessera('host', 'create', '-n', 'rack-t', '-o', 'table'),
      onStore('host', 'create', '-n', 'rack-s', '--query', '{name:name, id:id}'),
    ]);
    expect(token.code).toBe(0);
    // The token alone, ready for JOIN_TOKEN=$(...): the host's id, a dot, the secret.
    expect(token.stdout).toMatch(/^[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}\n$/);
    expect(token.stderr).toBe(
      "created host 'rack-q': the join token is shown only now and works once\n",
    );
    expect(table.code).toBe(0);
    const [header, rule, row, ...rest] = table.stdout.split('\n');
    expect(header).toMatch(/^JoinToken +Name$/);
    expect(rule).toMatch(/^-+ {2}-+$/);
    expect(row).toMatch(/^[0-9a-f-]{36}\.\S+ {2}rack-t$/);
    expect(rest).toEqual(['']);
    expect(stored.code).toBe(0);
    expect(JSON.parse(stored.stdout)).toEqual({
      name: 'rack-s',
      id: expect.stringMatching(GUID) as unknown,
    });
  });

  it('lists and shows hosts, by name or id, as json, table, tsv and with --query', async () => {
    const id = await createHost('rack-show');
    const [list, table, tsv, names, byName, byId, stored] = await Promise.all([
      tessera('host', 'list'),
      tessera('host', 'list', '-o', 'table'),
      tessera('host', 'show', '-n', 'rack-show', '-o', 'tsv'),
      tessera('host', 'list', '--query', '[].name', '-o', 'tsv'),
      tessera('host', 'show', '-n', 'rack-show'),
      tessera('host', 'show', '-n', id, '--query', 'name', '-o', 'tsv'),
      onStore('host', 'show', '-n', 'rack-show', '--query', 'id', '-o', 'tsv'),
    ]);
    const hosts = json(list) as unknown as { name: string }[];
    expect(hosts.map((host) => host.name)).toContain('rack-show');
    expect(json(byName)).toEqual({
      certificateNotAfter: null,
      createdAt: expect.stringMatching(ISO) as unknown,
      id,
      lastSeenAt: null,
      name: 'rack-show',
      registeredAt: null,
      vmCount: 0,
    });
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Name +VmCount +RegisteredAt +LastSeenAt$/);
    expect(lines).toContainEqual(expect.stringMatching(/^rack-show +0 +not yet +never$/));
    // tsv: the values sorted by key; null is `None`.
    expect(tsv.stdout).toMatch(
      new RegExp(`^None\\t\\S+\\t${id}\\tNone\\track-show\\tNone\\t0\\n$`),
    );
    expect(names.stdout.trimEnd().split('\n')).toEqual(
      hosts.map((host) => host.name), // sorted by name, as the server lists them
    );
    expect(byId.stdout).toBe('rack-show\n');
    expect(stored.stdout).toBe(`${id}\n`);
  });

  it('says in one line when a host does not exist, over HTTP and on the store', async () => {
    const [show, stored, del] = await Promise.all([
      tessera('host', 'show', '-n', 'no-such-host'),
      onStore('host', 'show', '-n', 'no-such-host'),
      tessera('host', 'delete', '-n', 'no-such-host', '--yes'),
    ]);
    for (const result of [show, stored, del]) {
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(oneLine(result)).toBe(
        "tessera: HostNotFound: The host 'no-such-host' does not exist.",
      );
    }
  });

  it('deletes a host after confirmation; its VMs show as not placed', async () => {
    const id = await createHost('rack-gone');
    const vm = await tessera('vm', 'create', '-g', GROUP, '-n', 'orphan', '--host', 'rack-gone');
    expect(vm.code).toBe(0);

    const unconfirmed = await tessera('host', 'delete', '-n', 'rack-gone');
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/pass --yes/);
    expect(json(await tessera('host', 'show', '-n', id))).toMatchObject({ vmCount: 1 });

    const deleted = await tessera('host', 'delete', '-n', 'rack-gone', '--yes');
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toBe('');
    expect(oneLine(deleted)).toMatch(
      /^tessera: host 'rack-gone' deleted; its 1 VM\(s\) are not placed/,
    );

    const [list, show, table, again] = await Promise.all([
      tessera('host', 'list', '--query', '[].name', '-o', 'tsv'),
      tessera('vm', 'show', '-g', GROUP, '-n', 'orphan'),
      tessera('vm', 'show', '-g', GROUP, '-n', 'orphan', '-o', 'table'),
      tessera('host', 'delete', '-n', id, '--yes'),
    ]);
    expect(list.stdout.split('\n')).not.toContain('rack-gone');
    // The VM still names the deleted host's id, which no host has now.
    expect(json(show)).toMatchObject({
      hostName: null,
      properties: { tessera: { hostId: id } },
    });
    expect(table.stdout).toBe(
      'Name    ResourceGroup  Location    Host\n------  -------------  ----------  ----------\norphan  hosts-cli      westeurope  not placed\n',
    );
    expect(again.code).toBe(1);
    expect(oneLine(again)).toBe(`tessera: HostNotFound: The host '${id}' does not exist.`);
  });

  it('deletes on the store where the server runs, by id', async () => {
    const id = await createHost('rack-store');
    const deleted = await onStore('host', 'delete', '-n', id, '--yes');
    expect([deleted.code, deleted.stdout, deleted.stderr]).toEqual([0, '', '']);
    const shown = await tessera('host', 'show', '-n', 'rack-store');
    expect(shown.code).toBe(1);
  });
});

describe('tessera vm create --host', { timeout: 300_000 }, () => {
  it('places a VM on the host a name or an id names, and shows the host', async () => {
    const id = await createHost('rack-vm');
    const [byName, byId, none] = await Promise.all([
      tessera('vm', 'create', '-g', GROUP, '-n', 'placed', '--host', 'rack-vm', '-o', 'none'),
      tessera('vm', 'create', '-g', GROUP, '-n', 'placed-id', '--host', id, '-o', 'none'),
      tessera('vm', 'create', '-g', GROUP, '-n', 'unplaced', '-o', 'none'),
    ]);
    for (const result of [byName, byId, none]) {
      expect([result.code, result.stdout, result.stderr]).toEqual([0, '', '']);
    }
    const [hostId, viaId, shown, list, hostList] = await Promise.all([
      tessera('vm', 'show', '-g', GROUP, '-n', 'placed', '--query', 'properties.tessera.hostId'),
      tessera('vm', 'show', '-g', GROUP, '-n', 'placed-id', '--query', 'hostName', '-o', 'tsv'),
      tessera('vm', 'show', '-g', GROUP, '-n', 'placed', '-o', 'table'),
      tessera('vm', 'list', '-g', GROUP, '-o', 'table'),
      tessera('host', 'show', '-n', 'rack-vm', '--query', 'vmCount'),
    ]);
    expect(JSON.parse(hostId.stdout)).toBe(id);
    expect(viaId.stdout).toBe('rack-vm\n');
    expect(shown.stdout).toBe(
      'Name    ResourceGroup  Location    Host\n------  -------------  ----------  -------\nplaced  hosts-cli      westeurope  rack-vm\n',
    );
    const rows = list.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^Name +ResourceGroup +Location +Host$/);
    expect(rows).toContainEqual(
      expect.stringMatching(/^placed-id +hosts-cli +westeurope +rack-vm$/),
    );
    expect(rows).toContainEqual(
      expect.stringMatching(/^unplaced +hosts-cli +westeurope +not placed$/),
    );
    expect(hostList.stdout).toBe('2\n');
  });

  it('refuses an unknown host in one line and creates nothing', async () => {
    const refused = await tessera(
      'vm',
      'create',
      '-g',
      GROUP,
      '-n',
      'nowhere',
      '--host',
      'nosuchhost',
    );
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(oneLine(refused)).toMatch(
      /^tessera: HostNotFound: no host is named 'nosuchhost' or has that id: /,
    );
    const shown = await tessera('vm', 'show', '-g', GROUP, '-n', 'nowhere');
    expect(shown.code).toBe(1);
    expect(oneLine(shown)).toMatch(/^tessera: ResourceNotFound: /);
  });
});

describe('operator commands print data', { timeout: 120_000 }, () => {
  it('signing-key list takes --output and --query', async () => {
    const [listed, table, kid, bad] = await Promise.all([
      onStore('signing-key', 'list'),
      onStore('signing-key', 'list', '-o', 'table'),
      onStore('signing-key', 'list', '--query', '[?signing].kid', '-o', 'tsv'),
      onStore('signing-key', 'list', '--query', '[?'),
    ]);
    const keys = json(listed) as unknown as Record<string, unknown>[];
    expect(keys).toContainEqual({
      kid: expect.any(String) as unknown,
      state: 'active',
      signing: true,
      activatesAt: expect.stringMatching(ISO) as unknown,
      retiresAt: null,
      expiresAt: null,
    });
    const signing = keys.find((key) => key.signing === true);
    expect(kid.stdout).toBe(`${String(signing?.kid)}\n`);
    expect(table.stdout.split('\n')[0]).toMatch(/^Kid +State +Signing +ActivatesAt$/);
    expect(table.stdout).toMatch(/ {2}active {2}True {5}\d{4}-/);
    expect(bad.code).toBe(2);
    expect(oneLine(bad)).toBe("tessera: argument --query: invalid jmespath_type value: '[?'");
  });

  it('config show takes --output and --query', async () => {
    const [port, table] = await Promise.all([
      onStore('config', 'show', '--set', 'server.port=9000', '--query', 'server.port', '-o', 'tsv'),
      onStore('config', 'show', '--query', 'server', '-o', 'table'),
    ]);
    expect(port.stdout).toBe('9000\n');
    expect(table.stdout.split('\n')[0]).toMatch(/^Host +/);
  });
});
