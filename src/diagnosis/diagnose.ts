// The plan: what to probe, growing as discoveries arrive. The DNS answer
// yields the address and the CNAME target; the address yields the data path,
// whose TLS chain yields the revocation checks; the CNAME target yields the
// management host, which yields its ports.
//
// Timings are the network's: our own CPU work must not sit on a probe's clock.
// So heavy code loads and first-use state (TLS contexts) is built before the
// first probe, and the probes run in three phases: (1) the instance name through
// every resolver; (2) what needs only sockets: TCP, PRELOGIN and TLS to the
// gateway, the management endpoint and its ports; (3) what costs CPU: the login
// (tedious) and its redirect, beside the DNS coverage and the revocation checks,
// which fetch and parse. Within a phase, independent probes run concurrently.
import type { Cidr } from '../net/address.js';
import { probeDnsCoverage } from '../probes/dns-coverage.js';
import { probeNameResolution, probeWithFailover, type ResolverAnswer } from '../probes/dns.js';
import type { ProbeContext } from '../probes/context.js';
import { managementNotApplicable, probeManagementPorts, type ManagementPortsResult } from '../probes/management-ports.js';
import type { DataPathResult } from '../probes/datapath.js';
import type { RevocationReport } from '../probes/revocation.js';
import { startStallMonitor } from '../net/stall.js';
import { VERSION } from '../version.js';
import { applyHostStall } from './host-rules.js';
import type { CheckLine } from './check.js';
import { dataPathChecks, dataPathFindings } from './datapath-rules.js';
import { loginAndRedirect, probeGateway, type DataPathRun, type DataPathSettings } from './datapath-plan.js';
import { prepareTlsContexts } from '../net/tds/tls.js';
import { warmUpProbes } from '../probes/warm-up.js';
import { dnsChecks, dnsFindings, type ManagementLookup } from './dns-rules.js';
import { sortFindings, verdictOf, type Finding } from './finding.js';
import { httpsChecks, httpsFindings } from './https-rules.js';
import { managementChecks, managementFindings } from './management-rules.js';
import { REPORT_SCHEMA_VERSION, type DataPathReport, type DiagnosisReport, type ManagementEndpointReport, type ResolverReport } from './report.js';
import { managementHostFromChain, type TargetName } from './target.js';

/** The parts of a diagnosis; name resolution always runs, the others can be chosen (the agent schedules them apart). */
export type CheckKind = 'dataPath' | 'management' | 'revocation';
export const ALL_CHECKS: ReadonlySet<CheckKind> = new Set<CheckKind>(['dataPath', 'management', 'revocation']);

export interface DiagnoseInput {
  readonly target: TargetName;
  readonly subnet?: Cidr | undefined;
  /** Names each custom resolver must resolve (empty skips the check). */
  readonly requiredNames: readonly string[];
  /** Which checks beyond name resolution to run; default all. */
  readonly checks?: ReadonlySet<CheckKind> | undefined;
  /** How to probe the data path; default: no login, TDS 7.x, no public endpoint. */
  readonly dataPath?: DataPathSettings | undefined;
  /** Platform revocation endpoints to check for reachability; default DEFAULT_REVOCATION_ENDPOINTS. */
  readonly revocationUrls?: readonly string[] | undefined;
  /** HTTPS endpoints whose certificate chains are checked for revocation too. */
  readonly httpsUrls?: readonly string[] | undefined;
  /** Extra ports to check on the management endpoint (--scan-ports). */
  readonly scanPorts?: readonly number[] | undefined;
}

const DEFAULT_DATA_PATH: DataPathSettings = { login: 'none', strict: false, public: false };

/** The address the application would use: the first answer, in resolver order (system/custom before Azure). */
function chosenAddress(answers: readonly ResolverAnswer[]): string | undefined {
  return answers.find((a) => a.result.ok && a.result.addresses.length > 0)?.result.addresses[0];
}

async function lookUpManagement(answers: readonly ResolverAnswer[], ctx: ProbeContext): Promise<ManagementLookup | undefined> {
  const first = answers.find((a) => a.result.ok);
  if (!first) return undefined;
  const derived = managementHostFromChain(first.result.chain.filter((h) => h.type === 'CNAME').map((h) => h.data));
  if (!derived) return undefined;
  return { ...derived, result: await probeWithFailover(derived.host, ctx) };
}

function managementReport(m: ManagementLookup | undefined, anyAnswer: boolean, target: TargetName): ManagementEndpointReport {
  if (m) {
    return { present: true, host: m.host, cnameTarget: m.cnameTarget, addresses: m.result.addresses, seconds: m.result.seconds,
      ...(m.result.error ? { error: m.result.error } : {}) };
  }
  if (!anyAnswer) return { present: false, reason: 'the instance name did not resolve, so no CNAME target was seen' };
  if (target.kind !== 'vnet-local') return { present: false, reason: `a ${target.kind} name has no management endpoint` };
  return { present: false, reason: 'no ".vnet" label in the CNAME chain: the instance uses the architecture of the November 2022 feature wave (no management endpoint), or the name is not a VNet-local managed instance name' };
}

async function runManagementPorts(m: ManagementLookup | undefined, report: ManagementEndpointReport, input: DiagnoseInput,
  ctx: ProbeContext): Promise<ManagementPortsResult> {
  if (!report.present) return managementNotApplicable(report.reason);
  const address = m?.result.addresses[0];
  if (!m || address === undefined) return managementNotApplicable(`the management endpoint ${report.host} did not resolve`);
  return probeManagementPorts(address, { host: m.host, guard: ctx.guard, timeoutMs: ctx.timeoutMs, signal: ctx.signal,
    ...(input.scanPorts ? { scanPorts: input.scanPorts } : {}) });
}

/** The TLS chains the data path saw, each named by what presented it. */
function chainsOf(run: DataPathRun): Array<{ subject: string; pem: string[] }> {
  const pick = (p: DataPathResult | undefined, subject: string): Array<{ subject: string; pem: string[] }> => {
    const tls = p?.tls;
    const info = tls ? (tls.ok ? tls : tls.info) : undefined;
    return info && info.chain.length > 0 ? [{ subject, pem: info.chain.map((c) => c.pem) }] : [];
  };
  const e = run.evidence;
  return [...pick(e.path, 'gateway'), ...pick(e.redirect?.path, 'redirect node'), ...pick(e.public, 'public endpoint')];
}

function dataPathReport(run: DataPathRun): DataPathReport {
  const e = run.evidence;
  return { ...e.path, ...(e.login ? { login: e.login } : {}), ...(e.redirect ? { redirect: e.redirect } : {}),
    ...(e.public ? { public: e.public } : {}), ...(run.publicName ? { publicName: run.publicName } : {}) };
}

export async function diagnose(input: DiagnoseInput, ctx: ProbeContext): Promise<DiagnosisReport> {
  const startedAt = new Date();
  const started = performance.now();
  const { target } = input;
  const checks = input.checks ?? ALL_CHECKS;
  // Heavy code (the PKI libraries, tedious) loads, and the TLS contexts are built, before the first probe starts.
  const settings = input.dataPath ?? DEFAULT_DATA_PATH;
  const [revocationPlan] = await Promise.all([
    checks.has('revocation') ? import('./revocation-plan.js') : undefined,
    checks.has('dataPath') && settings.login !== 'none' ? import('../probes/login.js') : undefined,
  ]);
  if (checks.has('dataPath')) prepareTlsContexts(settings.ca);
  await warmUpProbes();
  const stallMonitor = startStallMonitor();

  // Phase 1: the instance name through every resolver.
  const answers = await probeNameResolution(target.fqdn, ctx);
  const address = chosenAddress(answers);
  const anyAnswer = answers.some((a) => a.result.ok);

  // Phase 2: sockets only: the gateway (TCP, PRELOGIN, TLS) and the management endpoint with its ports.
  const managementP = lookUpManagement(answers, ctx).then(async (m) => {
    const report = managementReport(m, anyAnswer, target);
    const ports = checks.has('management') ? await runManagementPorts(m, report, input, ctx) : undefined;
    return { lookup: m, report, ports };
  });
  const gatewayP = checks.has('dataPath') && address !== undefined ? probeGateway(target, address, settings, ctx) : undefined;
  const [management, gateway] = await Promise.all([managementP, gatewayP]);

  // Phase 3: the login and its redirect, then the chains' revocation; beside them the DNS coverage and the platform endpoints.
  const dataPathP = gateway && address !== undefined
    ? loginAndRedirect(target, address, gateway, settings, ctx).then(async (run) => {
      const chains = revocationPlan ? await revocationPlan.checkChains(chainsOf(run), settings.ca, ctx) : [];
      return { run, chains };
    })
    : undefined;
  const coverageP = probeDnsCoverage(input.requiredNames, ctx);
  const endpointsP = revocationPlan?.checkPlatformEndpoints(input.revocationUrls, ctx);
  const httpsP = revocationPlan && input.httpsUrls?.length
    ? revocationPlan.readHttpsChains(input.httpsUrls, ctx).then(async (results) => {
      const chains = results.flatMap((r) => (r.ok ? [{ subject: r.url, pem: r.chainPem }] : []));
      return { results, chains: await revocationPlan.checkChains(chains, settings.ca, ctx) };
    })
    : undefined;
  const [coverage, dataPath, endpoints, https] = await Promise.all([coverageP, dataPathP, endpointsP, httpsP]);

  const dnsEvidence = { target, answers, coverage, management: management.lookup, subnet: input.subnet };
  const findings: Finding[] = dnsFindings(dnsEvidence);
  const checkLines: CheckLine[] = dnsChecks(dnsEvidence);

  if (dataPath) {
    findings.push(...dataPathFindings(dataPath.run.evidence), ...dataPath.run.extraFindings);
    checkLines.push(...dataPathChecks(dataPath.run.evidence));
  } else if (checks.has('dataPath')) {
    checkLines.push({ name: 'Data path', status: 'skip', detail: 'the instance name did not resolve to an address' });
  }
  if (management.ports) {
    findings.push(...managementFindings(management.ports));
    checkLines.push(...managementChecks(management.ports));
  }
  let revocation: RevocationReport | undefined;
  if (revocationPlan && endpoints) {
    const plan = revocationPlan;
    revocation = { chains: [...(dataPath?.chains ?? []), ...(https?.chains ?? [])], endpoints };
    findings.push(...plan.revocationFindings(revocation), ...httpsFindings(https?.results ?? []));
    checkLines.push(...httpsChecks(https?.results ?? []), ...plan.revocationChecks(revocation));
  }

  const dns: ResolverReport[] = answers.map(({ server, role, result: r }) => ({
    server, role, ok: r.ok, chain: r.chain, addresses: r.addresses, canonicalName: r.canonicalName, transport: r.transport,
    seconds: r.seconds, ...(r.error ? { error: r.error } : {}),
  }));
  const stall = stallMonitor.stop();
  const sorted = sortFindings(applyHostStall(findings, stall, ctx.timeoutMs));
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'miprobe', version: VERSION },
    target: { fqdn: target.fqdn, kind: target.kind, port: target.port,
      ...(target.miName ? { miName: target.miName } : {}), ...(target.zoneId ? { zoneId: target.zoneId } : {}),
      ...(target.cloud ? { cloud: target.cloud } : {}), ...(target.publicName ? { publicName: target.publicName } : {}) },
    startedAt: startedAt.toISOString(),
    durationSeconds: Math.round(performance.now() - started) / 1000,
    host: { maxStallSeconds: stall.maxStallMs / 1000, totalStallSeconds: stall.totalStallMs / 1000 },
    verdict: verdictOf(sorted),
    dns,
    managementEndpoint: management.report,
    dnsCoverage: coverage,
    ...(dataPath ? { dataPath: dataPathReport(dataPath.run) } : {}),
    ...(management.ports ? { managementFirewall: management.ports } : {}),
    ...(revocation ? { revocation } : {}),
    checks: checkLines,
    findings: sorted,
  };
}
