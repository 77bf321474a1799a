/**
 * `--format github`: GitHub Actions workflow commands, one per finding
 * (`::error file=src/rx.c,line=142,title=hvci execute-pool-type::…`), so findings appear
 * as pull-request annotations without code scanning. A finding with a source line (from
 * the driver's PDB) is placed on that line; others on the driver binary. Values are
 * escaped as GitHub's toolkit does: `%`, CR and LF in messages; also `:` and `,` in
 * properties (file, title).
 */
import type { Severity } from '../rules/types.js';
import type { FileReport, Finding } from './model.js';
import { sourceText } from './source-text.js';
import { visibleDeep } from './terminal-safe.js';
import type { ReportTail, ReportWriter } from './writer.js';

export interface GithubOptions {
  /** A report path as the repository knows it (relative to --root); default: as given, with forward slashes. */
  relativePath?: (path: string) => string;
  /** A source file from the PDB as the repository knows it; undefined when it is not here. */
  sourceFile?: (file: string) => string | undefined;
}

const COMMAND: Record<Severity, string> = { error: 'error', warning: 'warning', note: 'notice' };

/** Escapes a command's message (toolkit `escapeData`). */
export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escapes a command property value (toolkit `escapeProperty`). */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export function workflowCommand(command: string, properties: Record<string, string | number | undefined>, message: string): string {
  const props = Object.entries(properties)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${escapeProperty(String(v))}`)
    .join(',');
  return `::${command}${props ? ` ${props}` : ''}::${escapeData(message)}\n`;
}

export function githubWriter(options: GithubOptions = {}): ReportWriter {
  const rel = options.relativePath ?? ((p: string) => p.replace(/\\/g, '/'));
  return {
    begin: () => '',
    file: (raw) => {
      // Control characters from the file (ESC, BEL …) would steer the log viewer: shown escaped.
      const file = visibleDeep(raw);
      const binary = rel(file.path);
      if (file.status === 'error') return workflowCommand('warning', { file: binary, title: 'hvci: not analysed' }, `${file.path}: ${file.error ?? 'could not be analysed'}`);
      const out: string[] = [];
      if (file.pdb?.status === 'ignored' && file.pdb.note) out.push(workflowCommand('notice', { file: binary, title: 'hvci: PDB not used' }, file.pdb.note));
      for (const f of file.findings) out.push(annotation(f, file, binary, options));
      return out.join('');
    },
    end: (tail: ReportTail) => {
      const s = tail.summary;
      return `hvci: ${s.files} file${s.files === 1 ? '' : 's'}: ${s.incompatible} incompatible, ${s.warnings} with warnings, ${s.compatible} compatible; ${s.findings.error} errors, ${s.findings.warning} warnings, ${s.findings.note} notes. Target OS: ${s.targetOs}.\n`;
    },
  };
}

function annotation(f: Finding, file: FileReport, binary: string, options: GithubOptions): string {
  const source = f.source?.file === undefined || f.source.line === undefined ? undefined : options.sourceFile?.(f.source.file);
  // A source place not in this checkout (a build machine's path) is still worth saying.
  const unplaced = source === undefined ? sourceText(f.source) : undefined;
  const fn = f.source?.function;
  const where = [
    fn !== undefined ? `In ${fn}${unplaced === undefined ? '' : ` (${unplaced})`}.` : unplaced === undefined ? undefined : `At ${unplaced}.`,
    `Driver ${file.path}${f.rva === undefined ? '' : `, RVA 0x${f.rva.toString(16).toUpperCase()}`}.`,
    `See ${f.docs}.`,
  ].filter(Boolean);
  const message = `${f.message}\nFix: ${f.fix}\n${where.join(' ')}`;
  const props = source === undefined ? { file: binary, title: `hvci ${f.ruleId}` } : { file: source, line: f.source?.line, title: `hvci ${f.ruleId}` };
  return workflowCommand(COMMAND[f.severity], props, message);
}
