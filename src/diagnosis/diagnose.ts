// The plan: what to probe, growing as discoveries arrive. The DNS answer
// yields the CNAME target, which yields the management host; independent
// probes run concurrently, so a diagnosis lasts as long as its slowest path.
import type { Cidr } from '../net/address.js';
import { probeDnsCoverage } from '../probes/dns-coverage.js';
import { probeNameResolution, probeWithFailover } from '../probes/dns.js';
import type { ProbeContext } from '../probes/context.js';
import type { CheckLine } from './check.js';
import { dnsChecks, dnsFindings, type ManagementLookup } from './dns-rules.js';
import { sortFindings, verdictOf, type Finding } from './finding.js';
import { REPORT_SCHEMA_VERSION, type DiagnosisReport, type ManagementEndpointReport, type ResolverReport } from './report.js';
import { managementHostFromChain, type TargetName } from './target.js';
import { VERSION } from '../version.js';

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
}

async function lookUpManagement(answers: Awaited<ReturnType<typeof probeNameResolution>>, ctx: ProbeContext): Promise<ManagementLookup | undefined> {
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

export async function diagnose(input: DiagnoseInput, ctx: ProbeContext): Promise<DiagnosisReport> {
  const startedAt = new Date();
  const started = performance.now();
  const { target } = input;

  const [answers, coverage] = await Promise.all([
    probeNameResolution(target.fqdn, ctx),
    probeDnsCoverage(input.requiredNames, ctx),
  ]);
  const management = await lookUpManagement(answers, ctx);

  const evidence = { target, answers, coverage, management, subnet: input.subnet };
  const findings: Finding[] = dnsFindings(evidence);
  const checks: CheckLine[] = dnsChecks(evidence);

  const dns: ResolverReport[] = answers.map(({ server, role, result: r }) => ({
    server, role, ok: r.ok, chain: r.chain, addresses: r.addresses, canonicalName: r.canonicalName, transport: r.transport,
    seconds: r.seconds, ...(r.error ? { error: r.error } : {}),
  }));
  const sorted = sortFindings(findings);
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'miprobe', version: VERSION },
    target: { fqdn: target.fqdn, kind: target.kind, port: target.port,
      ...(target.miName ? { miName: target.miName } : {}), ...(target.zoneId ? { zoneId: target.zoneId } : {}),
      ...(target.cloud ? { cloud: target.cloud } : {}), ...(target.publicName ? { publicName: target.publicName } : {}) },
    startedAt: startedAt.toISOString(),
    durationSeconds: Math.round(performance.now() - started) / 1000,
    verdict: verdictOf(sorted),
    dns,
    managementEndpoint: managementReport(management, answers.some((a) => a.result.ok), target),
    dnsCoverage: coverage,
    checks,
    findings: sorted,
  };
}
