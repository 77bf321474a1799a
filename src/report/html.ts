/**
 * The HTML report: one self-contained page (inline CSS and SVG, no script, no external
 * request — a Content-Security-Policy forbids them) that admins and support staff can read
 * and send. Built from the same ScanReport as every other format. Pure.
 *
 * Per file: verdict, what the image is, a map of the image's layout (sections drawn to
 * scale by RVA with their R/W/X rights, findings marked where they point), and each
 * finding with its place, fix, evidence and disassembly.
 */
import { type FileReport, type Finding, type ImageFacts, type ScanReport, type Verdict, verdictQualifier } from './model.js';
import { visible } from './terminal-safe.js';
import { type ReportHead, type ReportWriter, renderWith } from './writer.js';
import { signatureLine, versionLine } from './provenance.js';
import { evidenceSource, pdbLine, sourceText } from './source-text.js';
import { hex } from '../pe/index.js';

export interface HtmlOptions {
  /** Page title; default "hvci report". */
  title?: string;
  /** Shown in the header, e.g. the time of the scan (the renderer never reads a clock). */
  generated?: string;
}

const VERDICT_LABEL: Record<Verdict, string> = {
  incompatible: 'Incompatible',
  warnings: 'Warnings',
  compatible: 'Compatible',
  unknown: 'Not analysed',
};

const KIND_LABEL: Record<string, string> = {
  driver: 'kernel driver',
  dll: 'user-mode DLL',
  exe: 'user-mode program',
  efi: 'UEFI image',
  'not-pe': 'not a PE image',
  unknown: 'unknown',
};

const MAP_WIDTH = 960;
const MAP_LEFT = 8;
const BAR_Y = 34;
const BAR_H = 44;

/** Renders the whole report as one HTML document. */
export function renderHtml(report: ScanReport, options: HtmlOptions = {}): string {
  return renderWith(htmlWriter(options), report);
}

/**
 * HTML, streamed: each file's section is written as it is analysed; the header with the
 * totals and the summary table (one short row per file is all that is kept) come last and
 * are shown first by CSS order — the page has no script.
 */
export function htmlWriter(options: HtmlOptions = {}): ReportWriter {
  const title = options.title ?? 'hvci report';
  const rows: string[] = [];
  let tool: ReportHead['tool'] = { name: 'hvci', version: '', informationUri: '' };
  return {
    begin: (head) => {
      tool = head.tool;
      return `${htmlDocumentStart(title, CSS)}\n<div class="page">\n`;
    },
    file: (f) => {
      const i = rows.length;
      rows.push(summaryRow(f, i));
      return `${fileSection(f, i)}\n`;
    },
    end: (tail) => {
      const s = tail.summary;
      return [
        tail.walkErrors.length
          ? `<section><h2>Paths that could not be read</h2><ul>${tail.walkErrors.map((w) => `<li><code>${esc(w.path)}</code>: ${esc(w.error)}</li>`).join('')}</ul></section>`
          : '',
        `<header><h1>${esc(title)}</h1>`,
        `<p class="meta">${esc(tool.name)} ${esc(tool.version)} · target OS ${esc(s.targetOs)} · fail on ${esc(s.failOn)} · exit code ${s.exitCode}${
          options.generated ? ` · ${esc(options.generated)}` : ''
        }</p>`,
        `<p class="totals">${s.files} file${s.files === 1 ? '' : 's'} (${s.kernelDrivers} kernel-mode): `,
        `<span class="v-incompatible">${s.incompatible} incompatible</span>, <span class="v-warnings">${s.warnings} with warnings</span>, `,
        `<span class="v-compatible">${s.compatible} compatible</span>${s.errors ? `, <span class="v-unknown">${s.errors} not analysed</span>` : ''}.`,
        `${s.suppressed ? ` ${s.suppressed} finding${s.suppressed === 1 ? '' : 's'} suppressed (baseline or config).` : ''}</p></header>`,
        `<section class="summary-section"><h2>Summary</h2><table class="summary"><thead><tr><th>file</th><th>kind</th><th>machine</th><th>verdict</th><th>errors</th><th>warnings</th><th>notes</th></tr></thead><tbody>${rows.join(
          '',
        )}</tbody></table></section>`,
        `<footer>Severities: <b>error</b> — Windows refuses or breaks the driver under Memory Integrity (HVCI); <b>warning</b> — depends on the Windows version or rests on an unconfirmed fact; <b>note</b> — information. Rule pages: <code>docs/rules/&lt;rule&gt;.md</code>, or <code>hvci rules &lt;rule&gt;</code>.</footer>`,
        '</div>',
        '</body>',
        '</html>',
        '',
      ].join('\n');
    },
  };
}

/**
 * The start of a self-contained page, up to and including `<body>`: no script may run and
 * nothing may be fetched (the Content-Security-Policy forbids both). Shared by every HTML report.
 */
export function htmlDocumentStart(title: string, css: string): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title>`,
    `<style>${css}</style>`,
    '</head>',
    '<body>',
  ].join('\n');
}

function summaryRow(f: FileReport, i: number): string {
  const count = (sev: string) => f.findings.filter((x) => x.severity === sev).length;
  return `<tr><td><a href="#file-${i}">${esc(f.path)}</a></td><td>${esc(KIND_LABEL[f.kind] ?? f.kind)}</td><td>${esc(f.machine)}</td><td>${verdictBadge(
    f.verdict,
    f,
  )}</td><td class="num">${count('error')}</td><td class="num">${count('warning')}</td><td class="num">${count('note')}</td></tr>`;
}

function verdictBadge(v: Verdict, file?: FileReport): string {
  const qualifier = file ? verdictQualifier(file) : undefined;
  const label = qualifier ? `compatible (${esc(qualifier)})` : VERDICT_LABEL[v];
  return `<span class="badge v-${v}">${label}</span>`;
}

/** One file's part of the report (the page in web/ shows each file with it). */
export function fileSection(file: FileReport, index: number): string {
  const parts = [`<section class="file" id="file-${index}">`, `<h2>${verdictBadge(file.verdict, file)} <code>${esc(file.path)}</code></h2>`];
  if (file.status === 'error') {
    parts.push(`<p class="error">Could not be analysed: ${esc(file.error ?? 'unknown error')}</p></section>`);
    return parts.join('\n');
  }
  const facts = [
    `${esc(KIND_LABEL[file.kind] ?? file.kind)}${file.kindReason ? ` (${esc(file.kindReason)})` : ''}`,
    `${esc(file.machine)} ${esc(file.format ?? '')}`,
    `${file.size} bytes`,
    `SHA-256 <code>${esc(file.sha256)}</code>`,
  ];
  parts.push(`<p class="meta">${facts.join(' · ')}</p>`);
  const version = versionLine(file.version);
  if (version) parts.push(`<p class="meta">Version: ${esc(version)}</p>`);
  const signed = signatureLine(file.signature);
  if (signed) parts.push(`<p class="meta">Signature: ${esc(signed)}</p>`);
  const pdb = pdbLine(file);
  if (pdb) parts.push(`<p class="${file.pdb?.status === 'used' ? 'meta' : 'note'}">${esc(pdb)}</p>`);
  if (!file.kernelMode) parts.push('<p class="note">Not a kernel-mode image: HVCI governs kernel code, so these findings are for information.</p>');
  if (file.callSiteAnalysis !== 'complete') {
    parts.push(
      `<p class="note">${
        file.callSiteAnalysis === 'unsupported-machine'
          ? `${esc(file.machine)}: image rules only — call-site analysis is not available for this machine.`
          : file.callSiteAnalysis === 'incomplete'
            ? 'Call-site analysis incomplete: the verdict covers only what was analysed.'
            : 'Image rules only — call sites were not analysed.'
      }</p>`,
    );
  }
  const incomplete = file.incompleteAnalysis ?? [];
  if (incomplete.length > 0) {
    parts.push(`<ul class="incomplete">${incomplete.map((i) => `<li class="note">Not finished: <b>${esc(i.ruleId ?? i.part)}</b> — ${esc(i.reason)}</li>`).join('')}</ul>`);
  }
  const notApplied = file.rulesNotApplied ?? [];
  if (notApplied.length > 0) {
    // Grouped by reason: on an undecoded machine (ARMNT) a dozen code rules share one.
    const byReason = new Map<string, string[]>();
    for (const n of notApplied) byReason.set(n.reason, [...(byReason.get(n.reason) ?? []), n.ruleId]);
    const items = [...byReason].map(([reason, ids]) => `<li class="note">Not applied: <b>${esc(ids.join(', '))}</b> — ${esc(reason)}</li>`);
    parts.push(`<details class="not-applied"><summary>${notApplied.length} rule${notApplied.length === 1 ? '' : 's'} not applied</summary><ul>${items.join('')}</ul></details>`);
  }
  if (file.image) parts.push(sectionMap(file.image, file.findings, index));
  if (file.findings.length === 0) parts.push('<p class="ok">No findings.</p>');
  else parts.push(`<ol class="findings">${file.findings.map((f, i) => findingItem(f, index, i)).join('\n')}</ol>`);
  const suppressed = file.suppressed ?? [];
  if (suppressed.length > 0) {
    parts.push(
      `<details class="suppressed"><summary>${suppressed.length} suppressed finding${suppressed.length === 1 ? '' : 's'}</summary><ul>${suppressed
        .map((f) => `<li><b>${esc(f.ruleId)}</b> ${esc(f.message)} <i>(${esc(f.suppression?.kind ?? '')}: ${esc(f.suppression?.reason ?? '')})</i></li>`)
        .join('')}</ul></details>`,
    );
  }
  if (file.problems.length > 0) {
    parts.push(
      `<details><summary>${file.problems.length} structural problem${file.problems.length === 1 ? '' : 's'} tolerated</summary><ul>${file.problems
        .map((p) => `<li><code>${esc(p.code)}</code> ${esc(p.message)}${p.offset === undefined ? '' : ` (file offset ${hex(p.offset)})`}</li>`)
        .join('')}</ul></details>`,
    );
  }
  parts.push('</section>');
  return parts.join('\n');
}

interface MapSection {
  name: string;
  va: number;
  size: number;
  characteristics: string;
  rights: string;
}

/** Sections drawn to scale over [0, SizeOfImage), coloured by rights, findings marked. */
export function sectionMap(image: ImageFacts, findings: readonly Finding[], fileIndex: number): string {
  // Memory protection is per page: draw what the loader maps, VirtualSize (or the raw size
  // when VirtualSize is 0) rounded up to SectionAlignment.
  const alignment = Number(image.sectionAlignment) > 0 ? Number(image.sectionAlignment) : 1;
  const sections: MapSection[] = image.sections.map((s) => {
    const size = Number(s.virtualSize) || Number(s.sizeOfRawData);
    return {
      // A COFF long name ("/4") is shown by its full name from the string table.
      name: s.longName ?? s.name,
      va: Number(s.virtualAddress),
      size: Math.ceil(size / alignment) * alignment,
      characteristics: s.characteristics,
      rights: s.rights,
    };
  });
  const end = Math.max(Number(image.sizeOfImage), ...sections.map((s) => s.va + s.size), 1);
  const scale = (rva: number) => MAP_LEFT + (Math.min(Math.max(rva, 0), end) / end) * MAP_WIDTH;
  const firstVa = sections.length ? Math.min(...sections.map((s) => s.va)) : end;
  const shapes: string[] = [];
  // Headers (0 .. first section): read-only.
  if (firstVa > 0) shapes.push(rect(scale(0), scale(firstVa) - scale(0), 'headers', 'r-headers', `headers 0x0–${hex(firstVa)}`));
  for (const s of sections) {
    const x = scale(s.va);
    const w = Math.max(scale(s.va + s.size) - x, 2);
    const cls = rightsClass(s.rights);
    shapes.push(rect(x, w, s.name || '(unnamed)', cls, `${s.name || '(unnamed)'} RVA ${hex(s.va)} size ${hex(s.size)} ${s.characteristics} ${s.rights}`, s.rights));
  }
  const markers = findings
    .map((f, i) => ({ f, i }))
    .filter(({ f }) => f.rva !== undefined)
    .map(({ f, i }) => {
      const x = scale(f.rva as number);
      const sev = f.severity;
      return `<a href="#finding-${fileIndex}-${i}"><g class="marker m-${sev}"><title>${esc(`#${i + 1} ${f.ruleId} at RVA ${hex(f.rva as number)}`)}</title><path d="M${fmt(x)} ${BAR_Y - 2} l-6 -11 h12 z"/><text x="${fmt(x)}" y="${BAR_Y - 16}" text-anchor="middle">${i + 1}</text></g></a>`;
    });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((t) => {
    const rva = Math.round(end * t);
    return `<text class="tick" x="${fmt(scale(rva))}" y="${BAR_Y + BAR_H + 30}" text-anchor="${t === 0 ? 'start' : t === 1 ? 'end' : 'middle'}">${hex(rva)}</text>`;
  });
  const height = BAR_Y + BAR_H + 36;
  const svg = `<svg class="map" role="img" aria-label="Section map" viewBox="0 0 ${MAP_WIDTH + 2 * MAP_LEFT} ${height}" width="${MAP_WIDTH + 2 * MAP_LEFT}" height="${height}" xmlns="http://www.w3.org/2000/svg">${shapes.join(
    '',
  )}${markers.join('')}${ticks.join('')}</svg>`;
  const legend =
    '<p class="legend"><span class="sw r-wx"></span> writable + executable <span class="sw r-x"></span> executable <span class="sw r-w"></span> writable <span class="sw r-r"></span> read-only <span class="sw r-headers"></span> headers · ▼ finding (number = list below) · scale: RVA 0 to SizeOfImage</p>';
  const rows = sections
    .map(
      (s) =>
        `<tr><td><span class="sw ${rightsClass(s.rights)}"></span> <code>${esc(s.name || '(unnamed)')}</code></td><td>${hex(s.va)}</td><td>${hex(s.size)}</td><td><code>${esc(
          s.characteristics,
        )}</code></td><td>${esc(s.rights)}</td></tr>`,
    )
    .join('');
  return `<figure class="layout"><figcaption>Image layout as mapped (SizeOfImage ${esc(image.sizeOfImage)}; sections rounded up to SectionAlignment ${esc(image.sectionAlignment)})</figcaption>${svg}${legend}<table class="sections"><thead><tr><th>section</th><th>RVA</th><th>mapped size</th><th>characteristics</th><th>rights</th></tr></thead><tbody>${rows}</tbody></table></figure>`;
}

function rect(x: number, w: number, label: string, cls: string, title: string, rights?: string): string {
  const text = w > 34 ? `<text x="${fmt(x + w / 2)}" y="${BAR_Y + 19}" text-anchor="middle">${esc(truncate(label, Math.floor(w / 7)))}</text>` : '';
  const rightsText = rights && w > 34 ? `<text class="rights" x="${fmt(x + w / 2)}" y="${BAR_Y + 36}" text-anchor="middle">${esc(rights)}</text>` : '';
  return `<g class="sec ${cls}"><title>${esc(title)}</title><rect x="${fmt(x)}" y="${BAR_Y}" width="${fmt(w)}" height="${BAR_H}" rx="2"/>${text}${rightsText}</g>`;
}

function rightsClass(rights: string): string {
  const w = rights.includes('W');
  const x = rights.includes('X');
  return w && x ? 'r-wx' : x ? 'r-x' : w ? 'r-w' : 'r-r';
}

function findingItem(f: Finding, fileIndex: number, i: number): string {
  const source = sourceText(f.source);
  const where = [
    source === undefined ? undefined : `<code class="source">${esc(source)}</code>${f.source?.function === undefined ? '' : ` in <code>${esc(f.source.function)}</code>`}`,
    f.rva === undefined ? undefined : `RVA ${hex(f.rva)}`,
    f.section === undefined ? undefined : `section ${esc(f.section === '' ? '(unnamed)' : f.section)}`,
    typeof f.evidence?.function === 'string' ? `function <code>${esc(f.evidence.function)}</code>` : undefined,
    f.fileOffset === undefined ? undefined : `file offset ${hex(f.fileOffset)}`,
  ].filter(Boolean);
  const asm = disassembly(f);
  const evidence = f.evidence === undefined ? '' : `<details><summary>evidence</summary><pre class="evidence">${JSON.stringify(f.evidence, null, 2).split('\n').map(esc).join('\n')}</pre></details>`;
  return [
    `<li id="finding-${fileIndex}-${i}" class="finding s-${f.severity}">`,
    `<p><span class="sev">${f.severity}</span> <b>${esc(f.ruleId)}</b> ${esc(f.message)}</p>`,
    where.length ? `<p class="where">at ${where.join(' · ')}</p>` : '',
    `<p class="fix"><b>Fix:</b> ${esc(f.fix)} <span class="docs">(${esc(f.docs)})</span></p>`,
    asm,
    evidence,
    f.fingerprint ? `<p class="fp">fingerprint <code>${esc(f.fingerprint)}</code></p>` : '',
    '</li>',
  ].join('');
}

/** The instructions that prove a call-site finding, when the evidence carries them. */
function disassembly(f: Finding): string {
  const ev = f.evidence ?? {};
  const lines: string[] = [];
  if (Array.isArray(ev.instructions)) {
    for (const insn of ev.instructions as Array<{ rva?: unknown; text?: unknown }>) {
      if (typeof insn.text === 'string') lines.push(`${typeof insn.rva === 'string' ? insn.rva.padEnd(10) : ''} ${insn.text}${stepSource(insn)}`);
    }
  }
  const call = ev.call as { rva?: unknown; text?: unknown } | undefined;
  if (call && typeof call.text === 'string') lines.push(`${typeof call.rva === 'string' ? call.rva.padEnd(10) : ''} ${call.text}${stepSource(call)}`);
  const path = Array.isArray(ev.path) ? (ev.path as Array<{ function?: unknown }>).filter((p) => typeof p.function === 'string') : [];
  const entry = (p: { function?: unknown }) => {
    const at = sourceText(evidenceSource(p));
    return at === undefined ? (p.function as string) : `${p.function as string} (${at})`;
  };
  if (path.length > 1) lines.push(`path: ${path.map(entry).join(' → ')}`);
  // Each line escaped on its own: esc() would show the newlines between them as \x0A.
  return lines.length ? `<pre class="asm">${lines.map(esc).join('\n')}</pre>` : '';
}

/** "  ; src/rx.c:142" after an instruction the PDB places. */
function stepSource(x: unknown): string {
  const text = sourceText(evidenceSource(x));
  return text === undefined ? '' : `  ; ${text}`;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, Math.max(1, max - 1))}…`;
}

/** HTML-escaped, with control and bidi characters from the file shown as visible escapes. */
export function esc(s: string): string {
  return visible(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const CSS = `
:root { color-scheme: light; --red:#c62828; --amber:#b26a00; --green:#2e7d32; --grey:#5f6368; }
* { box-sizing: border-box; }
.page { display: flex; flex-direction: column; }
.page > header { order: -2; } .page > .summary-section { order: -1; } .page > footer { order: 1; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 1040px; padding: 16px 24px 48px; color: #202124; background: #fff; }
h1 { font-size: 22px; margin: 8px 0 4px; } h2 { font-size: 17px; margin: 0 0 6px; word-break: break-all; }
code, pre { font-family: ui-monospace, "Cascadia Mono", Consolas, "DejaVu Sans Mono", monospace; font-size: 12.5px; }
.meta { color: var(--grey); margin: 2px 0; word-break: break-all; }
.totals { font-size: 15px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e0e0e0; vertical-align: top; }
td.num { text-align: right; } th { font-weight: 600; background: #f6f8fa; }
section { margin: 18px 0; } section.file { border: 1px solid #dadce0; border-radius: 8px; padding: 14px 16px; }
.badge { display: inline-block; border-radius: 4px; padding: 1px 8px; font-size: 12px; font-weight: 700; color: #fff; vertical-align: 2px; }
.badge.v-incompatible { background: var(--red); } .badge.v-warnings { background: var(--amber); } .badge.v-compatible { background: var(--green); } .badge.v-unknown { background: var(--grey); }
.totals .v-incompatible { color: var(--red); font-weight: 600; } .totals .v-warnings { color: var(--amber); font-weight: 600; } .totals .v-compatible { color: var(--green); font-weight: 600; }
.note { color: var(--grey); font-style: italic; margin: 4px 0; } .ok { color: var(--green); } .error { color: var(--red); }
figure.layout { margin: 10px 0; } figcaption { font-weight: 600; margin-bottom: 2px; }
svg.map { display: block; max-width: 100%; height: auto; font: 12px system-ui, sans-serif; }
.sec rect { stroke: #fff; stroke-width: 1; } .sec text { fill: #fff; font-weight: 600; } .sec text.rights { font-weight: 400; font-size: 11px; }
.r-wx rect, .sw.r-wx { fill: #c62828; background: #c62828; } .r-x rect, .sw.r-x { fill: #1565c0; background: #1565c0; }
.r-w rect, .sw.r-w { fill: #2e7d32; background: #2e7d32; } .r-r rect, .sw.r-r { fill: #78909c; background: #78909c; }
.r-headers rect, .sw.r-headers { fill: #cfd8dc; background: #cfd8dc; } .r-headers text { fill: #37474f; }
.marker path { stroke: #fff; stroke-width: 1; } .marker text { font-weight: 700; font-size: 11px; }
.m-error path { fill: var(--red); } .m-warning path { fill: var(--amber); } .m-note path { fill: var(--grey); }
.m-error text { fill: var(--red); } .m-warning text { fill: var(--amber); } .m-note text { fill: var(--grey); }
text.tick { fill: var(--grey); font-size: 11px; }
.legend { color: var(--grey); font-size: 12px; margin: 2px 0 6px; }
.sw { display: inline-block; width: 11px; height: 11px; border-radius: 2px; vertical-align: -1px; }
ol.findings { padding-left: 22px; } li.finding { margin: 10px 0; padding-left: 6px; border-left: 3px solid var(--grey); }
li.s-error { border-color: var(--red); } li.s-warning { border-color: var(--amber); }
li.finding p { margin: 2px 0; } .sev { text-transform: uppercase; font-size: 11px; font-weight: 700; }
li.s-error .sev { color: var(--red); } li.s-warning .sev { color: var(--amber); } li.s-note .sev { color: var(--grey); }
.where, .fp, .docs { color: var(--grey); } .fix b { color: var(--green); }
pre { background: #f6f8fa; border-radius: 6px; padding: 8px 10px; overflow-x: auto; margin: 4px 0; }
footer { color: var(--grey); font-size: 12px; margin-top: 24px; border-top: 1px solid #e0e0e0; padding-top: 8px; }
`;

/** The report's stylesheet (the page in web/ uses it for the file sections). */
export { CSS as REPORT_CSS };
