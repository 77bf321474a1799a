/**
 * npm run build (after tsc): the CLI as a few bundled files in dist/bundle/, which is what the
 * `hvci` bin runs. Loading ~100 modules one by one was most of a cold start (`hvci rules`,
 * a one-file scan); a bundle loads a handful. Entries: the CLI and the --jobs worker (kept
 * side by side: the pool finds ./analyze-worker.js next to its own chunk).
 *
 * iced-x86's npm build is CommonJS that reads its .wasm beside itself, so it stays in
 * node_modules, and is loaded with require() (from createRequire): importing it from ESM
 * makes Node lex all its source for named exports first, a third of a one-file scan.
 * better-sqlite3 is native and stays external too.
 *
 * iced-x86 is re-exported as plain constants (one `export const` per name, read off the package
 * here): a CommonJS wrapper would make every `OpKind.Register` in the decoder's inner loop a
 * getter call (about a tenth of a full scan's CPU in a profile).
 */
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(repoRoot, 'dist', 'bundle');
rmSync(outdir, { recursive: true, force: true });

/** An ES module that requires `name` at run time and re-exports each of its properties as a constant. */
function constantExports(name) {
  const names = Object.keys(createRequire(import.meta.url)(name)).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== 'default');
  return [`const m = __hvciRequire(${JSON.stringify(name)});`, ...names.map((n) => `export const ${n} = m.${n};`)].join('\n');
}

const requireAtRuntime = {
  name: 'require-at-runtime',
  setup(b) {
    b.onResolve({ filter: /^(iced-x86|better-sqlite3)$/ }, (args) => ({ path: args.path, namespace: 'runtime-require' }));
    // CommonJS for esbuild (so named imports become property reads), resolved by Node at run time.
    b.onLoad({ filter: /.*/, namespace: 'runtime-require' }, (args) => ({
      contents: args.path === 'iced-x86' ? constantExports(args.path) : `module.exports = __hvciRequire(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

await build({
  entryPoints: [
    // main.js is bin.ts, which answers --version itself and imports the CLI (main.ts) otherwise.
    { in: join(repoRoot, 'src/cli/bin.ts'), out: 'main' },
    join(repoRoot, 'src/cli/analyze-worker.ts'),
  ],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  plugins: [requireAtRuntime],
  banner: { js: "import { createRequire as __hvciCreateRequire } from 'node:module'; const __hvciRequire = __hvciCreateRequire(import.meta.url); const require = __hvciRequire;" },
});
