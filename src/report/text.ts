import { createColors } from 'picocolors';
import { hex } from '../pe/index.js';
import type { FileReport, Finding, ScanReport, Verdict } from './model.js';
import { signatureLine } from './provenance.js';

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

/** Renders a scan as terminal text. Pure: the caller decides where it goes. */
export function renderText(report: ScanReport, options: TextOptions): string {
  const c = createColors(options.color);
  const out: string[] = [];
  for (const file of report.files) {
    if (file.status === 'error') continue; // one-line errors go to stderr, see cli
    if (file.findings.length === 0 && !options.verbose && (options.quiet || file.problems.length === 0)) {
      if (!options.quiet) out.push(`${verdictLabel(c, file.verdict)}  ${file.path}${c.dim(oneLineNotes(file))}`);
      continue;
    }
    out.push(...renderFile(c, file, options), '');
  }
  out.push(summaryLine(c, report));
  return out.join('\n') + '\n';
}

function renderFile(c: Colors, file: FileReport, options: TextOptions): string[] {
  const lines = [`${verdictLabel(c, file.verdict)}  ${c.bold(file.path)}`];
  lines.push(c.dim(`  ${KIND_LABEL[file.kind] ?? file.kind} (${file.kindReason ?? ''}) · ${file.machine} ${file.format ?? ''}`));
  if (!file.kernelMode) {
    lines.push(c.dim('  not a kernel-mode image: HVCI governs kernel code, so these findings are for information.'));
  }
  const coverage = coverageNote(file);
  if (coverage) lines.push(c.dim(`  ${coverage}`));
  const signed = signatureLine(file.signature);
  if (signed) lines.push(c.dim(`  ${signed}`));
  for (const f of file.findings) lines.push(...renderFinding(c, f));
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
  const where = [
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
    const steps = [...context, { rva: `0x${f.rva.toString(16)}`, text: ev.instruction }];
    return steps.map((x, i) => c.dim(`           ${i === 0 ? 'proof:' : '      '} ${x.rva.padEnd(8)} ${x.text}`));
  }
  const instructions = Array.isArray(ev.instructions) ? ev.instructions.filter(isStep) : [];
  const steps = [...instructions, ev.call];
  const lines = steps.map((x, i) => c.dim(`           ${i === 0 ? 'proof:' : '      '} ${x.rva.padEnd(8)} ${x.text}`));
  const path = Array.isArray(ev.path) ? ev.path.map((p: { function?: unknown }) => p.function).filter((n): n is string => typeof n === 'string') : [];
  if (path.length > 1) lines.push(c.dim(`           path:  ${path.join(' → ')}`));
  return lines;
}

function verdictLabel(c: Colors, verdict: Verdict): string {
  switch (verdict) {
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

function summaryLine(c: Colors, report: ScanReport): string {
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
