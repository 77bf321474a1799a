/** --source-map and --source-root: a build machine's paths as paths of this checkout. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pdbPathsFor, sourcePathMapper } from '../../src/cli/pdb-lookup.js';
import { runCli } from '../helpers/cli.js';

describe('source paths of PDBs built elsewhere', () => {
  it('--source-map replaces a prefix, without regard to case or slash direction', () => {
    const map = sourcePathMapper({ sourceMaps: [{ from: 'd:/A/drv/', to: 'checkout' }] });
    assert.equal(map('D:\\a\\drv\\src\\rx.c'), 'checkout/src/rx.c');
    assert.equal(map('D:\\a\\drvx\\src\\rx.c'), 'D:\\a\\drvx\\src\\rx.c', 'a prefix ends at a path separator');
    assert.equal(map('C:\\Program Files (x86)\\Windows Kits\\10\\Include\\km\\wdm.h'), 'C:\\Program Files (x86)\\Windows Kits\\10\\Include\\km\\wdm.h');
  });

  it('--source-root finds the longest tail of the build path that exists in the checkout', () => {
    const map = sourcePathMapper({ sourceRoot: 'test/fixtures/pdb', sourceMaps: [] });
    assert.equal(map('D:\\a\\drv\\src\\rx.c'), 'test/fixtures/pdb/src/rx.c');
    assert.equal(map('D:\\a\\drv\\src\\missing.c'), 'D:\\a\\drv\\src\\missing.c', 'not here: left as the PDB names it');
  });

  it('the PDB is looked for by the debug record name and the driver name, beside the driver and in --pdb directories', () => {
    const settings = { pdbPaths: [], lookup: true, sourceMaps: [], maxFileSize: 1 << 30 };
    const codeView = { pdbPath: 'D:\\x5ca\\x5cdrv\\x5cout\\x5crxdrv.x86.pdb', guid: '', age: 1 };
    // a driver renamed after the build: its record still names rxdrv.x86.pdb, found beside it
    const found = pdbPathsFor(settings, 'test/fixtures/pdb/bin/renamed.sys', codeView);
    assert.deepEqual(found.map((p) => p.split('/').slice(-2).join('/')), ['bin/rxdrv.x86.pdb']);
    assert.deepEqual(pdbPathsFor({ ...settings, lookup: false }, 'test/fixtures/pdb/bin/rxdrv.x86.sys', codeView), []);
  });

  it('a --pdb or --source-root that does not exist is a usage error (exit 2)', () => {
    const r = runCli(['scan', '--pdb', 'no/such.pdb', 'test/fixtures/pdb/bin/rxdrv.x64.sys']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--pdb no\/such\.pdb: no such file or directory/);
  });
});
