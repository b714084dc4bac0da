// Name-resolution findings and check lines: pure functions of probe results.
import { cidrContains, isPrivateAddress, type Cidr } from '../net/address.js';
import type { ResolveResult } from '../net/dns/types.js';
import type { CoverageResult } from '../probes/dns-coverage.js';
import type { ResolverAnswer } from '../probes/dns.js';
import { DNS, NAME } from './catalog/dns.js';
import type { CheckLine } from './check.js';
import { finding, type Finding } from './finding.js';
import type { TargetName } from './target.js';

export interface ManagementLookup {
  readonly host: string;
  readonly cnameTarget: string;
  readonly result: ResolveResult;
}

export interface DnsEvidence {
  readonly target: TargetName;
  readonly answers: readonly ResolverAnswer[];
  readonly coverage: readonly CoverageResult[];
  /** Undefined when no answer carried a `.vnet` label (or no answer at all). */
  readonly management?: ManagementLookup | undefined;
  readonly subnet?: Cidr | undefined;
}

const UNREACHABLE_CODES = new Set(['DNS_TIMEOUT', 'DNS_NETWORK']);
const RESOLVER_ERROR_CODES = new Set(['DNS_SERVFAIL', 'DNS_REFUSED', 'DNS_MALFORMED', 'DNS_NOTIMP', 'DNS_FORMERR', 'DNS_RCODE']);

function errorFinding(answer: ResolverAnswer, name: string): Finding | undefined {
  const error = answer.result.error;
  if (!error) return undefined;
  const evidence = `${answer.server} (${answer.role}) for ${name}: ${error.code}: ${error.message}`;
  if (error.code === 'DNS_NXDOMAIN') return finding(DNS.nxdomain, evidence);
  if (UNREACHABLE_CODES.has(error.code)) return finding(DNS.unreachable, evidence);
  if (RESOLVER_ERROR_CODES.has(error.code)) return finding(DNS.resolverError, evidence);
  if (error.code === 'DNS_CNAME_LOOP' || error.code === 'DNS_CNAME_TOO_LONG') return finding(DNS.chainBroken, evidence);
  if (error.code === 'DNS_NODATA') return finding(DNS.noAddress, evidence);
  if (error.code === 'GUARD_DENIED') return finding(DNS.guardDenied, evidence);
  return finding(DNS.resolverError, evidence);
}

const addressKey = (r: ResolveResult): string => [...r.addresses].sort().join(',');

function addressFindings(answer: ResolverAnswer, subnet: Cidr | undefined): Finding[] {
  const out: Finding[] = [];
  for (const address of answer.result.addresses) {
    const where = `${answer.result.name} -> ${address} via ${answer.server}`;
    if (subnet) {
      if (!cidrContains(subnet, address)) {
        out.push(isPrivateAddress(address)
          ? finding(DNS.outsideSubnet, `${where}: not in subnet ${subnet.text}`)
          : finding(DNS.notPrivate, `${where}: not in subnet ${subnet.text} and not a private address`));
      }
    } else if (!isPrivateAddress(address)) {
      out.push(finding(DNS.notPrivate, `${where}: not RFC 1918, RFC 6598 or IPv6 ULA`));
    }
  }
  return out;
}

export function dnsFindings(ev: DnsEvidence): Finding[] {
  const out: Finding[] = [];
  if (ev.target.kind === 'custom-domain') out.push(finding(NAME.customDomain, `${ev.target.fqdn} does not end in <mi>.<zone>.<sql suffix>`));
  if (ev.target.kind === 'public-endpoint') out.push(finding(NAME.publicEndpoint, `${ev.target.fqdn} (port 3342)`));
  if (ev.target.kind === 'private-link') out.push(finding(NAME.privateLink, ev.target.fqdn));

  for (const answer of ev.answers) {
    const err = errorFinding(answer, ev.target.fqdn);
    if (err) out.push(err);
    // The public endpoint is meant to resolve publicly: the private-address rule is for VNet-local names.
    // A private endpoint lives in its own subnet, so --subnet (the instance's) does not apply to it.
    else if (ev.target.kind !== 'public-endpoint') out.push(...addressFindings(answer, ev.target.kind === 'vnet-local' ? ev.subnet : undefined));
    if (answer.result.transport === 'tcp') out.push(finding(DNS.tcpFallback, `${answer.server} truncated the UDP answer for ${ev.target.fqdn}`));
  }

  const answered = ev.answers.filter((a) => a.result.ok);
  const distinct = new Set(answered.map((a) => addressKey(a.result)));
  if (distinct.size > 1) {
    const detail = answered.map((a) => `${a.server} (${a.role}): ${a.result.addresses.join(', ')}`).join('; ');
    const azure = answered.find((a) => a.role === 'azure');
    const azureDiffers = azure !== undefined && answered.some((a) => a.role !== 'azure' && addressKey(a.result) !== addressKey(azure.result));
    out.push(finding(azureDiffers ? DNS.azureDisagrees : DNS.disagree, detail));
  }

  if (answered.length > 0 && ev.target.kind === 'vnet-local') {
    if (!ev.management) {
      const chain = answered[0]?.result.chain.map((h) => h.data).join(' -> ') ?? '';
      out.push(finding(DNS.noVnetLabel, `chain ${ev.target.fqdn}${chain ? ` -> ${chain}` : ''} has no ".vnet" label`));
    } else if (!ev.management.result.ok) {
      const e = ev.management.result.error;
      out.push(finding(DNS.managementUnresolved, `${ev.management.host}: ${e ? `${e.code}: ${e.message}` : 'no address'}`));
    } else {
      const priv = ev.management.result.addresses.filter(isPrivateAddress);
      if (priv.length > 0) out.push(finding(DNS.managementPrivate, `${ev.management.host} -> ${priv.join(', ')}`));
    }
  }

  // A resolver that did not answer at all is one finding (above), not sixteen.
  const unreachable = new Set(ev.answers.filter((a) => a.result.error && (UNREACHABLE_CODES.has(a.result.error.code) || a.result.error.code === 'GUARD_DENIED')).map((a) => a.server));
  for (const cov of ev.coverage) {
    if (cov.failures.length === 0 || unreachable.has(cov.server)) continue;
    const names = cov.failures.map((f) => `${f.name} (${f.code})`).join(', ');
    out.push(finding(DNS.customDnsCoverage, `${cov.server} failed ${cov.failures.length} of ${cov.checked}: ${names}`));
  }
  return out;
}

function chainText(r: ResolveResult): string {
  return [r.name, ...r.chain.filter((h) => h.type === 'CNAME').map((h) => h.data)].join(' -> ');
}

export function dnsChecks(ev: DnsEvidence): CheckLine[] {
  const lines: CheckLine[] = ev.answers.map((a) => {
    const r = a.result;
    if (!r.ok) return { name: `DNS ${a.server} (${a.role})`, status: 'fail', seconds: r.seconds, detail: r.error ? `${r.error.code}: ${r.error.message}` : 'no answer' };
    const bad = ev.target.kind !== 'public-endpoint' && addressFindings(a, ev.target.kind === 'vnet-local' ? ev.subnet : undefined).length > 0;
    return { name: `DNS ${a.server} (${a.role})`, status: bad ? 'fail' : 'pass', seconds: r.seconds,
      detail: `${chainText(r)} = ${r.addresses.join(', ')}${r.transport === 'tcp' ? ' (over TCP)' : ''}` };
  });
  if (ev.management) {
    const r = ev.management.result;
    lines.push({ name: 'Management endpoint name', status: r.ok ? 'pass' : 'warn', seconds: r.seconds,
      detail: r.ok ? `${ev.management.host} = ${r.addresses.join(', ')}` : `${ev.management.host}: ${r.error?.code ?? 'no address'}` });
  } else if (ev.target.kind === 'vnet-local' && ev.answers.some((a) => a.result.ok)) {
    lines.push({ name: 'Management endpoint name', status: 'info', detail: 'not applicable: no ".vnet" label in the CNAME chain' });
  }
  for (const cov of ev.coverage) {
    lines.push({ name: `DNS coverage ${cov.server}`, status: cov.failures.length ? 'fail' : 'pass', seconds: cov.seconds,
      detail: cov.failures.length ? `${cov.failures.length} of ${cov.checked} required names fail` : `${cov.checked} required names resolve` });
  }
  return lines;
}
