/**
 * Opens the HTML report of a real scan in headless Chromium (Debian's /usr/bin/chromium,
 * driven by playwright-core; no browser download), records every request the page makes,
 * and screenshots it. The page must load with no request but itself and show a section map.
 *
 * CI (.ci/run) installs chromium, and with CI set a missing browser is a failure; on a
 * developer machine without it the test is skipped with a message saying how to install it.
 * Screenshots are kept in $HVCI_SCREENSHOT_DIR (default: a fresh temp directory, printed).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import { launchBrowser, noBrowser as skip } from '../helpers/browser.js';
import { runCli } from '../helpers/cli.js';
import { corpusDir } from '../helpers/paths.js';
import { corpusSkip } from '../helpers/corpus.js';

const work = mkdtempSync(join(tmpdir(), 'hvci-html-'));
const shots = process.env.HVCI_SCREENSHOT_DIR ?? join(work, 'screenshots');

describe('HTML report in a real browser', { skip }, () => {
  let browser: BrowserContext;
  before(async () => {
    mkdirSync(shots, { recursive: true });
    browser = await launchBrowser(work);
  });
  after(async () => {
    await browser?.close();
    console.log(`# screenshots in ${shots}`);
  });

  async function open(htmlPath: string, shot: string) {
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const url = pathToFileURL(htmlPath).href;
    const response = await page.goto(url, { waitUntil: 'load' });
    assert.ok(response, 'the page loaded');
    const png = join(shots, shot);
    await page.screenshot({ path: png, fullPage: false });
    return { page, requests, url, png };
  }

  it('fixtures: loads with no request but the file itself, and shows section maps with findings marked', async () => {
    const html = join(work, 'fixtures.html');
    const r = runCli(['scan', '--format', 'html', '-o', html, 'test/fixtures/image/bin/wx_section.x64.mingw.sys', 'test/fixtures/fingerprint/bin/base.x64.mingw.sys', 'test/fixtures/image/bin/clean_driver.x64.clang.sys']);
    assert.equal(r.status, 1, r.stderr);
    const { page, requests, url, png } = await open(html, 'fixtures.png');
    assert.deepEqual(requests, [url], 'no request other than the report itself');
    assert.equal(await page.locator('svg.map').count(), 3, 'one section map per analysed file');
    // The W+X section is drawn red and wide enough to carry its name and rights.
    const rwx = page.locator('section#file-0 svg.map g.sec.r-wx');
    assert.equal(await rwx.count(), 1);
    assert.deepEqual(await rwx.locator('text').allTextContents(), ['.rwx', 'R W X']);
    const box = await page.locator('section#file-0 svg.map').boundingBox();
    assert.ok(box && box.width > 600 && box.height > 60, `map is visible: ${JSON.stringify(box)}`);
    assert.ok((await page.locator('section#file-0 svg.map g.marker').count()) >= 1, 'finding marker on the map');
    assert.match((await page.locator('section#file-1 pre.asm').first().textContent()) ?? '', /call/, 'disassembly of the call site');
    assert.ok(statSync(png).size > 10_000, 'screenshot written');
    await page.close();
  });

  it('corpus: the whole report opens with no network request', { skip: corpusSkip() }, async () => {
    const html = join(work, 'corpus.html');
    runCli(['scan', '--format', 'html', '-o', html, corpusDir]);
    const { page, requests, url } = await open(html, 'corpus.png');
    assert.deepEqual(requests, [url]);
    assert.ok((await page.locator('svg.map').count()) > 50);
    assert.ok((await page.locator('table.summary tbody tr').count()) > 50);
    await page.close();
  });
});
