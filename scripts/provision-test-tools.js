#!/usr/bin/env node
// Before `npm test`: the system tools some suites drive (network namespaces, nftables, Chromium,
// openssl, Debian's az CLI and Python Azure SDKs), installed with apt-get when this is root on
// Debian, else named with the command that installs them. Under CI=true a tool that cannot be had
// fails the run instead of skipping suites.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import process from 'node:process';

/**
 * What each tool is for and the Debian package that brings it; `check`, when given, is the shell
 * test that it is there (default: `command -v {command}`). The Python modules are checked with
 * Debian's own interpreter, which az runs on, not a python3 some environment puts first on PATH.
 */
const TOOLS = [
  { command: 'ip', pkg: 'iproute2', suite: 'test/netns (network namespaces, veth, bridges)' },
  { command: 'nft', pkg: 'nftables', suite: 'test/netns (anti-spoofing rules)' },
  { command: 'openssl', pkg: 'openssl', suite: 'the attested-document checks' },
  { command: 'chromium', pkg: 'chromium', suite: 'test/portal (the browser tests)' },
  {
    command: '/usr/bin/az',
    check: 'test -x /usr/bin/az',
    pkg: 'azure-cli',
    suite: 'test/compat/az (the az CLI)',
  },
  {
    command: 'azure.identity (for /usr/bin/python3)',
    check: "/usr/bin/python3 -c 'import azure.identity'",
    pkg: 'python3-azure',
    suite: 'the Python SDK suites (azure-identity)',
  },
  {
    command: 'azure.storage.blob (for /usr/bin/python3)',
    check: "/usr/bin/python3 -c 'import azure.storage.blob'",
    pkg: 'python3-azure-storage',
    suite: 'the Python SDK suites (azure-storage-blob)',
  },
];

const has = (tool) =>
  spawnSync('sh', ['-c', tool.check ?? `command -v ${tool.command}`], { stdio: 'ignore' })
    .status === 0;

const missing = TOOLS.filter((tool) => !has(tool));
if (missing.length === 0) process.exit(0);

const packages = [...new Set(missing.map((tool) => tool.pkg))];
const canInstall = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
if (canInstall) {
  process.stderr.write(
    `npm test: installing ${packages.join(' ')} with apt-get (${missing.map((t) => t.suite).join('; ')})\n`,
  );
  try {
    const quiet = {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    };
    execFileSync('apt-get', ['update', '-qq'], quiet);
    execFileSync('apt-get', ['install', '-y', '-qq', ...packages], quiet);
  } catch (error) {
    process.stderr.write(
      `npm test: apt-get failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
  }
}

const still = TOOLS.filter((tool) => !has(tool));
for (const tool of still) {
  process.stderr.write(
    `npm test: WARNING: \`${tool.command}\` is missing, so ${tool.suite} ${process.env.CI === 'true' ? 'cannot run' : 'will be skipped'}; install it with: sudo apt-get install ${tool.pkg}\n`,
  );
}
process.exit(still.length > 0 && process.env.CI === 'true' ? 1 : 0);
