// ESLint flat config: typescript-eslint type-checked rules plus the layer boundaries of STYLE.md.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

/**
 * The imports `src/${from}` may not make: any of `forbidden`, and values (`import type` is fine)
 * of `typesOnly`. test/architecture/layers.test.ts checks the same on every run of the suite.
 */
const layer = (from, forbidden, typesOnly = []) => ({
  files: [`src/${from}/**/*.ts`],
  rules: {
    '@typescript-eslint/no-restricted-imports': [
      'error',
      {
        patterns: [
          ...forbidden.map((dir) => ({
            group: [`**/${dir}/*`, `**/${dir}`],
            message: `src/${from} must not import src/${dir} (see STYLE.md, dependency direction).`,
          })),
          ...typesOnly.map((dir) => ({
            group: [`**/${dir}/*`, `**/${dir}`],
            allowTypeImports: true,
            message: `src/${from} may take only types from src/${dir}: write \`import type\` (see STYLE.md).`,
          })),
        ],
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.tessera/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      'no-restricted-syntax': [
        'error',
        {
          selector: 'TSEnumDeclaration',
          message: 'Use string-literal unions or as-const objects.',
        },
        { selector: 'TSModuleDeclaration[kind="namespace"]', message: 'No namespaces.' },
      ],
    },
  },
  {
    // The portal runs in the browser: React's hook rules, and nothing from the server's layers.
    files: ['portal/**/*.{ts,tsx}'],
    ...reactHooks.configs.flat['recommended-latest'],
  },
  {
    files: ['portal/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/src/*', 'node:*'],
              message: 'The portal talks to the server over HTTP only.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', 'bin/**'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  layer('wire', ['store', 'server', 'agent', 'client', 'cli', 'config']),
  // core raises AppErrors and renders no wire format: only wire's types may reach it.
  layer('core', ['store', 'server', 'agent', 'client', 'cli', 'config'], ['wire']),
  layer('store', ['server', 'agent', 'client', 'cli']),
  layer('config', ['store', 'server', 'agent', 'client', 'cli']),
  layer('client', ['store', 'server', 'agent', 'cli']),
  layer('server', ['agent', 'cli']),
  layer('agent', ['server', 'cli', 'store']),
  // The CLI starts a server only through what src/main.ts (the composition root) hands it.
  layer('cli', ['server']),
  // Tests beside the code run it against real parts (the store, the server), so the layer
  // boundaries, which keep production code honest, do not bind them.
  { files: ['src/**/*.test.ts'], rules: { '@typescript-eslint/no-restricted-imports': 'off' } },
);
