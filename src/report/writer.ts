/**
 * Streamed reports: every format is written as begin, one chunk per file as soon as it is
 * analysed, and end (summary last), so a scan of 30,000 drivers holds one file's report at a
 * time. `renderWith` puts the pieces of a finished report together the same way, so there is
 * one implementation per format for both uses.
 */
import type { FileReport, ScanReport } from './model.js';

export interface ReportHead {
  tool: ScanReport['tool'];
}

export interface ReportTail {
  walkErrors: ScanReport['walkErrors'];
  skippedFiles?: ScanReport['skippedFiles'];
  summary: ScanReport['summary'];
}

export interface ReportWriter {
  begin(head: ReportHead): string;
  /** One file's part of the report (files arrive in scan order). */
  file(file: FileReport): string;
  end(tail: ReportTail): string;
}

/** The whole report at once, through the streamed writer. */
export function renderWith(writer: ReportWriter, report: ScanReport): string {
  const parts = [writer.begin({ tool: report.tool })];
  for (const f of report.files) parts.push(writer.file(f));
  parts.push(writer.end({ walkErrors: report.walkErrors, ...(report.skippedFiles ? { skippedFiles: report.skippedFiles } : {}), summary: report.summary }));
  return parts.join('');
}

/** JSON.stringify(value, null, 2), every line but the first indented by `by` more spaces. */
export function indentedJson(value: unknown, by: number): string {
  return JSON.stringify(value, null, 2).replace(/\n/g, `\n${' '.repeat(by)}`);
}
