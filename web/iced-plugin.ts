/**
 * Vite plugin: iced-x86 for the browser, from the npm package the CLI uses.
 *
 * iced-x86's npm build is CommonJS that reads its .wasm with `fs` and takes TextDecoder from
 * `util` when it is imported. This plugin (1) serves that same glue as an ES module
 * (`virtual:iced-x86`) whose WebAssembly is instantiated later from a compiled module, and
 * (2) swaps the core's Node loader (src/analysis/iced.ts) for the web loader
 * (web/src/iced-web.ts). Every rewrite must match exactly once, so an iced-x86 release with a
 * different glue fails the build instead of producing a page that cannot decode.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';

export const ICED_VIRTUAL_ID = 'virtual:iced-x86';
const RESOLVED_VIRTUAL_ID = `\0${ICED_VIRTUAL_ID}`;
const NODE_LOADER = fileURLToPath(new URL('../src/analysis/iced.ts', import.meta.url));
const WEB_LOADER = fileURLToPath(new URL('./src/iced-web.ts', import.meta.url));

/** The pieces of the Node glue that touch Node, and what stands in for them. */
const REWRITES: Array<{ what: string; from: RegExp; to: string }> = [
  {
    what: 'TextDecoder/TextEncoder from util',
    from: /const \{ TextDecoder, TextEncoder \} = require\(`util`\);\n/,
    // Both are globals in browsers and workers.
    to: '',
  },
  {
    what: 'the .wasm read with fs and instantiated at import',
    from: /const path = require\('path'\)\.join\(__dirname, 'iced_x86_bg\.wasm'\);\nconst bytes = require\('fs'\)\.readFileSync\(path\);\n\nconst wasmModule = new WebAssembly\.Module\(bytes\);\nconst wasmInstance = new WebAssembly\.Instance\(wasmModule, imports\);\nwasm = wasmInstance\.exports;\nmodule\.exports\.__wasm = wasm;\s*$/,
    to: 'module.exports.__instantiate = function (wasmModule) {\n  wasm = new WebAssembly.Instance(wasmModule, imports).exports;\n  module.exports.__wasm = wasm;\n};\n',
  },
];

/** iced-x86's CommonJS glue as an ES module with the same named exports. */
export function icedGlueAsEsm(source: string): string {
  let code = source;
  for (const r of REWRITES) {
    const hits = code.match(new RegExp(r.from.source, `${r.from.flags}g`))?.length ?? 0;
    if (hits !== 1) throw new Error(`iced-x86 glue: expected ${r.what} once, found it ${hits} times; update web/iced-plugin.ts for this iced-x86 version`);
    code = code.replace(r.from, r.to);
  }
  if (/\brequire\(/.test(code.replace(/^\s*\*.*$/gm, ''))) throw new Error('iced-x86 glue: a require() is left after the rewrite');
  const names = [...new Set([...code.matchAll(/^module\.exports\.([A-Za-z][A-Za-z0-9_]*) = /gm)].map((m) => m[1] as string))];
  // The glue runs in its own scope (its classes have the names we export).
  return [
    'const module = { exports: {} };',
    '(function () {',
    code,
    '})();',
    'const iced = module.exports;',
    'export const instantiateIced = iced.__instantiate;',
    ...names.map((n) => `export const ${n} = iced.${n};`),
    '',
  ].join('\n');
}

export function icedWeb(): Plugin {
  const require = createRequire(import.meta.url);
  return {
    name: 'hvci-iced-web',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      if (source === ICED_VIRTUAL_ID) return RESOLVED_VIRTUAL_ID;
      if (!/iced(\.[jt]s)?$/.test(source)) return null;
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
      return resolved?.id === NODE_LOADER ? WEB_LOADER : null;
    },
    load(id) {
      if (id === NODE_LOADER) throw new Error('the Node loader of iced-x86 reached the browser bundle');
      if (id !== RESOLVED_VIRTUAL_ID) return null;
      return icedGlueAsEsm(readFileSync(require.resolve('iced-x86'), 'utf8'));
    },
  };
}
