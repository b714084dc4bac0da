// Name-resolution findings and check lines: pure functions of probe results,
// one pair per check (the instance name, the management endpoint's name, DNS coverage).
import { cidrContains, isPrivateAddress, type Cidr } from '../net/address.js';
import type { ResolveResult } from '../net/dns/types.js';
import type { CoverageResult } from '../probes/dns-coverage.js';
import type { ResolverAnswer } from '../probes/dns.js';
import { DNS, NAME } from './catalog/dns.js';
import type { CheckLine } from './check.js';
import { finding, type Finding } from './finding.js';
import { managementHostFromChain, type TargetName } from './target.js';

export interface ManagementLookup {
  readonly host: string;
  readonly cnameTarget: string;
  readonly result: ResolveResult;
}

const UNREACHABLE_CODES = new Set(['DNS_TIMEOUT', 'DNS_NETWORK']);
const RESOLVER_ERROR_CODES = new Set(['DNS_SERVFAIL', 'DNS_REFUSED', 'DNS_MALFORMED', 'DNS_NOTIMP', 'DNS_FORMERR', 'DNS_RCODE']);

/**
 * A silent resolver breaks resolution from here only when no other resolver this host uses (system or custom)
 * answered: with one that did, clients fail over to it after a timeout, so connections are slow, not broken.
 */
function silentResolver(answer: ResolverAnswer, evidence: string, answers: readonly ResolverAnswer[]): Finding {
  const others = answers.filter((a) => a !== answer && a.role !== 'azure' && !UNREACHABLE_CODES.has(a.result.error?.code ?? '')
    && a.result.error?.code !== 'GUARD_DENIED');
  if (others.length === 0) return finding(DNS.unreachable, evidence);
  return finding(DNS.unreachable, `${evidence}; ${others.map((a) => `${a.server} (${a.role})`).join(', ')} answered, so clients fail over after a timeout`, {
    severity: 'warning',
    fix: 'Another resolver of this host answered, so names resolve, but slowly: a client tries this one first and waits for its timeout '
      + '(seconds on every new connection; a short connect timeout fails). Fix the resolver (its address; UDP and TCP 53 to it from this '
      + 'host through NSGs, firewalls, appliances) or remove it from the resolver list; in Azure the VNet resolver is 168.63.129.16.',
  });
}

function errorFinding(answer: ResolverAnswer, name: string, answers: readonly ResolverAnswer[]): Finding | undefined {
  const error = answer.result.error;
  if (!error) return undefined;
  const evidence = `${answer.server} (${answer.role}) for ${name}: ${error.code}: ${error.message}`;
  if (error.code === 'DNS_NXDOMAIN') return finding(DNS.nxdomain, evidence);
  if (UNREACHABLE_CODES.has(error.code)) return silentResolver(answer, evidence, answers);
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

/** The instance name through each resolver: its kind, each answer, agreement, the chain's ".vnet" label. */
export function nameFindings(answers: readonly ResolverAnswer[], target: TargetName, subnet: Cidr | undefined): Finding[] {
  const out: Finding[] = [];
  if (target.kind === 'custom-domain') out.push(finding(NAME.customDomain, `${target.fqdn} does not end in <mi>.<zone>.<sql suffix>`));
  if (target.kind === 'public-endpoint') out.push(finding(NAME.publicEndpoint, `${target.fqdn} (port 3342)`));
  if (target.kind === 'private-link') out.push(finding(NAME.privateLink, target.fqdn));

  for (const answer of answers) {
    const err = errorFinding(answer, target.fqdn, answers);
    if (err) out.push(err);
    // The public endpoint is meant to resolve publicly: the private-address rule is for VNet-local names.
    // A private endpoint lives in its own subnet, so --subnet (the instance's) does not apply to it.
    else if (target.kind !== 'public-endpoint') out.push(...addressFindings(answer, target.kind === 'vnet-local' ? subnet : undefined));
    if (answer.result.transport === 'tcp') out.push(finding(DNS.tcpFallback, `${answer.server} truncated the UDP answer for ${target.fqdn}`));
  }

  const answered = answers.filter((a) => a.result.ok);
  const distinct = new Set(answered.map((a) => addressKey(a.result)));
  if (distinct.size > 1) {
    const detail = answered.map((a) => `${a.server} (${a.role}): ${a.result.addresses.join(', ')}`).join('; ');
    const azure = answered.find((a) => a.role === 'azure');
    const azureDiffers = azure !== undefined && answered.some((a) => a.role !== 'azure' && addressKey(a.result) !== addressKey(azure.result));
    out.push(finding(azureDiffers ? DNS.azureDisagrees : DNS.disagree, detail));
  }
  const first = answered[0];
  if (first && target.kind === 'vnet-local' && !managementHostFromChain(cnamesOf(first.result))) {
    const chain = first.result.chain.map((h) => h.data).join(' -> ');
    out.push(finding(DNS.noVnetLabel, `chain ${target.fqdn}${chain ? ` -> ${chain}` : ''} has no ".vnet" label`));
  }
  return out;
}

/** The CNAME targets of an answer, in order. */
export function cnamesOf(r: ResolveResult): string[] {
  return r.chain.filter((h) => h.type === 'CNAME').map((h) => h.data);
}

/** The legacy management endpoint's name, resolved. */
export function managementNameFindings(m: ManagementLookup): Finding[] {
  if (!m.result.ok) {
    const e = m.result.error;
    return [finding(DNS.managementUnresolved, `${m.host}: ${e ? `${e.code}: ${e.message}` : 'no address'}`)];
  }
  const priv = m.result.addresses.filter(isPrivateAddress);
  return priv.length > 0 ? [finding(DNS.managementPrivate, `${m.host} -> ${priv.join(', ')}`)] : [];
}

/** The names the instance depends on, through each custom resolver that answered. */
export function coverageFindings(coverage: readonly CoverageResult[]): Finding[] {
  return coverage.flatMap((cov) => (cov.failures.length === 0 ? [] : [finding(DNS.customDnsCoverage,
    `${cov.server} failed ${cov.failures.length} of ${cov.checked}: ${cov.failures.map((f) => `${f.name} (${f.code})`).join(', ')}`)]));
}

function chainText(r: ResolveResult): string {
  return [r.name, ...cnamesOf(r)].join(' -> ');
}

export function nameLines(answers: readonly ResolverAnswer[], target: TargetName, subnet: Cidr | undefined): CheckLine[] {
  const lines: CheckLine[] = answers.map((a) => {
    const r = a.result;
    if (!r.ok) return { name: `DNS ${a.server} (${a.role})`, status: 'fail', seconds: r.seconds, detail: r.error ? `${r.error.code}: ${r.error.message}` : 'no answer' };
    const bad = target.kind !== 'public-endpoint' && addressFindings(a, target.kind === 'vnet-local' ? subnet : undefined).length > 0;
    return { name: `DNS ${a.server} (${a.role})`, status: bad ? 'fail' : 'pass', seconds: r.seconds,
      detail: `${chainText(r)} = ${r.addresses.join(', ')}${r.transport === 'tcp' ? ' (over TCP)' : ''}` };
  });
  return lines;
}

export function managementNameLines(m: ManagementLookup): CheckLine[] {
  const r = m.result;
  return [{ name: 'Management endpoint name', status: r.ok ? 'pass' : 'warn', seconds: r.seconds,
    detail: r.ok ? `${m.host} = ${r.addresses.join(', ')}` : `${m.host}: ${r.error?.code ?? 'no address'}` }];
}

export function coverageLines(coverage: readonly CoverageResult[]): CheckLine[] {
  return coverage.map((cov) => ({ name: `DNS coverage ${cov.server}`, status: cov.failures.length ? 'fail' : 'pass', seconds: cov.seconds,
    detail: cov.failures.length ? `${cov.failures.length} of ${cov.checked} required names fail` : `${cov.checked} required names resolve` }));
}
