// The JSON document (schema: config/report.schema.json). Pretty-printed,
// one trailing newline; the report holds no secrets by construction.
import type { DiagnosisReport } from '../diagnosis/report.js';

export function renderJson(report: DiagnosisReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
