// The long-running agent: the watched instances, their schedules, the latest
// result of each check, the HTTP endpoints, reload and shutdown.
import type { Logger } from 'pino';
import { ConfigError } from '../config/load.js';
import type { AgentCheck, Config } from '../config/schema.js';
import { findingsOfRun } from '../checks/by-group.js';
import { checkStatus } from './check-state.js';
import { diagnose } from '../checks/diagnose.js';
import { ALL_GROUPS, CHECK_GROUPS, type CheckGroup } from '../checks/groups.js';
import { verdictOf, type Finding } from '../diagnosis/finding.js';
import type { DiagnosisReport } from '../diagnosis/report.js';
import { HostNameError, parseTarget } from '../diagnosis/target.js';
import { INSTANCE_FAMILIES } from '../metrics/families.js';
import { createAgentMetrics, renderProbe, type AgentMetrics } from '../metrics/registry.js';
import { findingSamples, reportToMetrics, type CheckOutcome } from '../metrics/report.js';
import type { ProbeContext } from '../probes/context.js';
import { UsageError } from '../errors.js';
import { diagnoseInput, probeContext, requireQueryableResolver } from '../compose.js';
import { readCaFile } from '../config/secrets.js';
import { AddressGuard } from '../net/guard.js';
import { VERSION } from '../version.js';
import { refreshSeconds, renderStatusPage, STATUS_PAGE_CSP } from './html.js';
import { planInstances, type PlannedInstance } from './instances.js';
import { Limiter } from './limiter.js';
import { ProbeFence } from './probe-fence.js';
import { Scheduler } from './scheduler.js';
import { startServer, type AgentServer, type Reply, type ServerLimits } from './server.js';
import { ResultStore } from './store.js';
import { VNET_RANGES } from './vnet-ranges.js';
import { loadWebConfig, type WebConfig } from './web-config.js';

/** The agent's checks: the check table's groups (src/checks/groups.ts). */
export const AGENT_CHECKS: readonly AgentCheck[] = CHECK_GROUPS;
/** /probe modules: one check, or all of them. */
export const PROBE_MODULES: readonly string[] = [...AGENT_CHECKS, 'all'];

/** The groups a run asks the plan for: one check (the plan adds the rows it needs), or all. */
const groupsOf = (check: AgentCheck | 'all'): ReadonlySet<CheckGroup> => (check === 'all' ? ALL_GROUPS : new Set([check]));

/** A log line's findings: one entry per id (two resolvers' NXDOMAIN are one DNS-001), with how many were raised. */
function findingsById(findings: readonly Finding[]): Array<{ id: string; severity: string; title: string; count?: number }> {
  const byId = new Map<string, { id: string; severity: string; title: string; count?: number }>();
  for (const f of findings) {
    const seen = byId.get(f.id);
    if (seen) seen.count = (seen.count ?? 1) + 1;
    else byId.set(f.id, { id: f.id, severity: f.severity, title: f.title });
  }
  return [...byId.values()];
}

/** Offset subtracted from Prometheus' scrape timeout (as blackbox_exporter does). */
export const PROBE_TIMEOUT_OFFSET_SECONDS = 0.5;
const PROBE_DEFAULT_TIMEOUT_SECONDS = 10;
/** Below the HTTP server's 60 s idle timeout, which would otherwise cut a long /probe off. */
const PROBE_MAX_TIMEOUT_SECONDS = 55;

/** Everything derived from one configuration; swapped whole on reload. */
interface Loaded {
  readonly config: Config;
  readonly instances: readonly PlannedInstance[];
  readonly byFqdn: ReadonlyMap<string, PlannedInstance>;
  /** Resolvers and guard, computed once (reading /etc/resolv.conf is not free). */
  readonly baseContext: ProbeContext;
  readonly webConfig: WebConfig;
  /** Which names /probe may diagnose. */
  readonly fence: ProbeFence;
  /** The extra trusted roots of each caFile, read once (a run used to read the file into a fresh 4 MiB buffer). */
  readonly caFiles: ReadonlyMap<string, string>;
}

export interface AgentOptions {
  readonly logger: Logger;
  /** Loads and validates the configuration (start and every reload). */
  readonly loadConfig: () => Promise<Config>;
  /** Instances given on the command line, added to the config's. */
  readonly extraInstances?: readonly string[];
  /** Overrides the config's listen address (tests use port 0). */
  readonly listen?: string;
  readonly serverLimits?: Partial<ServerLimits>;
  /** Standard process_* metrics (off in tests that run several agents in one process). */
  readonly defaultMetrics?: boolean;
  /** Where the probes read secrets named by env (MIPROBE_PASSWORD, MIPROBE_TOKEN); default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export class Agent {
  readonly metrics: AgentMetrics;
  readonly store = new ResultStore();
  private readonly stopController = new AbortController();
  private readonly limiter: Limiter;
  private probeLimiter: Limiter;
  private readonly scheduler: Scheduler;
  private loaded!: Loaded;
  private server?: AgentServer;
  private readonly startedAt = new Date();
  private stopping = false;

  private constructor(private readonly opts: AgentOptions, loaded: Loaded) {
    this.metrics = createAgentMetrics({ defaultMetrics: opts.defaultMetrics !== false });
    this.loaded = loaded;
    this.limiter = new Limiter(loaded.config.agent.concurrency);
    this.probeLimiter = new Limiter(loaded.config.agent.probeConcurrency);
    this.scheduler = new Scheduler({
      limiter: this.limiter, metrics: this.metrics, stopSignal: this.stopController.signal,
      runCheck: async ({ instance, check, signal, deadlineMs }) => { await this.runScheduled(instance, check, signal, deadlineMs); },
      onError: (err) => opts.logger.error({ err: (err as Error).message }, 'scheduled check failed'),
      onMissed: (check, at) => opts.logger.warn({ check, tick: at.toISOString() }, 'a scheduled tick came more than half a period late and was skipped (the process was blocked)'),
      cronLogger: {
        info: (message) => opts.logger.debug({ from: 'node-cron' }, message),
        debug: (message) => opts.logger.debug({ from: 'node-cron' }, String(message)),
        warn: (message) => opts.logger.warn({ from: 'node-cron' }, message),
        error: (message, err) => opts.logger.error({ from: 'node-cron', err: err?.message }, String(message)),
      },
    });
  }

  /** Loads everything a configuration needs; throws ConfigError (or another error) without side effects. */
  private static async prepare(opts: Pick<AgentOptions, 'loadConfig' | 'extraInstances' | 'env'>): Promise<Loaded> {
    const config = await opts.loadConfig();
    const instances = planInstances(config, opts.extraInstances);
    // Secrets and port lists are checked here, so a missing password file or a bad --scan-ports
    // stops the start (or the reload) with its message instead of failing every run. CA files are
    // read once below, not once per instance (nor per run).
    await Promise.all(instances.map(async (i) => {
      try {
        await diagnoseInput(i.target, { ...i.config, probe: { ...i.config.probe, caFile: undefined } }, opts.env ?? process.env);
      } catch (err) {
        if (!(err instanceof UsageError || err instanceof ConfigError)) throw err;
        // Name the entry at fault, as the schema's messages do.
        const index = config.instances.findIndex((c) => c.fqdn.toLowerCase().replace(/\.$/, '') === i.fqdn);
        throw new ConfigError(`${index >= 0 ? `instances[${index}]` : `--instance ${i.fqdn}`} (${i.fqdn}): ${err.message}`);
      }
    }));
    const paths = new Set([config.probe.caFile, ...instances.map((i) => i.config.probe.caFile)].filter((p): p is string => p !== undefined));
    const caFiles = new Map(await Promise.all([...paths].map(async (p) => {
      try {
        return [p, await readCaFile(p) ?? ''] as const;
      } catch (err) {
        const at = config.probe.caFile === p ? 'probe.caFile' : `instances[${config.instances.findIndex((c) => c.caFile === p)}].caFile`;
        throw new ConfigError(`${at}: ${(err as Error).message}`);
      }
    })));
    const context = await probeContext(config);
    // With no ranges configured, diagnose may go anywhere; the agent, a service others can reach, keeps to a VNet's.
    const baseContext = config.allowCidrs.length > 0 ? context : { ...context, guard: AddressGuard.fromList(VNET_RANGES) };
    const webConfig = await loadWebConfig(config.agent.webConfigFile);
    // Every configured name passes the fence, whichever shard watches it.
    const configured = planInstances({ ...config, agent: { ...config.agent, shard: undefined } }, opts.extraInstances).map((i) => i.fqdn);
    const fence = new ProbeFence(configured, config.agent.probeTargets, config.agent.probeAnyTarget);
    return { config, instances, byFqdn: new Map(instances.map((i) => [i.fqdn, i])), baseContext, webConfig, fence, caFiles };
  }

  /** What a start, a reload and --check-config refuse once the files are read: a guard that lets no resolver be asked. */
  private static verify<L extends Pick<Loaded, 'baseContext'>>(loaded: L): L {
    requireQueryableResolver(loaded.baseContext.resolvers, loaded.baseContext.guard);
    return loaded;
  }

  /**
   * `--check-config`: everything a start reads and validates (config, instances, secret and CA files,
   * resolvers, web config), nothing started. Throws ConfigError naming the key at fault.
   */
  static async checkConfig(opts: Pick<AgentOptions, 'loadConfig' | 'extraInstances' | 'env'>): Promise<string> {
    const { config, instances, webConfig, baseContext } = await Agent.prepare(opts);
    if (config.instances.length === 0 && (opts.extraInstances ?? []).length === 0) {
      throw new ConfigError('instances: the agent has no instance to watch: list them under "instances:" (or give --instance <fqdn>)');
    }
    Agent.verify({ baseContext });
    const a = config.agent;
    return [`${config.instances.length + (opts.extraInstances?.length ?? 0)} instance(s)${a.shard ? ` (${instances.length} in shard ${a.shard})` : ''}`,
      `listen ${a.listen}${webConfig.tls ? ' (TLS)' : ''}${webConfig.users.size > 0 ? ' (basic auth)' : ''}`,
      `/probe: ${a.probeAnyTarget ? 'any target' : `configured instances${a.probeTargets.length ? ` and ${a.probeTargets.join(', ')}` : ''}`}`,
      `allowCidrs: ${baseContext.guard.describe().join(', ')}`].join('; ');
  }

  /** Loads the config, starts the server and the schedules. */
  static async start(opts: AgentOptions): Promise<Agent> {
    const loaded = Agent.verify(await Agent.prepare(opts));
    const agent = new Agent(opts, loaded);
    await agent.listen();
    agent.apply(loaded, true);
    agent.metrics.reloadSuccessful.set(1);
    agent.metrics.reloadTimestamp.set(Date.now() / 1000);
    return agent;
  }

  get url(): string {
    return this.server?.url ?? '';
  }

  get config(): Config {
    return this.loaded.config;
  }

  get instances(): readonly PlannedInstance[] {
    return this.loaded.instances;
  }

  private async listen(): Promise<void> {
    const { config, webConfig } = this.loaded;
    const listen = this.opts.listen ?? config.agent.listen;
    this.server = await startServer({
      listen, webConfig, limits: this.opts.serverLimits ?? {},
      onError: (err) => this.opts.logger.error({ err: err.message }, 'http server error'),
      routes: {
        '/metrics': async () => ({ status: 200, body: await this.renderMetrics(), contentType: this.metrics.registry.contentType }),
        '/probe': async ({ query, headers, signal }) => this.probe(query, headers['x-prometheus-scrape-timeout-seconds'], signal),
        '/healthz': () => ({ status: 200, body: 'ok\n', contentType: 'text/plain; charset=utf-8' }),
        '/readyz': () => (this.stopping
          ? { status: 503, body: 'shutting down\n', contentType: 'text/plain; charset=utf-8' }
          : { status: 200, body: 'ready\n', contentType: 'text/plain; charset=utf-8' }),
        '/api/v1/status': () => ({ status: 200, body: `${JSON.stringify(this.status(), null, 2)}\n`, contentType: 'application/json; charset=utf-8' }),
        '/': ({ query }) => ({ status: 200, contentType: 'text/html; charset=utf-8', headers: { 'Content-Security-Policy': STATUS_PAGE_CSP, 'Cache-Control': 'no-store' },
          body: renderStatusPage({ version: VERSION, startedAt: this.startedAt.toISOString(), shard: this.loaded.config.agent.shard,
            instances: this.store.status(), refreshSeconds: refreshSeconds(query) }) }),
      },
    }).catch((err: NodeJS.ErrnoException) => {
      throw new ConfigError(`cannot listen on ${listen}: ${err.code ?? err.message}${err.code === 'EADDRINUSE' ? ' (the port is taken: pick another with --listen)' : ''}`);
    });
  }

  private apply(loaded: Loaded, first: boolean): void {
    this.loaded = loaded;
    this.store.setInstances(loaded.instances.map((i) => ({ fqdn: i.fqdn, kind: i.target.kind, labels: i.labels, checks: i.checks })));
    this.metrics.instances.set(loaded.instances.length);
    this.probeLimiter = new Limiter(loaded.config.agent.probeConcurrency);
    const hasResult = new Set(this.store.status().flatMap((s) => s.checks.map((c) => `${c.check}\0${s.fqdn}`)));
    this.scheduler.start(loaded.config, loaded.instances, (i, check) => first || !hasResult.has(`${check}\0${i.fqdn}`));
    const a = loaded.config.agent;
    if (a.probeAnyTarget) this.opts.logger.warn('/probe accepts any target name (agent.probeAnyTarget: true): whoever reaches the port chooses what this agent probes, inside allowCidrs');
    this.opts.logger.info({ instances: loaded.instances.length, shard: a.shard ?? null, url: this.url,
      allowCidrs: loaded.baseContext.guard.describe(), probeTargets: a.probeAnyTarget ? 'any' : ['configured instances', ...a.probeTargets],
      schedules: Object.fromEntries(Object.entries(loaded.config.agent.schedules).map(([k, v]) => [k, v.enabled ? v.cron : 'off'])) },
    first ? 'agent started' : 'configuration reloaded');
  }

  private reloadGeneration = 0;

  /** SIGHUP: load and validate the new config; on any error keep the old one and log why. */
  async reload(): Promise<boolean> {
    if (this.stopping) return false;
    const generation = ++this.reloadGeneration;
    let next: Loaded;
    try {
      next = Agent.verify(await Agent.prepare(this.opts));
      // A shutdown (or a newer reload) that came while the files were read wins: restarting the
      // schedules now would keep a stopping process alive, or apply an older config over a newer one.
      if (this.stopping || generation !== this.reloadGeneration) return false;
    } catch (err) {
      this.metrics.reloadSuccessful.set(0);
      const message = err instanceof ConfigError || err instanceof UsageError ? err.message : `unexpected error: ${(err as Error).message}`;
      this.opts.logger.error({ err: message }, 'configuration reload failed; keeping the previous configuration');
      return false;
    }
    const prev = this.loaded.config.agent;
    if ((this.opts.listen ?? next.config.agent.listen) !== (this.opts.listen ?? prev.listen)) {
      this.opts.logger.warn({ listen: next.config.agent.listen }, 'the listen address changed: restart the agent for it to take effect');
    }
    if (next.config.agent.concurrency !== prev.concurrency) {
      this.opts.logger.warn({ concurrency: next.config.agent.concurrency }, 'the concurrency limit changed: restart the agent for it to take effect');
    }
    const warning = this.server?.setWebConfig(next.webConfig);
    if (warning) this.opts.logger.warn(warning);
    this.apply(next, false);
    this.metrics.reloadSuccessful.set(1);
    this.metrics.reloadTimestamp.set(Date.now() / 1000);
    return true;
  }

  /** Runs one check for one instance; never throws (failures become an outcome). */
  private async execute(instance: PlannedInstance, check: AgentCheck | 'all', signal: AbortSignal, deadlineMs: number): Promise<{ report?: DiagnosisReport; error?: string; seconds: number }> {
    const started = performance.now();
    const config = instance.config;
    this.metrics.inFlight.inc();
    let timer: NodeJS.Timeout | undefined;
    try {
      const ctx: ProbeContext = { ...this.loaded.baseContext, timeoutMs: Math.min(config.timeoutMs, deadlineMs), signal,
        log: this.opts.logger.child({ instance: instance.fqdn, check }) };
      // The same input `diagnose` builds: probe options, secrets (read from files/env on each run, never kept), CA file.
      // The CA file was read when the config was loaded (SIGHUP reads it again); secrets are read now.
      const caFile = config.probe.caFile;
      const input = await diagnoseInput(instance.target, { ...config, probe: { ...config.probe, caFile: undefined } }, this.opts.env ?? process.env, groupsOf(check));
      const run = diagnose({
        ...input,
        ...(caFile !== undefined && input.dataPath ? { dataPath: { ...input.dataPath, ca: this.loaded.caFiles.get(caFile) } } : {}),
        // Coverage of the required names is a property of the resolvers: the name resolution check covers it.
        requiredNames: check === 'nameResolution' || check === 'all' ? config.dns.requiredNames : [],
      }, ctx);
      // A probe that ignored its signal must not hold the run past its deadline.
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('DEADLINE_EXCEEDED')), deadlineMs + 250);
      });
      const report = await Promise.race([run, deadline]);
      if (signal.aborted) return { error: this.stopController.signal.aborted ? 'SHUTDOWN' : 'DEADLINE_EXCEEDED', seconds: (performance.now() - started) / 1000 };
      return { report, seconds: (performance.now() - started) / 1000 };
    } catch (err) {
      const code = (err as Error).message === 'DEADLINE_EXCEEDED' ? 'DEADLINE_EXCEEDED' : err instanceof UsageError || err instanceof ConfigError ? 'CONFIG_ERROR' : err instanceof HostNameError ? 'BAD_TARGET' : 'INTERNAL_ERROR';
      // Messages name files and keys, never their contents.
      if (code !== 'DEADLINE_EXCEEDED') this.opts.logger.error({ instance: instance.fqdn, check, code, err: (err as Error).message }, 'check could not run');
      return { error: code, seconds: (performance.now() - started) / 1000 };
    } finally {
      clearTimeout(timer);
      this.metrics.inFlight.dec();
    }
  }

  private async runScheduled(instance: PlannedInstance, check: AgentCheck, signal: AbortSignal, deadlineMs: number): Promise<void> {
    const result = await this.execute(instance, check, signal, deadlineMs);
    if (result.error === 'SHUTDOWN') return;
    this.metrics.checksTotal.inc({ check });
    this.metrics.checkRunDuration.observe({ check }, result.seconds);
    if (result.error) this.metrics.checkErrors.inc({ check });
    const outcome: CheckOutcome = { check, completedAt: Date.now() / 1000, durationSeconds: Math.round(result.seconds * 1e6) / 1e6,
      ...(result.report ? { report: result.report } : {}), ...(result.error ? { error: result.error } : {}) };
    const recorded = this.store.record(instance.fqdn, outcome);
    if (!recorded?.changed) return;
    const { current, previous } = recorded;
    const { state, reason, findings } = current.status;
    // The line carries the state and the findings that make it, or why the check did not run: they always agree.
    this.opts.logger[state === 'failing' || state === 'error' ? 'warn' : 'info']({
      instance: instance.fqdn, check, state, ...(reason ? { reason } : {}), previous: previous?.status.state ?? 'none',
      durationSeconds: outcome.durationSeconds,
      findings: findingsById(findings),
    }, 'check state changed');
  }

  async renderMetrics(): Promise<Buffer> {
    return this.metrics.render(this.store.lines());
  }

  /** /probe?target=&module= : one synchronous diagnosis, blackbox_exporter style. */
  async probe(query: URLSearchParams, timeoutHeader: string | string[] | undefined, clientSignal: AbortSignal): Promise<Reply> {
    const bad = (message: string): Reply => ({ status: 400, body: `${message}\n`, contentType: 'text/plain; charset=utf-8' });
    const targetText = query.get('target');
    const module = query.get('module') ?? 'dataPath';
    if (targetText === null || targetText === '') return bad('target parameter is missing: /probe?target=<mi>.<zone>.database.windows.net&module=dataPath');
    if (targetText.length > 253 + 10) return bad('target parameter is too long (a host name has at most 253 characters)');
    if (!PROBE_MODULES.includes(module)) return bad(`unknown module "${module.slice(0, 64)}": expected one of ${PROBE_MODULES.join(', ')}`);
    let fqdn: string;
    try {
      fqdn = parseTarget(targetText).fqdn;
    } catch (err) {
      if (err instanceof HostNameError) return bad(`target: ${err.message}`);
      throw err;
    }
    const fenced = this.loaded.fence.check(fqdn);
    if (!fenced.allowed) return { status: 403, body: `${fenced.reason}\n`, contentType: 'text/plain; charset=utf-8' };
    const header = Array.isArray(timeoutHeader) ? timeoutHeader[0] : timeoutHeader;
    let timeoutSeconds = PROBE_DEFAULT_TIMEOUT_SECONDS;
    if (header !== undefined) {
      const t = Number(header);
      if (!Number.isFinite(t) || t <= 0) return bad(`X-Prometheus-Scrape-Timeout-Seconds: expected a positive number of seconds, got "${header.slice(0, 32)}"`);
      timeoutSeconds = Math.min(PROBE_MAX_TIMEOUT_SECONDS, Math.max(0.1, t - PROBE_TIMEOUT_OFFSET_SECONDS));
    }
    const release = this.probeLimiter.tryAcquire();
    if (!release) {
      this.metrics.probeRejected.inc();
      return { status: 503, body: `too many concurrent /probe requests (limit ${this.probeLimiter.max})\n`, contentType: 'text/plain; charset=utf-8', headers: { 'Retry-After': '1' } };
    }
    try {
      this.metrics.probeRequests.inc({ module });
      const known = this.loaded.byFqdn.get(fqdn);
      // A target that is not a configured instance never gets the configured credentials: /probe must not
      // become a way to send a SQL password or token to any host the guard allows.
      const c = this.loaded.config;
      const anonymous = { ...c.probe, login: 'none' as const, user: undefined, passwordFile: undefined, tokenFile: undefined };
      const instance: PlannedInstance = known ?? planInstances({ ...c, probe: anonymous, instances: [], agent: { ...c.agent, shard: undefined } }, [fqdn])[0] as PlannedInstance;
      const signal = AbortSignal.any([clientSignal, this.stopController.signal, AbortSignal.timeout(timeoutSeconds * 1000)]);
      const result = await this.execute(instance, module as AgentCheck | 'all', signal, timeoutSeconds * 1000);
      const checks = module === 'all' ? new Set(AGENT_CHECKS) : new Set<AgentCheck>(['nameResolution', module as AgentCheck]);
      const findings = findingsOfRun(result.report?.findings ?? [], checks);
      const samples = result.report ? [...reportToMetrics(result.report, { checks }), ...findingSamples(findings)] : [];
      // As miprobe_check_success: a module that could not reach what it checks does not succeed.
      const success = result.report !== undefined && verdictOf(findings) !== 'failing'
        && (module === 'all' || checkStatus(module as AgentCheck, result).state !== 'not-reached');
      return { status: 200, body: await renderProbe(samples, success, result.seconds), contentType: this.metrics.registry.contentType };
    } finally {
      release();
    }
  }

  status(): object {
    const c = this.loaded.config;
    return {
      tool: { name: 'miprobe', version: VERSION }, startedAt: this.startedAt.toISOString(), ready: !this.stopping,
      shard: c.agent.shard ?? null,
      schedules: c.agent.schedules,
      checksInFlight: this.scheduler.running,
      instances: this.store.status(),
      metricFamilies: Object.values(INSTANCE_FAMILIES).map((f) => f.name),
    };
  }

  /** Stops schedules, waits up to `graceMs` for checks in flight, cancels the rest, closes the server. */
  async stop(graceMs = this.loaded.config.agent.shutdownGraceMs): Promise<{ drained: boolean }> {
    if (this.stopping) return { drained: true };
    this.stopping = true;
    this.scheduler.stop();
    const drained = await this.scheduler.drain(graceMs);
    this.stopController.abort(new Error('agent stopping'));
    if (!drained) await this.scheduler.drain(1000);
    await this.server?.close(Math.min(2000, graceMs + 500));
    this.opts.logger.info({ drained }, 'agent stopped');
    return { drained };
  }
}
