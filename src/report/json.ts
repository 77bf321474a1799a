import type { ScanReport } from './model.js';
import { indentedJson, type ReportHead, type ReportTail, type ReportWriter, renderWith } from './writer.js';

export const REPORT_SCHEMA_ID = 'https://hvci.invalid/schema/report.schema.json';

/**
 * The JSON report: the contract other tools read (schema/report.schema.json). Streamed: the
 * same text as JSON.stringify(report, null, 2), written file by file.
 */
export function jsonWriter(): ReportWriter {
  let count = 0;
  return {
    begin: (head: ReportHead) => `{\n  "$schema": ${JSON.stringify(REPORT_SCHEMA_ID)},\n  "tool": ${indentedJson(head.tool, 2)},\n  "files": [`,
    file: (file) => {
      const text = indentedJson(file, 4); // first: a file that cannot be serialised leaves no comma behind
      return `${count++ === 0 ? '' : ','}\n    ${text}`;
    },
    end: (tail: ReportTail) =>
      [
        count === 0 ? ']' : '\n  ]',
        `,\n  "walkErrors": ${indentedJson(tail.walkErrors, 2)}`,
        tail.skippedFiles ? `,\n  "skippedFiles": ${indentedJson(tail.skippedFiles, 2)}` : '',
        `,\n  "summary": ${indentedJson(tail.summary, 2)}\n}\n`,
      ].join(''),
  };
}

export function renderJson(report: ScanReport): string {
  return renderWith(jsonWriter(), report);
}

/**
 * JSON Lines (`--format jsonl`): one file report per line as it is analysed, then one line
 * `{"tool", "walkErrors", "skippedFiles"?, "summary"}` — the line with "summary" is the last.
 * Shards' outputs merge by concatenating their file lines.
 */
export function jsonlWriter(): ReportWriter {
  let tool: ReportHead['tool'] | undefined;
  return {
    begin: (head) => {
      tool = head.tool;
      return '';
    },
    file: (file) => `${JSON.stringify(file)}\n`,
    end: (tail) => `${JSON.stringify({ tool, ...tail })}\n`,
  };
}
