import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The core (everything but src/cli) must run in a browser: no node: imports there. */
const pureCore = ['src/pe/**', 'src/pdb/**', 'src/source/**', 'src/signature/**', 'src/blocklist/**', 'src/system/**', 'src/analysis/**', 'src/rules/**', 'src/report/**', 'src/explain/**', 'src/config/**', 'src/*.ts'];

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
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
);
