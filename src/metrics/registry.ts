// The agent's prom-client registry: the latest results of every instance
// (exposition lines cached per instance, concatenated at scrape time), the agent's own counters and
// histograms, miprobe_build_info and the standard process_* / nodejs_* set.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CHECK_GROUPS } from '../checks/groups.js';
import { VERSION } from '../version.js';
import { linesByFamily, renderFamilies } from './exposition.js';
import type { InstanceFamily } from './families.js';
import type { Sample } from './report.js';

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const LAG_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60];

export interface AgentMetrics {
  readonly registry: Registry;
  readonly checksTotal: Counter<'check'>;
  readonly checkErrors: Counter<'check'>;
  readonly checksSkipped: Counter<'check'>;
  readonly checkRunDuration: Histogram<'check'>;
  readonly schedulerLag: Histogram<'check'>;
  readonly checkInterval: Gauge<'check'>;
  readonly inFlight: Gauge<string>;
  readonly instances: Gauge<string>;
  readonly reloadSuccessful: Gauge<string>;
  readonly reloadTimestamp: Gauge<string>;
  readonly probeRequests: Counter<'module'>;
  readonly probeRejected: Counter<string>;
  /** Renders the exposition text: the agent's own metrics, then the instance families from each instance's cached lines. */
  render(parts: Iterable<ReadonlyMap<InstanceFamily, Buffer>>): Promise<Buffer>;
}

export function createAgentMetrics(opts: { defaultMetrics?: boolean } = {}): AgentMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) {
    collectDefaultMetrics({ register: registry });
    // Gauges named like counters: promtool (rightly) flags them, and they duplicate nodejs_active_*.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
  }
  const reg = [registry];
  new Gauge({ name: 'miprobe_build_info', help: 'The miprobe version and the Node.js runtime; always 1.', labelNames: ['version', 'nodejs_version'], registers: reg })
    .set({ version: VERSION, nodejs_version: process.version }, 1);
  const checksTotal = new Counter({ name: 'miprobe_checks_total', help: 'Check runs finished (completed or not), by check.', labelNames: ['check'], registers: reg });
  const checkErrors = new Counter({ name: 'miprobe_check_errors_total', help: 'Check runs that did not complete (deadline passed or internal error), by check.', labelNames: ['check'], registers: reg });
  const checksSkipped = new Counter({ name: 'miprobe_checks_skipped_total', help: 'Scheduled runs skipped because the previous run of the same check and instance was still going (no overlap).', labelNames: ['check'], registers: reg });
  const checkRunDuration = new Histogram({ name: 'miprobe_check_run_duration_seconds', help: 'Wall time of check runs, all instances together, by check.', labelNames: ['check'], buckets: DURATION_BUCKETS, registers: reg });
  const schedulerLag = new Histogram({ name: 'miprobe_scheduler_lag_seconds', help: 'Delay between the planned start of a run (cron tick plus jitter) and its actual start, waiting for the concurrency limit included.', labelNames: ['check'], buckets: LAG_BUCKETS, registers: reg });
  const checkInterval = new Gauge({ name: 'miprobe_check_interval_seconds', help: 'Longest gap between two scheduled runs of the check (from its cron expression); absent when the check is off. Staleness alerts compare against it.', labelNames: ['check'], registers: reg });
  const inFlight = new Gauge({ name: 'miprobe_checks_in_flight', help: 'Check runs going on now (scheduled and /probe).', registers: reg });
  const instances = new Gauge({ name: 'miprobe_instances', help: 'Instances this agent watches (after sharding).', registers: reg });
  const reloadSuccessful = new Gauge({ name: 'miprobe_config_last_reload_successful', help: '1 when the last configuration load (start or SIGHUP) succeeded.', registers: reg });
  const reloadTimestamp = new Gauge({ name: 'miprobe_config_last_reload_success_timestamp_seconds', help: 'Unix time of the last successful configuration load.', registers: reg });
  const probeRequests = new Counter({ name: 'miprobe_probe_requests_total', help: '/probe requests served, by module.', labelNames: ['module'], registers: reg });
  const probeRejected = new Counter({ name: 'miprobe_probe_rejected_total', help: '/probe requests refused with 503 because the concurrency limit was reached.', registers: reg });
  for (const check of CHECK_GROUPS) {
    checksTotal.inc({ check }, 0);
    checkErrors.inc({ check }, 0);
    checksSkipped.inc({ check }, 0);
  }
  probeRejected.inc(0);

  return {
    registry, checksTotal, checkErrors, checksSkipped, checkRunDuration, schedulerLag, checkInterval, inFlight, instances, reloadSuccessful,
    reloadTimestamp, probeRequests, probeRejected,
    async render(parts) {
      return Buffer.concat([Buffer.from(`${await registry.metrics()}\n`, 'utf8'), renderFamilies(parts)]);
    },
  };
}

/** The exposition text for a /probe answer: blackbox-style probe_* plus the instance families, without an instance label. */
export async function renderProbe(samples: readonly Sample[], success: boolean, durationSeconds: number): Promise<Buffer> {
  const registry = new Registry();
  const reg = [registry];
  new Gauge({ name: 'probe_success', help: 'Whether the probe completed with no critical finding.', registers: reg }).set(success ? 1 : 0);
  new Gauge({ name: 'probe_duration_seconds', help: 'How long the probe took to complete in seconds.', registers: reg }).set(durationSeconds);
  return Buffer.concat([Buffer.from(`${await registry.metrics()}\n`, 'utf8'), renderFamilies([linesByFamily(samples)])]);
}
