import type { ScanReport } from './model.js';

export const REPORT_SCHEMA_ID = 'https://hvci.invalid/schema/report.schema.json';

/** The JSON report: the contract other tools read (schema/report.schema.json). */
export function renderJson(report: ScanReport): string {
  return JSON.stringify({ $schema: REPORT_SCHEMA_ID, ...report }, null, 2) + '\n';
}
