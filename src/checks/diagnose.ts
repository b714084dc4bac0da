// One diagnosis: run the check table for a target, then assemble the report.
// What `diagnose`, `demo` and every agent check call.
import type { DiagnosisReport } from '../diagnosis/report.js';
import type { ProbeContext } from '../probes/context.js';
import { runPlan } from './plan.js';
import { assembleReport } from './report.js';
import type { DiagnoseInput } from './types.js';

export async function diagnose(input: DiagnoseInput, ctx: ProbeContext): Promise<DiagnosisReport> {
  const startedAt = new Date();
  const started = performance.now();
  const run = await runPlan(input, ctx);
  return assembleReport(input, run, { startedAt, durationSeconds: Math.round(performance.now() - started) / 1000, stall: run.stall,
    timeoutMs: ctx.timeoutMs });
}
