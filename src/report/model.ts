import type { PeIssue } from '../pe/index.js';
import type { ImageKind } from '../analysis/image-kind.js';
import type { MessageArguments, Severity } from '../rules/types.js';

/** One finding. Field names are part of the JSON contract: extend, never rename. */
export interface Finding {
  ruleId: string;
  severity: Severity;
  message: string;
  messageId: string;
  arguments: MessageArguments;
  rva?: number;
  fileOffset?: number;
  section?: string;
  evidence?: Record<string, unknown>;
  /** How to fix it, one sentence. */
  fix: string;
  /** The rule's documentation page, relative to the package root. */
  docs: string;
}

export type CallSiteAnalysis = 'complete' | 'unsupported-machine' | 'not-run';

export type Verdict = 'incompatible' | 'warnings' | 'compatible' | 'unknown';

export interface FileReport {
  path: string;
  sha256: string;
  size: number;
  status: 'analyzed' | 'error';
  /** One line saying why the file could not be analysed (status "error"). */
  error?: string;
  errorCode?: string;
  kind: ImageKind | 'not-pe' | 'unknown';
  kernelMode: boolean;
  kindReason?: string;
  machine: string;
  format?: 'PE32' | 'PE32+';
  subsystem?: string;
  verdict: Verdict;
  /**
   * Whether machine code was analysed for call sites: "complete" (x86/x64), or why not —
   * "unsupported-machine" (e.g. ARM64: image rules only) or "not-run" (no call-site rule
   * was enabled). A compatible verdict without "complete" covers the image rules only.
   */
  callSiteAnalysis: CallSiteAnalysis;
  findings: Finding[];
  /** Structural problems the reader tolerated (malformed but analysable). */
  problems: PeIssue[];
  image?: ImageFacts;
}

export interface ImageFacts {
  imageBase: string;
  entryPointRva: string;
  sectionAlignment: string;
  fileAlignment: string;
  sizeOfImage: string;
  dllCharacteristics: string;
  linkerVersion: string;
  sections: Array<{
    name: string;
    virtualAddress: string;
    virtualSize: string;
    sizeOfRawData: string;
    pointerToRawData: string;
    characteristics: string;
    rights: string;
  }>;
  imports: Array<{ dll: string; delayLoaded: boolean; functions: number }>;
  /** Base relocation fix-ups (ABSOLUTE padding entries not counted). */
  relocationCount: number;
  pdbPath?: string;
  signed: boolean;
}

export interface ScanSummary {
  files: number;
  analyzed: number;
  errors: number;
  incompatible: number;
  warnings: number;
  compatible: number;
  kernelDrivers: number;
  findings: { error: number; warning: number; note: number };
  /** Files in scanned directories that were not PE images and so were not analysed. */
  skipped: number;
  targetOs: string;
  failOn: 'error' | 'warning' | 'none';
  exitCode: number;
}

export interface ScanReport {
  $schema?: string;
  tool: { name: string; version: string; informationUri: string };
  files: FileReport[];
  /** Paths that could not be read or walked (unreadable entries, symlink loops). */
  walkErrors: Array<{ path: string; error: string }>;
  summary: ScanSummary;
}

export function verdictOf(findings: readonly Finding[]): Verdict {
  if (findings.some((f) => f.severity === 'error')) return 'incompatible';
  if (findings.some((f) => f.severity === 'warning')) return 'warnings';
  return 'compatible';
}
