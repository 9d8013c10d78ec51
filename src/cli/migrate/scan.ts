// `tessera migrate scan`: lists the uses of the deprecated VM extension under a path and rewrites what it safely can.
import { randomBytes } from 'node:crypto';
import { chmod, lstat, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import type { Command } from 'commander';
import { configInvalid } from '../../core/errors.js';
import { type Finding, findUses, fixUses } from './rules.js';

/** Files larger than this are not read (generated bundles, data, logs). */
export const MAX_FILE_BYTES = 2 * 1024 * 1024;

/** Directories never entered. */
const SKIPPED = new Set(['node_modules', '.git']);

/** A text file under the scanned path and what it holds. */
export interface ScannedFile {
  /** The path relative to the scanned path, with `/` separators (the file's name for a file). */
  readonly path: string;
  readonly absolute: string;
  readonly text: string;
  readonly findings: Finding[];
}

/** The options of `tessera migrate scan`. */
export interface MigrateScanOptions {
  readonly fix?: boolean | undefined;
}

/** The text of `file`, or undefined when it is binary (a NUL byte or not UTF-8). */
async function readText(file: string): Promise<string | undefined> {
  const bytes = await readFile(file);
  if (bytes.subarray(0, 8000).includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * The text files under `root` (a file or a directory), sorted by path. Skips `node_modules`,
 * `.git`, binary files, files over {@link MAX_FILE_BYTES} and every symbolic link below `root`
 * (a link inside the tree is scanned where it points; one out of it is not ours to read).
 */
async function textFiles(root: string): Promise<{ path: string; absolute: string }[]> {
  const top = await stat(root);
  if (top.isFile()) return [{ path: basename(root), absolute: root }];
  const files: { path: string; absolute: string }[] = [];
  const visit = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const entry of entries) {
      const absolute = join(dir, entry.name);
      if (SKIPPED.has(entry.name)) continue;
      if (entry.isDirectory()) await visit(absolute);
      if (entry.isFile() && (await lstat(absolute)).size <= MAX_FILE_BYTES) {
        files.push({ path: relative(root, absolute).split(sep).join('/'), absolute });
      }
    }
  };
  await visit(root);
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Scans `root`: every text file with at least one finding, sorted by path. */
export async function scanPath(root: string): Promise<ScannedFile[]> {
  const scanned: ScannedFile[] = [];
  for (const file of await textFiles(root)) {
    const text = await readText(file.absolute);
    if (text === undefined) continue;
    const findings = findUses(file.path, text);
    if (findings.length > 0) scanned.push({ ...file, text, findings });
  }
  return scanned;
}

/** Replaces `file` with `text` through a temporary file in its directory; keeps its mode. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const { mode } = await stat(file);
  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temp, text, { mode: mode & 0o7777, flag: 'wx' });
    await chmod(temp, mode & 0o7777);
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/** The report line of one finding. */
export function formatFinding(path: string, finding: Finding): string {
  const why = finding.fixable ? '' : ` (not fixed: ${finding.reason ?? 'edit it by hand'})`;
  return `${path}:${String(finding.line)}: ${finding.kind}: ${finding.what} -> ${finding.replacement}${why}`;
}

/** The closing line of a report. */
export function summaryLine(files: readonly ScannedFile[]): string {
  const uses = files.reduce((n, f) => n + f.findings.length, 0);
  const fixable = files.reduce((n, f) => n + f.findings.filter((x) => x.fixable).length, 0);
  return `${String(uses)} use(s) of the deprecated extension in ${String(files.length)} file(s); ${String(fixable)} fixable with --fix`;
}

/**
 * `tessera migrate scan PATH [--fix]`: prints one line per finding and a summary; with `--fix`
 * rewrites the fixable findings first, one line per rewritten file, and reports what remains.
 * Exit status 1 while any use remains, 0 when none. A path that cannot be read throws
 * `ConfigInvalid` (one line on stderr, exit status 2); a file that cannot be rewritten is named
 * on stderr and stays in the report.
 */
export async function runMigrateScan(root: string, options: MigrateScanOptions): Promise<void> {
  const top = await stat(root).catch((error: unknown) => {
    throw configInvalid(`cannot read ${root}: ${String((error as NodeJS.ErrnoException).code)}`);
  });
  if (!top.isFile() && !top.isDirectory()) throw configInvalid(`${root}: not a file or directory`);
  let files = await scanPath(root);
  const out: string[] = [];
  if (options.fix === true) {
    for (const file of files.filter((f) => f.findings.some((x) => x.fixable))) {
      const fixed = fixUses(file.path, file.text);
      if (fixed === file.text) continue;
      try {
        await writeAtomically(file.absolute, fixed);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? String(error);
        process.stderr.write(`tessera: cannot rewrite ${file.path}: ${code}\n`);
        continue;
      }
      const left = findUses(file.path, fixed).length;
      out.push(`${file.path}: fixed ${String(file.findings.length - left)} use(s)`);
    }
    files = await scanPath(root);
  }
  for (const file of files) out.push(...file.findings.map((f) => formatFinding(file.path, f)));
  out.push(summaryLine(files));
  process.stdout.write(`${out.join('\n')}\n`);
  process.exitCode = files.length > 0 ? 1 : 0;
}

/** Adds `tessera migrate scan` to `program`. */
export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('move callers and templates off the deprecated managed-identity VM extension')
    .command('scan')
    .description(
      'find uses of the VM extension (localhost:50342, ARM templates, Set-AzVMExtension, az vm extension set) under a path; exit 1 while any remain',
    )
    .argument('<path>', 'a file or a directory (node_modules, .git, binary files are skipped)')
    .option('--fix', 'rewrite token URLs for IMDS and remove the extension from ARM templates')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ tessera migrate scan .            # list every use; exit status 1 while any remain (a CI gate)',
        '  $ tessera migrate scan infra --fix  # rewrite what is safe, then list what is left',
        '',
        'See docs/operations/migrate-from-extension.md.',
      ].join('\n'),
    )
    .action(async (path: string, options: MigrateScanOptions) => {
      await runMigrateScan(path, options);
    });
}
