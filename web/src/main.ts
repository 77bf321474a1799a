/**
 * The page: files in (picker, folder picker, drag and drop), the worker analyses them one
 * at a time, each result is shown with the HTML report's own file section (verdict, section
 * map, findings with evidence and disassembly). Nothing leaves the browser.
 */
import { esc, fileSection } from '../../src/report/html.js';
import type { FileReport, Verdict } from '../../src/report/model.js';
import type { FromWorker, ReportFormat, ToWorker } from './protocol.js';
import 'virtual:report.css';

/** The CLI's default --max-file-size: larger files are refused before they are read. */
const MAX_FILE_SIZE = 256 * 1024 * 1024;
/** A dropped folder is walked at most this deep and this wide (a hostile tree cannot hang the page). */
const MAX_DEPTH = 32;
const MAX_FILES = 100_000;

interface Input {
  file: File;
  path: string;
  /** From a folder: analysed only if it is a PE image, as `hvci scan DIR` does. */
  fromFolder: boolean;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $('status');
const bar = $<HTMLProgressElement>('bar');
const results = $('results');
const rows = $('summary-rows');
const oneLiners = $('one-liners');
const filesView = $('files');
const totals = $('totals');

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const send = (message: ToWorker, transfer: Transferable[] = []) => worker.postMessage(message, transfer);

const reports: FileReport[] = [];
let skipped = 0;
let nextId = 0;
let ready = false;
const queue: Input[] = [];
let batch = { total: 0, done: 0 };
let busy = false;
const pendingAnalysis = new Map<number, (message: FromWorker) => void>();
const pendingRender = new Map<number, { name: string; format: ReportFormat }>();

worker.onmessage = (event: MessageEvent<FromWorker>) => {
  const m = event.data;
  if (m.type === 'ready') {
    ready = true;
    setStatus('Ready. Drop files or a folder, or choose them.');
    void pump();
  } else if (m.type === 'init-failed') {
    setStatus(`The disassembler could not be loaded: ${m.error}`);
  } else if (m.type === 'rendered' || m.type === 'render-failed') {
    const what = pendingRender.get(m.id);
    pendingRender.delete(m.id);
    if (!what) return;
    if (m.type === 'rendered') download(what.name, m.text, what.format);
    else setStatus(`The ${what.format.toUpperCase()} report could not be written: ${m.error}`);
  } else {
    pendingAnalysis.get(m.id)?.(m);
    pendingAnalysis.delete(m.id);
  }
};
worker.onerror = (e) => setStatus(`The analysis stopped: ${e.message}`);
send({ type: 'init' });

function setStatus(text: string): void {
  status.textContent = text;
}

/** Adds files to the queue; they are analysed one at a time, in order. */
function enqueue(inputs: Input[]): void {
  if (inputs.length === 0) return;
  if (!busy) batch = { total: 0, done: 0 };
  queue.push(...inputs);
  batch.total += inputs.length;
  bar.hidden = false;
  showProgress();
  void pump();
}

function showProgress(current?: string): void {
  bar.max = Math.max(batch.total, 1);
  bar.value = batch.done;
  setStatus(current ? `Checking ${batch.done + 1} of ${batch.total}: ${current}` : `Checked ${batch.done} of ${batch.total} files.`);
}

async function pump(): Promise<void> {
  if (busy || !ready || queue.length === 0) return;
  busy = true;
  try {
    for (let input = queue.shift(); input; input = queue.shift()) {
      showProgress(input.path);
      await analyseOne(input);
      batch.done++;
    }
  } finally {
    busy = false;
  }
  showProgress();
  setStatus(`Done: ${summaryText()}`);
}

async function analyseOne(input: Input): Promise<void> {
  if (input.file.size > MAX_FILE_SIZE) {
    if (input.fromFolder) return; // the CLI skips what it would not read, too
    addOneLiner(input.path, `not analysed: ${input.file.size} bytes is over the 256 MiB limit`);
    return;
  }
  let bytes: ArrayBuffer;
  try {
    bytes = await input.file.arrayBuffer();
  } catch (e) {
    addOneLiner(input.path, `could not be read: ${e instanceof Error ? e.message : String(e)}`);
    return;
  }
  const id = nextId++;
  const answer = await new Promise<FromWorker>((resolve) => {
    pendingAnalysis.set(id, resolve);
    send({ type: 'analyze', id, name: input.path, bytes, onlyPe: input.fromFolder }, [bytes]);
  });
  if (answer.type === 'skipped') skipped++;
  else if (answer.type === 'analyzed') show(answer.report);
}

const VERDICT_WORD: Record<Verdict, string> = { incompatible: 'Incompatible', warnings: 'Warnings', compatible: 'Compatible', unknown: 'Not analysed' };
const KIND_WORD: Record<string, string> = { dll: 'a user-mode DLL', exe: 'a user-mode program', efi: 'a UEFI image', unknown: 'not a kernel driver' };

function show(report: FileReport): void {
  const index = reports.push(report) - 1;
  results.hidden = false;
  const ruleIds = [...new Set(report.findings.filter((f) => f.severity !== 'note').map((f) => f.ruleId))];
  const row = document.createElement('tr');
  row.dataset.file = report.path;
  row.dataset.verdict = report.verdict;
  row.innerHTML = `<td><a href="#file-${index}">${esc(report.path)}</a></td><td><span class="badge v-${report.verdict}">${VERDICT_WORD[report.verdict]}</span></td><td class="rules">${
    ruleIds.map((id) => `<code>${esc(id)}</code>`).join(' ') || '—'
  }</td>`;
  rows.append(row);
  if (report.status === 'error') {
    addOneLiner(report.path, `not analysed: ${report.error ?? 'unknown error'}`, index);
  } else {
    const card = document.createElement('article');
    card.className = 'card';
    card.dataset.file = report.path;
    const notDriver = !report.kernelMode;
    // Not a driver: one line, with the details folded away.
    if (notDriver) addOneLiner(report.path, `${KIND_WORD[report.kind] ?? report.kind}, not a kernel driver: Memory Integrity governs kernel-mode code only`, index);
    card.innerHTML = `${notDriver ? `<details><summary>Details of ${esc(report.path)}</summary>` : ''}${fileSection(report, index)}${downloadButtons(index)}${notDriver ? '</details>' : ''}`;
    filesView.append(card);
  }
  totals.textContent = summaryText();
}

function addOneLiner(path: string, text: string, index?: number): void {
  results.hidden = false;
  const li = document.createElement('li');
  li.className = 'one-liner';
  li.dataset.file = path;
  li.innerHTML = `<code>${esc(path)}</code> — ${esc(text)}`;
  if (index !== undefined) li.id = `file-${index}`;
  oneLiners.append(li);
}

function downloadButtons(index: number): string {
  return `<p class="downloads" data-index="${index}">This file: ${(['json', 'sarif', 'html'] as const)
    .map((f) => `<button type="button" data-format="${f}">${f.toUpperCase()} report</button>`)
    .join(' ')}</p>`;
}

function summaryText(): string {
  const count = (v: Verdict) => reports.filter((r) => r.verdict === v).length;
  const parts = [`${reports.length} file${reports.length === 1 ? '' : 's'} checked`, `${count('incompatible')} incompatible`, `${count('warnings')} with warnings`, `${count('compatible')} compatible`];
  if (count('unknown')) parts.push(`${count('unknown')} not analysed`);
  if (skipped) parts.push(`${skipped} skipped (not PE images)`);
  return `${parts.join(', ')}.`;
}

/** Downloads: the worker writes the report as `hvci scan -f FORMAT` would, the page saves it. */
document.addEventListener('click', (event) => {
  const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-format]');
  if (!button) return;
  const format = button.dataset.format as ReportFormat;
  const holder = button.closest<HTMLElement>('[data-index]');
  const files = holder ? [reports[Number(holder.dataset.index)] as FileReport] : reports;
  if (files.length === 0) return;
  const id = nextId++;
  const stem = holder ? baseName(files[0]?.path ?? 'file') : 'hvci-report';
  pendingRender.set(id, { name: `${stem}.${format === 'sarif' ? 'sarif' : format}`, format });
  send({ type: 'render', id, format, files, skipped: holder ? 0 : skipped });
});

$('clear').addEventListener('click', () => {
  reports.length = 0;
  skipped = 0;
  rows.replaceChildren();
  oneLiners.replaceChildren();
  filesView.replaceChildren();
  results.hidden = true;
  bar.hidden = true;
  setStatus('Ready. Drop files or a folder, or choose them.');
});

const MIME: Record<ReportFormat, string> = { json: 'application/json', sarif: 'application/sarif+json', html: 'text/html' };

function download(name: string, text: string, format: ReportFormat): void {
  const url = URL.createObjectURL(new Blob([text], { type: MIME[format] }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function baseName(path: string): string {
  return path.replace(/\\/g, '/').split('/').pop() || 'file';
}

// Inputs: the two pickers and drag and drop (files or folders) anywhere on the page.
for (const id of ['pick-files', 'pick-folder']) {
  const input = $<HTMLInputElement>(id);
  input.addEventListener('change', () => {
    const fromFolder = id === 'pick-folder';
    enqueue([...(input.files ?? [])].map((file) => ({ file, path: fromFolder && file.webkitRelativePath ? file.webkitRelativePath : file.name, fromFolder })));
    input.value = '';
  });
}

const drop = $('drop');
document.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
document.addEventListener('dragleave', (e) => {
  if (e.relatedTarget === null) drop.classList.remove('over');
});
document.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  void droppedInputs(e.dataTransfer).then(enqueue);
});

async function droppedInputs(data: DataTransfer | null): Promise<Input[]> {
  if (!data) return [];
  const entries = [...data.items].map((item) => item.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  if (entries.length === 0) return [...data.files].map((file) => ({ file, path: file.name, fromFolder: false }));
  const out: Input[] = [];
  for (const entry of entries) await walk(entry, 0, false, out);
  return out;
}

async function walk(entry: FileSystemEntry, depth: number, inFolder: boolean, out: Input[]): Promise<void> {
  if (out.length >= MAX_FILES) return;
  if (entry.isFile) {
    const file = await new Promise<File | undefined>((resolve) => (entry as FileSystemFileEntry).file(resolve, () => resolve(undefined)));
    if (file) out.push({ file, path: inFolder ? entry.fullPath.replace(/^\//, '') : file.name, fromFolder: inFolder });
    return;
  }
  if (!entry.isDirectory || depth >= MAX_DEPTH) return;
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries returns the listing in pieces; an empty piece ends it.
  for (;;) {
    const piece = await new Promise<FileSystemEntry[]>((resolve) => reader.readEntries(resolve, () => resolve([])));
    if (piece.length === 0) break;
    for (const child of piece) await walk(child, depth + 1, true, out);
  }
}
