import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The core (everything but src/cli) must run in a browser: no Node API there. */
const pureCore = ['src/digest/**', 'src/pe/**', 'src/pdb/**', 'src/source/**', 'src/signature/**', 'src/blocklist/**', 'src/system/**', 'src/analysis/**', 'src/rules/**', 'src/report/**', 'src/explain/**', 'src/config/**', 'src/*.ts'];
const nodeBuiltins = builtinModules.filter((m) => !m.startsWith('_'));

/** Layers import one way: digest ← pe ← analysis (signature, blocklist) ← rules ← report ← cli/web. Types may cross. */
const above = {
  cli: { group: ['../cli/*', '../../cli/*'], message: 'Only the CLI imports the CLI.' },
  web: { group: ['../web/*', '../../web/*'], message: 'The core does not import the page.' },
  analyze: { group: ['../analyze*', '../index*'], message: 'Layers import one way: the orchestrator (src/analyze.ts) is above this one.' },
  registry: { regex: '^\\.\\./rules(/index(\\.js)?)?$', message: 'Take rule metadata as data; importing the registry pulls every rule and the decoder in.' },
  rules: { group: ['../rules/*'], message: 'Layers import one way: rules are above this one (types may cross: import type).' },
  report: { group: ['../report/*'], message: 'Layers import one way: reports are above this one (types may cross: import type).' },
  analysis: { group: ['../analysis/*'], message: 'Layers import one way: analysis is above this layer, and renderers take report data (types may cross: import type).' },
  features: { group: ['../explain/*', '../config/*', '../system/*'], message: 'Layers import one way: explain, config and system are above this one.' },
  peUp: { group: ['../signature/*', '../blocklist/*'], message: 'Layers import one way: src/pe reads the file and nothing more.' },
  pe: { group: ['../pe/*'], message: 'src/digest is the bottom layer: message digests and nothing else.' },
};
const layer = (files, ...forbidden) => ({
  files,
  rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: forbidden.map((f) => ({ ...f, allowTypeImports: true })) }] },
});

const noNodeBuiltins = { group: ['node:*', ...nodeBuiltins, ...nodeBuiltins.map((m) => `${m}/*`)], message: 'The core is pure: Node APIs belong in src/cli.' };
/** iced-x86's npm build reads its .wasm with fs: the core gets it from the one module the page swaps. */
const icedOnlyThroughLoader = { name: 'iced-x86', message: "Import iced-x86 from src/analysis/iced.ts, the loader that the page's build swaps for the web one." };

export default tseslint.config(
  { ignores: ['dist/', 'dist-web/', 'node_modules/', 'test/fixtures/', 'test-output/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: pureCore,
    rules: {
      'no-restricted-imports': ['error', { paths: [icedOnlyThroughLoader], patterns: [noNodeBuiltins] }],
      'no-restricted-globals': [
        'error',
        ...['process', 'Buffer', 'global', 'require', 'module', '__dirname', '__filename', 'setImmediate'].map((name) => ({
          name,
          message: 'The core runs in browsers too: Node globals belong in src/cli.',
        })),
      ],
    },
  },
  { files: ['src/analysis/iced.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [noNodeBuiltins] }] } },
  layer(['src/digest/**'], above.cli, above.web, above.analyze, above.rules, above.report, above.analysis, above.features, above.peUp, above.pe),
  layer(['src/pe/**'], above.cli, above.web, above.analyze, above.rules, above.report, above.analysis, above.features, above.peUp),
  layer(['src/analysis/**', 'src/signature/**', 'src/blocklist/**'], above.cli, above.web, above.analyze, above.rules, above.report, above.features),
  layer(['src/rules/**'], above.cli, above.web, above.analyze, above.report, above.features),
  layer(['src/report/**'], above.cli, above.web, above.analyze, above.registry, above.analysis, above.features),
  layer(['src/explain/**', 'src/config/**', 'src/system/**', 'src/*.ts'], above.cli, above.web),
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
