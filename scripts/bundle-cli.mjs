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
 * iced-x86 is re-exported name by name (read off the package here), and loaded only when code
 * is first decoded: its enums (OpKind, Register, …) are plain data, written into the bundle as
 * frozen literals, so reading them costs no getter call in the decoder's inner loop (a CommonJS
 * wrapper made every `OpKind.Register` one: a tenth of a full scan's CPU) and loads nothing;
 * its classes and functions are stand-ins that require the package on first use. `hvci rules`,
 * `explain`, `--image-only` and scans of user-mode files never compile its 900 KB of JavaScript
 * and its WebAssembly (about a third of `hvci rules`' instructions under callgrind).
 */
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(repoRoot, 'dist', 'bundle');
rmSync(outdir, { recursive: true, force: true });

/**
 * An ES module standing for the CommonJS package `name`: each enum-like export (an object of
 * numbers and names) as a frozen literal, each function or class as a stand-in that requires
 * the package at run time on first construction, call or property read.
 */
function lazyExports(name) {
  const pkg = createRequire(import.meta.url)(name);
  const lines = [`let pkg;`, `const load = () => (pkg ??= __hvciRequire(${JSON.stringify(name)}));`];
  lines.push(
    'const standIn = (name) => new Proxy(function () {}, {',
    '  construct: (_, args) => new (load()[name])(...args),',
    '  apply: (_, self, args) => load()[name].apply(self, args),',
    '  get: (_, key) => load()[name][key],',
    '});',
  );
  // Unused exports are dropped by esbuild (marked pure).
  for (const [key, value] of Object.entries(pkg)) {
    if (!/^[A-Za-z_$][\w$]*$/.test(key) || key === 'default' || key.startsWith('__')) continue;
    const isEnum = value !== null && typeof value === 'object' && Object.values(value).every((v) => typeof v === 'number' || typeof v === 'string');
    // JSON.parse of a string: V8 reads that faster than an object literal of thousands of keys (Mnemonic).
    if (isEnum) lines.push(`export const ${key} = /* @__PURE__ */ Object.freeze(/* @__PURE__ */ JSON.parse(${JSON.stringify(JSON.stringify(value))}));`);
    else if (typeof value === 'function') lines.push(`export const ${key} = /* @__PURE__ */ standIn(${JSON.stringify(key)});`);
  }
  return lines.join('\n');
}

const requireAtRuntime = {
  name: 'require-at-runtime',
  setup(b) {
    b.onResolve({ filter: /^(iced-x86|better-sqlite3)$/ }, (args) => ({ path: args.path, namespace: 'runtime-require' }));
    // CommonJS for esbuild (so named imports become property reads), resolved by Node at run time.
    b.onLoad({ filter: /.*/, namespace: 'runtime-require' }, (args) => ({
      contents: args.path === 'iced-x86' ? lazyExports(args.path) : `module.exports = __hvciRequire(${JSON.stringify(args.path)});`,
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
