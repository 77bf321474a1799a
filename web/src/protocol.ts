/** Messages between the page and its analysis worker. */
import type { FileReport } from '../../src/report/model.js';

export type ReportFormat = 'json' | 'sarif' | 'html';

export type ToWorker =
  /** Loads the decoder now, so analysis needs no request later (and works offline). */
  | { type: 'init' }
  /** `onlyPe`: a file found in a dropped folder is analysed only if it starts with "MZ" (as the CLI does). */
  | { type: 'analyze'; id: number; name: string; bytes: ArrayBuffer; onlyPe: boolean }
  | { type: 'render'; id: number; format: ReportFormat; files: FileReport[]; skipped: number };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'init-failed'; error: string }
  | { type: 'analyzed'; id: number; report: FileReport }
  | { type: 'skipped'; id: number }
  | { type: 'rendered'; id: number; text: string }
  | { type: 'render-failed'; id: number; error: string };
