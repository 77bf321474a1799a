/**
 * The page (web/) in Debian's headless Chromium: built as `npm run build:web` builds it,
 * served from 127.0.0.1 as static files, files given to it as a person would (file picker,
 * drag and drop). It must show the verdicts and rule ids the CLI shows for the same files,
 * one line for a malformed file, and make no request beyond its own origin — and none at all
 * while it analyses (the browser is offline by then).
 *
 * Screenshots go to test-output/web/ (gitignored); docs/web-page.png is one of them.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import type { ScanReport } from '../../src/report/model.js';
import { launchBrowser, noBrowser } from '../helpers/browser.js';
import { runCli } from '../helpers/cli.js';
import { callFixtures, corpusDir, hasCorpus, imageFixtures, repoRoot } from '../helpers/paths.js';
import { readTsv } from '../helpers/tsv.js';

const work = mkdtempSync(join(tmpdir(), 'hvci-web-'));
const site = join(work, 'site');
const shots = join(repoRoot, 'test-output', 'web');

const WX = join(imageFixtures, 'wx_section.x64.mingw.sys');
const POOL = join(callFixtures, 'pool.x64.mingw-O0.sys');
const CLEAN = join(imageFixtures, 'clean_driver.x64.clang.sys');
const USER_DLL = join(imageFixtures, 'user_dll.x64.mingw.sys');
const MALFORMED = join(work, 'truncated.sys');

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.png': 'image/png', '.svg': 'image/svg+xml' };

/** dist-web/ as any static host serves it: files and their types, nothing else. */
function serve(root: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(root, path.endsWith('/') ? `${path}index.html` : path);
    try {
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

interface Row {
  file: string;
  verdict: string;
  rules: string[];
}

async function shownRows(page: Page): Promise<Row[]> {
  const rows: Row[] = [];
  for (const tr of await page.locator('#summary-rows tr').all()) {
    rows.push({
      file: (await tr.getAttribute('data-file')) ?? '',
      verdict: (await tr.getAttribute('data-verdict')) ?? '',
      rules: await tr.locator('td.rules code').allTextContents(),
    });
  }
  return rows;
}

// What the in-page functions below use (they run in the browser; this program has no DOM types).
interface InPageElement {
  id: string;
  scrollWidth: number;
  clientWidth: number;
  dispatchEvent(event: unknown): boolean;
}
declare const document: { getElementById(id: string): InPageElement | null; documentElement: InPageElement; activeElement: InPageElement | null };
declare const DataTransfer: new () => { items: { add(file: unknown): void } };
declare const DragEvent: new (type: string, init: { dataTransfer: unknown; bubbles: boolean; cancelable: boolean }) => unknown;
declare const File: new (parts: Uint8Array[], name: string) => unknown;

const base = (p: string) => p.split('/').pop() as string;

describe('the page in a real browser', { skip: noBrowser }, () => {
  let browser: BrowserContext;
  let server: Server;
  let origin: string;
  /** Every request of the browser, from the page and its worker. */
  const requests: string[] = [];

  before(async () => {
    mkdirSync(shots, { recursive: true });
    await build({ configFile: join(repoRoot, 'web', 'vite.config.ts'), logLevel: 'silent', build: { outDir: site, emptyOutDir: true } });
    // Not a PE image past its first bytes: the DOS header's e_lfanew points past the end.
    const bad = Buffer.alloc(96);
    bad.write('MZ', 0, 'latin1');
    bad.writeUInt32LE(0x4000, 0x3c);
    writeFileSync(MALFORMED, bad);
    server = await serve(site);
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchBrowser(work);
    browser.on('request', (r) => requests.push(r.url()));
  });
  after(async () => {
    await browser?.close();
    server?.close();
    console.log(`# screenshots in ${shots}`);
  });

  async function openPage(viewport?: { width: number; height: number }): Promise<Page> {
    const page = await browser.newPage();
    if (viewport) await page.setViewportSize(viewport);
    await page.goto(`${origin}/`, { waitUntil: 'load' });
    await page.locator('#status', { hasText: 'Ready' }).waitFor({ timeout: 60_000 });
    return page;
  }

  async function waitDone(page: Page, files: number) {
    await page.locator('#status', { hasText: 'Done' }).waitFor({ timeout: 300_000 });
    assert.equal(await page.locator('#summary-rows tr').count(), files, 'one row per file');
  }

  it('fixtures: the rule ids of a W+X image and an executable pool, a compatible driver, one line for a malformed file, no request while analysing', async () => {
    const page = await openPage();
    assert.ok(requests.length > 0 && requests.every((u) => u.startsWith(`${origin}/`)), `only the page's origin: ${requests.join(' ')}`);
    assert.ok(requests.some((u) => u.endsWith('.wasm')), 'the decoder was fetched from the page origin');
    // Loaded: from here on the browser has no network, and the page must not need one.
    const before = requests.length;
    await browser.setOffline(true);
    await page.setInputFiles('#pick-files', [WX, POOL, CLEAN, MALFORMED]);
    await waitDone(page, 4);
    await browser.setOffline(false);
    assert.deepEqual(requests.slice(before), [], 'no request while analysing');

    const rows = await shownRows(page);
    const byName = new Map(rows.map((r) => [base(r.file), r]));
    assert.equal(byName.get(base(WX))?.verdict, 'incompatible');
    assert.ok(byName.get(base(WX))?.rules.includes('execute-write-section'), JSON.stringify(rows));
    assert.equal(byName.get(base(POOL))?.verdict, 'incompatible');
    assert.ok(byName.get(base(POOL))?.rules.includes('execute-pool-type'), JSON.stringify(rows));
    assert.deepEqual(byName.get(base(CLEAN)), { file: base(CLEAN), verdict: 'compatible', rules: [] });
    assert.equal(byName.get(base(MALFORMED))?.verdict, 'unknown');
    // The malformed file: one line, no card.
    const line = page.locator('li.one-liner', { hasText: base(MALFORMED) });
    assert.equal(await line.count(), 1);
    assert.match((await line.textContent()) ?? '', /not analysed: .+/);
    assert.doesNotMatch((await line.textContent()) ?? '', /\n/);
    assert.equal(await page.locator(`article.card[data-file="${base(MALFORMED)}"]`).count(), 0);

    // Per file: the HTML report's section map, findings with disassembly, downloads.
    const pool = page.locator(`article.card[data-file="${base(POOL)}"]`);
    assert.equal(await pool.locator('svg.map').count(), 1, 'section map');
    assert.match((await pool.locator('pre.asm').first().textContent()) ?? '', /call/, 'disassembly of the call site');
    const wx = page.locator(`article.card[data-file="${base(WX)}"]`);
    assert.deepEqual(await wx.locator('svg.map g.sec.r-wx text').allTextContents(), ['.rwx', 'R W X']);
    const download = page.waitForEvent('download');
    await wx.locator('button[data-format="sarif"]').click();
    const sarif = JSON.parse(readFileSync((await (await download).path()) as string, 'utf8')) as { runs: Array<{ results: Array<{ ruleId: string }> }> };
    assert.ok(sarif.runs[0]?.results.some((r) => r.ruleId === 'execute-write-section'), 'SARIF download of the file');
    const all = page.waitForEvent('download');
    await page.locator('#all-downloads button[data-format="json"]').click();
    const json = JSON.parse(readFileSync((await (await all).path()) as string, 'utf8')) as ScanReport;
    assert.equal(json.files.length, 4);
    assert.equal(json.summary.incompatible, 2);

    // The top of the page (what docs/web-page.png shows), and the whole of it.
    const png = join(shots, 'fixtures.png');
    await page.setViewportSize({ width: 1100, height: 1250 });
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: png });
    await page.screenshot({ path: join(shots, 'fixtures-full.png'), fullPage: true });
    assert.ok(statSync(png).size > 20_000, 'screenshot written');
    assert.ok(requests.every((u) => u.startsWith(`${origin}/`)), `no request beyond the page origin: ${requests.join(' ')}`);
    await page.close();
  });

  it('a user-mode DLL named .sys: one line saying it is not a kernel driver, its details folded away', async () => {
    const page = await openPage();
    await page.setInputFiles('#pick-files', [USER_DLL]);
    await waitDone(page, 1);
    const line = page.locator('li.one-liner', { hasText: base(USER_DLL) });
    assert.match((await line.textContent()) ?? '', /user-mode DLL, not a kernel driver/);
    assert.equal(await page.locator(`article.card[data-file="${base(USER_DLL)}"] details:not([open]) svg.map`).count(), 1);
    await page.close();
  });

  it('drag and drop: dropped files are analysed like picked ones', async () => {
    const page = await openPage();
    const files = [WX, CLEAN].map((p) => ({ name: base(p), bytes: [...readFileSync(p)] }));
    await page.evaluate((list) => {
      const data = new DataTransfer();
      for (const f of list) data.items.add(new File([new Uint8Array(f.bytes)], f.name));
      document.getElementById('drop')?.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    }, files);
    await waitDone(page, 2);
    const rows = await shownRows(page);
    assert.deepEqual(rows.map((r) => [r.file, r.verdict]), [
      [base(WX), 'incompatible'],
      [base(CLEAN), 'compatible'],
    ]);
    await page.close();
  });

  it('a narrow window: nothing wider than the screen, and the file picker is reached with the keyboard', async () => {
    const page = await openPage({ width: 400, height: 800 });
    await page.setInputFiles('#pick-files', [WX]);
    await waitDone(page, 1);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `page scrolls sideways by ${overflow}px`);
    await page.screenshot({ path: join(shots, 'narrow.png'), fullPage: false });
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'pick-files');
    await page.close();
  });

  it('ARM64 drivers: the page decodes their code as the CLI does (issue 14)', { skip: hasCorpus ? false : `no corpus at ${corpusDir}` }, async () => {
    const drivers = [join(repoRoot, 'test', 'fixtures', 'arm64', 'bin', 'wx_section.arm64.clang.sys'), join(corpusDir, 'systeminformer', 'arm64', 'systeminformer.sys')];
    const cli = JSON.parse(runCli(['scan', '--format', 'json', '--jobs', '1', ...drivers]).stdout) as ScanReport;
    assert.deepEqual(cli.files.map((f) => f.callSiteAnalysis), ['complete', 'complete']);
    const page = await openPage();
    await page.setInputFiles('#pick-files', drivers);
    await waitDone(page, drivers.length);
    const expected = cli.files.map((f) => ({ file: base(f.path), verdict: f.verdict, rules: [...new Set(f.findings.filter((x) => x.severity !== 'note').map((x) => x.ruleId))] }));
    assert.deepEqual(await shownRows(page), expected);
    // System Informer's notes name the ARM64 call instruction, and no "image rules only".
    const card = page.locator('article.card[data-file="systeminformer.sys"]');
    assert.match((await card.textContent()) ?? '', /"instruction": "blr x\d+"/);
    assert.doesNotMatch((await card.textContent()) ?? '', /image rules only/);
    await page.close();
  });

  it('corpus drivers: the page shows the verdicts and rule ids of `hvci scan`', { skip: hasCorpus ? false : `no corpus at ${corpusDir}` }, async () => {
    // A driver the corpus's facts list with a W+X INIT section, and the first others.
    const initRwxDriver = 'binskim/Native_x64_VS2013_KernelModeDriver.sys';
    const facts = readTsv(join(corpusDir, 'facts.tsv')).find((r) => r.path === initRwxDriver);
    assert.equal(facts?.wx_sections, 'INIT');
    const others = readTsv(join(corpusDir, 'MANIFEST.tsv')).filter((r) => r.kind === 'driver' && r.path !== initRwxDriver);
    const drivers = [initRwxDriver, ...others.slice(0, 11).map((r) => r.path as string)].map((p) => join(corpusDir, p));
    assert.ok(drivers.length >= 5);
    const cli = JSON.parse(runCli(['scan', '--format', 'json', '--jobs', '1', ...drivers]).stdout) as ScanReport;
    const page = await openPage();
    await page.setInputFiles('#pick-files', drivers);
    await waitDone(page, drivers.length);
    const expected = cli.files.map((f) => ({
      file: base(f.path),
      verdict: f.verdict,
      rules: [...new Set(f.findings.filter((x) => x.severity !== 'note').map((x) => x.ruleId))],
    }));
    assert.deepEqual(await shownRows(page), expected);
    // The W+X INIT section: the rule book tolerates it with a warning (rule init-section-rwx).
    assert.deepEqual((await shownRows(page))[0], { file: base(initRwxDriver), verdict: 'warnings', rules: ['init-section-rwx'] });
    await page.screenshot({ path: join(shots, 'corpus.png'), fullPage: false });
    await page.close();
  });
});
