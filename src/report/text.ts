import { createColors } from 'picocolors';
import { hex } from '../pe/index.js';
import { type FileReport, type Finding, type ScanReport, verdictQualifier } from './model.js';
import { visibleDeep } from './terminal-safe.js';
import { type ReportTail, type ReportWriter, renderWith } from './writer.js';
import { signatureLine } from './provenance.js';
import { evidenceSource, pdbLine, sourceText } from './source-text.js';

export interface TextOptions {
  color: boolean;
  /** Also list compatible files and tolerated structural problems. */
  verbose: boolean;
  /** Only files with findings, no notes for clean files. */
  quiet: boolean;
}

type Colors = ReturnType<typeof createColors>;

const KIND_LABEL: Record<string, string> = {
  driver: 'kernel driver',
  dll: 'user-mode DLL',
  exe: 'user-mode program',
  efi: 'UEFI image',
};

/**
 * Renders a scan as terminal text. Pure: the caller decides where it goes. Strings from the
 * files (paths, section and import names) are shown with control and bidi characters escaped.
 */
export function renderText(report: ScanReport, options: TextOptions): string {
  return renderWith(textWriter(options), report);
}

/** Text, file by file: one line for a clean file, a block for one with findings; the summary last. */
export function textWriter(options: TextOptions): ReportWriter {
  const c = createColors(options.color);
  return {
    begin: () => '',
    file: (raw) => {
      if (raw.status === 'error') return ''; // one-line errors go to stderr, see cli
      const file = visibleDeep(raw);
      const incomplete = (file.incompleteAnalysis?.length ?? 0) > 0;
      if (file.findings.length === 0 && !incomplete && !options.verbose && (options.quiet || file.problems.length === 0)) {
        return options.quiet ? '' : `${verdictLabel(c, file)}  ${file.path}${c.dim(oneLineNotes(file))}\n`;
      }
      return `${renderFile(c, file, options).join('\n')}\n\n`;
    },
    end: (tail) => `${summaryLine(c, tail)}\n`,
  };
}

function renderFile(c: Colors, file: FileReport, options: TextOptions): string[] {
  const lines = [`${verdictLabel(c, file)}  ${c.bold(file.path)}`];
  lines.push(c.dim(`  ${KIND_LABEL[file.kind] ?? file.kind} (${file.kindReason ?? ''}) · ${file.machine} ${file.format ?? ''}`));
  if (!file.kernelMode) {
    lines.push(c.dim('  not a kernel-mode image: HVCI governs kernel code, so these findings are for information.'));
  }
  const coverage = coverageNote(file);
  if (coverage) lines.push(c.dim(`  ${coverage}`));
  const signed = signatureLine(file.signature);
  if (signed) lines.push(c.dim(`  ${signed}`));
  const pdb = pdbLine(file);
  if (pdb) lines.push(file.pdb?.status === 'used' ? c.dim(`  ${pdb}`) : c.yellow(`  ${pdb}`));
  for (const f of file.findings) lines.push(...renderFinding(c, f));
  for (const i of file.incompleteAnalysis ?? []) {
    lines.push(c.magenta(`  incomplete  ${i.ruleId ?? i.part}: ${i.reason}`));
  }
  if (options.verbose) lines.push(...notAppliedLines(c, file));
  if (options.verbose && file.checkedCalls && file.checkedCalls.length > 0) {
    lines.push(c.dim(`  checked ${file.checkedCalls.length} call site(s):`));
    for (const k of file.checkedCalls) {
      const mark = k.verdict === 'compatible' ? c.green('ok        ') : k.verdict === 'executable' ? c.red('executable') : c.yellow('unresolved');
      lines.push(`    ${mark}  ${k.api} at RVA ${hex(k.callRva)} in ${k.function}: ${k.values.join(', ') || '(no argument)'}`);
      if (k.context) lines.push(c.dim(`                ${k.context}`));
    }
  }
  if (options.verbose || file.findings.length > 0) {
    for (const p of file.problems) {
      lines.push(c.yellow(`  problem  ${p.code}: ${p.message}${p.offset === undefined ? '' : ` (file offset ${hex(p.offset)})`}`));
    }
  }
  return lines;
}

function coverageNote(file: FileReport): string | undefined {
  if (file.callSiteAnalysis === 'unsupported-machine') {
    return `${file.machine}: image rules only — call-site analysis is not available for this machine yet`;
  }
  if (file.callSiteAnalysis === 'not-run') return 'image rules only — call sites were not analysed';
  if (file.callSiteAnalysis === 'incomplete') return 'call-site analysis incomplete: the verdict covers only what was analysed (see "incomplete" lines)';
  return undefined;
}

/** Short notes after a one-line verdict, so "COMPATIBLE" never hides what was not checked. */
function oneLineNotes(file: FileReport): string {
  const notes = [
    file.kernelMode ? undefined : `${KIND_LABEL[file.kind] ?? file.kind}: not a kernel driver`,
    coverageNote(file),
  ].filter(Boolean);
  return notes.length > 0 ? `  (${notes.join('; ')})` : '';
}

function renderFinding(c: Colors, f: Finding): string[] {
  const sev = f.severity === 'error' ? c.red('error  ') : f.severity === 'warning' ? c.yellow('warning') : c.cyan('note   ');
  const source = sourceText(f.source);
  const where = [
    source === undefined ? undefined : `${source}${f.source?.function === undefined ? '' : ` in ${f.source.function}`}`,
    f.rva === undefined ? undefined : `RVA ${hex(f.rva)}`,
    f.section === undefined ? undefined : `section ${f.section === '' ? '(unnamed)' : f.section}`,
    f.fileOffset === undefined ? undefined : `file offset ${hex(f.fileOffset)}`,
  ].filter(Boolean);
  const lines = [`  ${sev}  ${c.bold(f.ruleId)}  ${f.message}`];
  if (where.length > 0) lines.push(c.dim(`           at ${where.join(' · ')}`));
  lines.push(...renderProof(c, f));
  lines.push(`           ${c.green('fix:')} ${f.fix}`);
  return lines;
}

interface ProofStep {
  rva: string;
  text: string;
}

const isStep = (x: unknown): x is ProofStep =>
  typeof x === 'object' && x !== null && typeof (x as ProofStep).rva === 'string' && typeof (x as ProofStep).text === 'string';

/**
 * Call-site findings: the instructions that set the value, the call, and the wrapper path;
 * instruction findings: the instructions leading to it. Evidence is open-ended JSON, so only
 * well-formed steps are shown.
 */
function renderProof(c: Colors, f: Finding): string[] {
  const ev = f.evidence ?? {};
  if (!isStep(ev.call)) {
    // Instruction findings (cr0/cr4/msr writes, code stores, generated code, MDLs over code):
    // the instructions before it, then the instruction itself.
    if (typeof ev.instruction !== 'string' || f.rva === undefined) return [];
    const context = Array.isArray(ev.context) ? ev.context.filter(isStep) : [];
    const steps = [...context, { rva: hex(f.rva), text: ev.instruction }];
    // A CR0 toggle: the instructions up to the write that restores WP, and that write.
    const restore = ev.restore as { rva?: unknown; instruction?: unknown; context?: unknown } | undefined;
    if (restore && typeof restore.rva === 'string' && typeof restore.instruction === 'string') {
      const between = Array.isArray(restore.context) ? restore.context.filter(isStep) : [];
      steps.push(...between.filter((x) => !steps.some((y) => y.rva === x.rva)), { rva: restore.rva, text: restore.instruction });
    }
    return steps.map((x, i) => c.dim(`           ${i === 0 ? 'proof:' : '      '} ${x.rva.padEnd(8)} ${x.text}${stepSource(x)}`));
  }
  const instructions = Array.isArray(ev.instructions) ? ev.instructions.filter(isStep) : [];
  const steps = [...instructions, ev.call];
  const lines = steps.map((x, i) => c.dim(`           ${i === 0 ? 'proof:' : '      '} ${x.rva.padEnd(8)} ${x.text}${stepSource(x)}`));
  const path = Array.isArray(ev.path)
    ? ev.path.flatMap((p: { function?: unknown }) => (typeof p.function === 'string' ? [`${p.function}${stepSource(p).replace(/^ {2}/, ' ')}`] : []))
    : [];
  if (path.length > 1) lines.push(c.dim(`           path:  ${path.join(' → ')}`));
  return lines;
}

/** "  (src/rx.c:142)" after a proof step or path entry that has a source line. */
function stepSource(x: unknown): string {
  const text = sourceText(evidenceSource(x));
  return text === undefined ? '' : `  (${text})`;
}

function verdictLabel(c: Colors, file: FileReport): string {
  const qualifier = verdictQualifier(file);
  if (qualifier) return c.green(`COMPATIBLE (${qualifier})`);
  switch (file.verdict) {
    case 'incompatible':
      return c.red(c.bold('INCOMPATIBLE'));
    case 'warnings':
      return c.yellow('WARNINGS    ');
    case 'compatible':
      return c.green('COMPATIBLE  ');
    default:
      return c.magenta('NOT ANALYSED');
  }
}

function summaryLine(c: Colors, report: ReportTail): string {
  const s = report.summary;
  const parts = [
    `${s.incompatible} incompatible`,
    `${s.warnings} with warnings`,
    `${s.compatible} compatible`,
  ];
  if (s.errors > 0) parts.push(`${s.errors} not analysed`);
  let line = `${s.files} file${s.files === 1 ? '' : 's'} (${s.kernelDrivers} kernel-mode): ${parts.join(', ')}.`;
  if (s.skipped > 0) line += ` ${s.skipped} non-PE file${s.skipped === 1 ? '' : 's'} skipped.`;
  if (s.suppressed) line += ` ${s.suppressed} finding${s.suppressed === 1 ? '' : 's'} suppressed (baseline or config).`;
  if (report.walkErrors.length > 0) line += ` ${report.walkErrors.length} path(s) could not be read.`;
  line += ` Target OS: ${s.targetOs}.`;
  return c.bold(line);
}

/** `--verbose`: the rules that did not run, grouped by reason (an undecoded machine lists a dozen code rules with one reason). */
function notAppliedLines(c: Colors, file: FileReport): string[] {
  const byReason = new Map<string, string[]>();
  for (const n of file.rulesNotApplied ?? []) byReason.set(n.reason, [...(byReason.get(n.reason) ?? []), n.ruleId]);
  return [...byReason].map(([reason, ids]) => c.dim(`  not applied  ${ids.join(', ')}: ${reason}`));
}
