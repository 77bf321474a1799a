/**
 * The core runs in a browser: bundled for one (as the page is), src/index.ts reaches no Node
 * built-in. A module that imports one is caught (the check can fail).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { browserBundle } from '../../web/browser-bundle.js';

describe('the core bundled for a browser', () => {
  it('src/index.ts reaches no Node built-in, and carries the decoder and every rule', async () => {
    const { builtins, code } = await browserBundle('src/index.ts');
    assert.deepEqual(builtins, [], `Node built-ins in the browser bundle: ${JSON.stringify(builtins)}`);
    assert.match(code, /instantiateIced/, 'the web loader of the decoder is in');
    assert.doesNotMatch(code, /readFileSync/, "iced-x86's Node loader is not");
    for (const id of ['execute-write-section', 'execute-pool-type']) assert.ok(code.includes(`'${id}'`) || code.includes(`"${id}"`), `rule ${id} is in`);
  });

  it('a module importing a Node built-in is caught, with its importer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hvci-bundle-'));
    const entry = join(dir, 'entry.ts');
    writeFileSync(entry, "import { readFileSync } from 'node:fs';\nimport { join } from 'path';\nexport const f = () => readFileSync(join('a', 'b'));\n");
    const { builtins } = await browserBundle(entry);
    assert.deepEqual(builtins.map((b) => b.builtin).sort(), ['node:fs', 'path']);
  });
});
