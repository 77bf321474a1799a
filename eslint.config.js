import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The core (everything but src/cli) must run in a browser: no node: imports there. */
const pureCore = ['src/pe/**', 'src/signature/**', 'src/blocklist/**', 'src/system/**', 'src/analysis/**', 'src/rules/**', 'src/report/**', 'src/explain/**', 'src/config/**', 'src/*.ts'];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'test/fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: pureCore,
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['node:*', 'fs', 'path', 'os', 'crypto', 'child_process'], message: 'The core is pure: Node APIs belong in src/cli.' }] },
      ],
    },
  },
  {
    // Layers import one way (pe ← analysis ← rules ← report): the analysis and the reader name no
    // rule module but the leaf vocabulary of rule ids.
    files: ['src/pe/**', 'src/analysis/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'path', 'os', 'crypto', 'child_process'], message: 'The core is pure: Node APIs belong in src/cli.' },
            { group: ['../rules/*', '!../rules/ids.js', '../report/*', '../cli/*'], message: 'pe and analysis sit below rules and reports: only ../rules/ids.js may be named here.' },
          ],
        },
      ],
    },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
);
