/**
 * Bundles an entry of the core for a browser (Vite, the same plugin as the page) and lists
 * every Node built-in it reaches — `fs`, `node:path`, … — with the module that imports it.
 * Used by test/web/core-bundle.test.ts: the core must list none.
 */
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build, type Plugin, type Rolldown } from 'vite';
import { icedWeb } from './iced-plugin.js';

export interface BuiltinImport {
  builtin: string;
  importer: string;
}

const BUILTINS = new Set(builtinModules.filter((m) => !m.startsWith('_')));
const REPO = fileURLToPath(new URL('..', import.meta.url));

function isBuiltin(source: string): boolean {
  return source.startsWith('node:') || BUILTINS.has(source) || BUILTINS.has(source.split('/')[0] as string);
}

/** Records Node built-ins as they are resolved (Vite would quietly stub them for the browser). */
function builtinRecorder(found: BuiltinImport[]): Plugin {
  return {
    name: 'hvci-record-node-builtins',
    enforce: 'pre',
    resolveId(source, importer) {
      if (!isBuiltin(source)) return null;
      found.push({ builtin: source, importer: (importer ?? '(entry)').replace(REPO, '') });
      return { id: source, external: true };
    },
  };
}

export async function browserBundle(entry: string): Promise<{ builtins: BuiltinImport[]; code: string }> {
  const builtins: BuiltinImport[] = [];
  const output = await build({
    configFile: false,
    root: REPO,
    logLevel: 'silent',
    plugins: [icedWeb(), builtinRecorder(builtins)],
    build: {
      write: false,
      minify: false,
      lib: { entry, formats: ['es'], fileName: 'core' },
    },
  });
  const outputs = (Array.isArray(output) ? output : [output]) as Rolldown.RolldownOutput[];
  const code = outputs
    .flatMap((o) => o.output)
    .map((chunk) => (chunk.type === 'chunk' ? chunk.code : ''))
    .join('\n');
  return { builtins, code };
}
