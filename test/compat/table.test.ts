// The compatibility table of docs/compatibility.md against the compat suites: one row per test.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { installedVersion } from './versions.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOC = join(ROOT, 'docs/compatibility.md');
const SECTION = '## Compatibility suite';
const HEADER = ['client', 'version', 'scenario', 'result'];

/** One row of the table. */
interface Row {
  readonly client: string;
  readonly version: string;
  readonly scenario: string;
  readonly result: string;
}

/** One compat test as vitest names it: its describe titles, then its own. */
interface Test {
  readonly file: string;
  readonly path: readonly string[];
}

/** The cells of a Markdown table line; `\|` stands for a `|` inside a cell. */
function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim().replace(/\\\|/g, '|'));
}

/** The rows of the table under {@link SECTION}: the first table after the heading. */
async function tableRows(): Promise<Row[]> {
  const doc = await readFile(DOC, 'utf8');
  const start = doc.indexOf(`\n${SECTION}\n`);
  if (start < 0) throw new Error(`docs/compatibility.md has no "${SECTION}" section`);
  const lines = doc.slice(start).split('\n');
  const header = lines.findIndex(
    (line) => line.trim().startsWith('|') && cells(line).join() === HEADER.join(),
  );
  if (header < 0) throw new Error(`the section has no table of ${HEADER.join(' | ')}`);
  const rows: Row[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.trim().startsWith('|')) break;
    const [client = '', version = '', scenario = '', result = '', ...rest] = cells(line);
    if (rest.length > 0) throw new Error(`a row with more than four cells: ${line}`);
    rows.push({ client, version, scenario, result });
  }
  return rows;
}

/** Every test of test/compat/*.test.ts but this file's, as `vitest list` collects them. */
async function compatTests(): Promise<Test[]> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'list', 'test/compat/', '--json'],
    { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
  );
  const listed = JSON.parse(stdout.slice(stdout.indexOf('['))) as { name: string; file: string }[];
  return listed
    .filter(({ file }) => file.includes('/test/compat/') && basename(file) !== 'table.test.ts')
    .map(({ name, file }) => ({ file: basename(file), path: name.split(' > ') }));
}

/** The scenario cell of a test: its titles below the suite's own describe. */
const scenarioOf = (test: Test): string => test.path.slice(1).join(' > ');

/** The version a row must give: the installed one for an npm package, any for a system tool. */
function expectedVersion(client: string): string | undefined {
  return existsSync(join(ROOT, 'node_modules', client, 'package.json'))
    ? installedVersion(client)
    : undefined;
}

describe('docs/compatibility.md, section "Compatibility suite"', () => {
  // `vitest list` imports every compat suite: slow on a loaded machine, hence the timeout.
  it(
    'has one row per compat test and none without a test, naming the client and its installed version',
    { timeout: 120_000 },
    async () => {
      const [rows, tests] = await Promise.all([tableRows(), compatTests()]);
      expect(tests.length).toBeGreaterThan(0);
      const problems: string[] = [];
      const unmatched = [...rows];
      for (const test of tests) {
        const scenario = scenarioOf(test);
        const name = test.path.join(' > ');
        const at = unmatched.findIndex(
          (row) => row.scenario === scenario && name.includes(row.client),
        );
        if (at < 0) {
          problems.push(`no row for ${test.file}: ${scenario}`);
          continue;
        }
        const [row] = unmatched.splice(at, 1);
        if (row === undefined) continue;
        const version = expectedVersion(row.client);
        if (version !== undefined && row.version !== version) {
          problems.push(`${row.client} is ${version}, the row says ${row.version}: ${scenario}`);
        }
        if (row.version === '') problems.push(`a row without a version: ${scenario}`);
        if (row.result !== 'pass') problems.push(`result "${row.result}", not "pass": ${scenario}`);
      }
      for (const row of unmatched)
        problems.push(`a row without a test: ${row.client}: ${row.scenario}`);
      expect(problems).toEqual([]);
    },
  );
});
