// The layer boundaries of STYLE.md, checked on the sources: e.g. core imports no outer layer and no wire values, cli never imports server.
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** One module a source file loads or names, as written, and whether only types come from it. */
export interface ModuleReference {
  readonly specifier: string;
  /** 1-based. */
  readonly line: number;
  /**
   * True for `import type`, `export type … from` and `typeof import('…')`, which the compiler
   * erases. An `import { type A }` is not: under `verbatimModuleSyntax` it is kept as
   * `import {} from '…'`, which still loads (and runs) the module.
   */
  readonly typeOnly: boolean;
}

/** Every module `text` references: static and dynamic imports, re-exports, import types. */
export function moduleReferences(fileName: string, text: string): ModuleReference[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const found: ModuleReference[] = [];
  const add = (literal: ts.Expression | undefined, typeOnly: boolean): void => {
    if (literal === undefined || !ts.isStringLiteralLike(literal)) return;
    const line = source.getLineAndCharacterOfPosition(literal.getStart(source)).line + 1;
    found.push({ specifier: literal.text, line, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      add(node.moduleSpecifier, node.importClause?.phaseModifier === ts.SyntaxKind.TypeKeyword);
    } else if (ts.isExportDeclaration(node)) {
      add(node.moduleSpecifier, node.isTypeOnly);
    } else if (ts.isImportEqualsDeclaration(node)) {
      const reference = node.moduleReference;
      if (ts.isExternalModuleReference(reference)) add(reference.expression, node.isTypeOnly);
    } else if (ts.isImportTypeNode(node)) {
      const argument = node.argument;
      if (ts.isLiteralTypeNode(argument)) add(argument.literal, true);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The parts of the system under `src/` (STYLE.md, layout). */
const LAYERS = ['wire', 'core', 'store', 'server', 'agent', 'client', 'cli', 'config'] as const;
type Layer = (typeof LAYERS)[number];

/** The layer of a repository-relative path (`src/core/x.ts`), if it is inside one. */
function layerOfPath(path: string): Layer | undefined {
  const [top, part] = path.split('/');
  return top === 'src' ? LAYERS.find((layer) => layer === part) : undefined;
}

/** What a layer may not reference: never at all, or for values (types are fine). */
interface LayerRule {
  readonly never: readonly Layer[];
  readonly typesOnly: readonly Layer[];
}

/**
 * The dependency direction of STYLE.md, layer by layer; `eslint.config.js` (`layer(...)`) says
 * the same to the editor. `wire` and `core` import nothing of ours but each other (core only
 * wire's types); nothing imports `server`, `agent` or `cli`, except the composition root
 * `src/main.ts`, which is in no layer.
 */
export const LAYER_RULES: Readonly<Record<Layer, LayerRule>> = {
  wire: { never: ['store', 'server', 'agent', 'client', 'cli', 'config'], typesOnly: [] },
  core: { never: ['store', 'server', 'agent', 'client', 'cli', 'config'], typesOnly: ['wire'] },
  store: { never: ['server', 'agent', 'client', 'cli'], typesOnly: [] },
  config: { never: ['store', 'server', 'agent', 'client', 'cli'], typesOnly: [] },
  client: { never: ['store', 'server', 'agent', 'cli'], typesOnly: [] },
  server: { never: ['agent', 'cli'], typesOnly: [] },
  agent: { never: ['server', 'cli', 'store'], typesOnly: [] },
  cli: { never: ['server'], typesOnly: [] },
};

/**
 * What is wrong with the references of `file` (repository-relative, `/`-separated) whose text is
 * `text`: one line per forbidden reference, naming the file, the line and the import. Only
 * relative specifiers reach another layer; packages are not checked here.
 */
export function layerViolations(file: string, text: string): string[] {
  const from = layerOfPath(file);
  if (from === undefined) return [];
  const rule = LAYER_RULES[from];
  const problems: string[] = [];
  for (const reference of moduleReferences(file, text)) {
    if (!reference.specifier.startsWith('.')) continue;
    const target = posix.normalize(posix.join(posix.dirname(file), reference.specifier));
    const to = layerOfPath(target);
    if (to === undefined || to === from) continue;
    const where = `${file}:${reference.line} imports '${reference.specifier}'`;
    if (rule.never.includes(to)) {
      problems.push(`${where}: src/${from} must not import src/${to}`);
    } else if (rule.typesOnly.includes(to) && !reference.typeOnly) {
      problems.push(
        `${where}: src/${from} may take only types from src/${to} (write \`import type\`)`,
      );
    }
  }
  return problems;
}

/** The production sources of a layer, repository-relative: unit tests beside them are exempt. */
function sourcesOf(layer: Layer): string[] {
  const dir = join(ROOT, 'src', layer);
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
    .map((name) => relative(ROOT, join(dir, name)).split(sep).join('/'));
}

describe('moduleReferences', () => {
  it('finds every way a module is referenced, and which of them carry only types', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from './b.js';",
      "import { type C } from './c.js';",
      "import './d.js';",
      "export { e } from './e.js';",
      "export type { F } from './f.js';",
      "export * from './g.js';",
      "type H = typeof import('./h.js');",
      "const i = await import('./i.js');",
    ].join('\n');
    expect(
      moduleReferences('x.ts', text).map((r) => [r.specifier, r.line, r.typeOnly] as const),
    ).toEqual([
      ['./a.js', 1, false],
      ['./b.js', 2, true],
      ['./c.js', 3, false],
      ['./d.js', 4, false],
      ['./e.js', 5, false],
      ['./f.js', 6, true],
      ['./g.js', 7, false],
      ['./h.js', 8, true],
      ['./i.js', 9, false],
    ]);
  });
});

describe('layerViolations', () => {
  it('names the file, the line and the import of each forbidden reference', () => {
    const core = [
      "import { startServer } from '../../server/runtime.js';",
      "import type { TesseraConfig } from '../../config/index.js';",
      "import { entraError } from '../../wire/oauth/entra-errors.js';",
      "import type { TokenRequest } from '../../wire/oauth/token-request.js';",
      "import { type JwkInput } from '../../wire/oauth/discovery.js';",
      "export { renderArmError } from '../../wire/errors/index.js';",
      "import { AppError } from '../errors.js';",
      "import { z } from 'zod';",
    ].join('\n');
    expect(layerViolations('src/core/tokens/x.ts', core)).toEqual([
      "src/core/tokens/x.ts:1 imports '../../server/runtime.js': src/core must not import src/server",
      "src/core/tokens/x.ts:2 imports '../../config/index.js': src/core must not import src/config",
      "src/core/tokens/x.ts:3 imports '../../wire/oauth/entra-errors.js': src/core may take only types from src/wire (write `import type`)",
      "src/core/tokens/x.ts:5 imports '../../wire/oauth/discovery.js': src/core may take only types from src/wire (write `import type`)",
      "src/core/tokens/x.ts:6 imports '../../wire/errors/index.js': src/core may take only types from src/wire (write `import type`)",
    ]);
  });

  it('keeps cli from the server, types included, and lets it use the other layers', () => {
    const cli = [
      "import type { RunningServer } from '../server/runtime.js';",
      "const { startServer } = await import('../server/runtime.js');",
      "import { openStore } from '../store/index.js';",
      "import { systemClock } from '../core/clock.js';",
    ].join('\n');
    expect(layerViolations('src/cli/up.ts', cli)).toEqual([
      "src/cli/up.ts:1 imports '../server/runtime.js': src/cli must not import src/server",
      "src/cli/up.ts:2 imports '../server/runtime.js': src/cli must not import src/server",
    ]);
  });

  it('lets the composition root and the suites outside src/ join the layers', () => {
    const root =
      "import { runCli } from './cli/run.js';\nimport { launchServer } from './server/launch.js';";
    expect(layerViolations('src/main.ts', root)).toEqual([]);
    expect(
      layerViolations('test/cli/x.test.ts', "import { x } from '../../src/server/app.js';"),
    ).toEqual([]);
  });

  it('holds the other layers to STYLE.md too', () => {
    expect(layerViolations('src/server/app.ts', "import { runCli } from '../cli/run.js';")).toEqual(
      ["src/server/app.ts:1 imports '../cli/run.js': src/server must not import src/cli"],
    );
    expect(
      layerViolations('src/wire/x.ts', "import type { Store } from '../store/index.js';"),
    ).toEqual(["src/wire/x.ts:1 imports '../store/index.js': src/wire must not import src/store"]);
  });
});

describe('the sources', () => {
  it.each(LAYERS)('of src/%s keep their layer rule', (layer) => {
    const files = sourcesOf(layer);
    // A layer found empty would pass vacuously: the walk must have found its sources.
    expect(files.length).toBeGreaterThan(5);
    const problems = files.flatMap((file) =>
      layerViolations(file, readFileSync(join(ROOT, file), 'utf8')),
    );
    expect(problems).toEqual([]);
  });
});
