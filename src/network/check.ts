// check-network's engine: exports in, checks and findings out. Pure: no I/O.
//
//   evaluateNetwork(input: NetworkInput): NetworkCheckReport
//   detectArchitecture(nsg?, routeTable?): { architecture, reason }   (./architecture.ts)
import { VERSION } from '../version.js';
import { NOT_REACHED, type CheckLine } from '../diagnosis/check.js';
import { NSG, UDR } from '../diagnosis/catalog/network.js';
import { finding, sortFindings, verdictOf, type FindingDefinition } from '../diagnosis/finding.js';
import { parseCidr, type Cidr } from '../net/address.js';
import { requiredTag, type RequiredAddress } from './addresses.js';
import { detectArchitecture } from './architecture.js';
import type { Nsg, RouteTable, Subnet, Vnet, Direction } from './arm.js';
import { azCommand, nsgRuleCreate, nsgRuleUpdate, routeCreate, routeUpdate } from './az.js';
import { describeRule, evaluateFlow, matchRule, orderedRules, type FlowEvaluation, type FlowSpec } from './nsg.js';
import { azPorts, formatPorts, isEmptyPorts, subtractPorts, unionPorts, type PortSet } from './ports.js';
import {
  FAILOVER_PORTS, ROUTE_REQUIREMENTS, RULE_REQUIREMENTS, type AddressRef, type Architecture, type RouteRequirement, type RuleRequirement,
} from './requirements.js';
import { describeRoute, evaluateRoute, type RouteTaker } from './routes.js';
import { checkSubnet, checkVnet, type NotReached } from './subnet.js';
import { NETWORK_SCHEMA_VERSION, type NetworkCheckReport, type NetworkFinding } from './types.js';

export interface NetworkInput {
  readonly subnet: Subnet;
  readonly nsg?: Nsg;
  readonly routeTable?: RouteTable;
  readonly vnet?: Vnet;
  readonly architecture: Architecture | 'auto';
  readonly region?: string;
  readonly regionPair?: string;
  /** Transactional replication is used (port 445 outbound becomes mandatory). */
  readonly replication?: boolean;
  /** The failover-group partner's subnet prefixes (TCP 5022 and 11000-11999 both ways become mandatory). */
  readonly failoverPartner?: readonly Cidr[];
}

/** The subnets a requirement's MI_SUBNET and PARTNER_SUBNET stand for. */
interface Subnets {
  readonly own: readonly Cidr[];
  readonly ownText: string;
  readonly partner: readonly Cidr[];
}

function resolve(ref: AddressRef, subnets: Subnets): RequiredAddress {
  if (ref === 'MI_SUBNET') return { kind: 'subnet', cidrs: subnets.own, text: `MI SUBNET ${subnets.ownText}` };
  if (ref === 'PARTNER_SUBNET') return { kind: 'subnet', cidrs: subnets.partner, text: `PARTNER SUBNET ${subnets.partner.map((c) => c.text).join(', ')}` };
  if (ref === 'Any') return { kind: 'any' };
  return requiredTag(ref);
}

function azAddress(ref: AddressRef, subnets: Subnets): string[] {
  if (ref === 'MI_SUBNET') return subnets.own.map((c) => c.text);
  if (ref === 'PARTNER_SUBNET') return subnets.partner.map((c) => c.text);
  return [ref === 'Any' ? '*' : ref];
}

/** A free priority in front of `before` (exclusive), the preferred one when free. */
function freePriority(nsg: Nsg, direction: Direction, preferred: number, before: number | undefined, reserved: Set<string>): number | undefined {
  const used = new Set(nsg.rules.filter((r) => r.direction === direction && !r.isDefault).map((r) => r.priority));
  const free = (p: number): boolean => !used.has(p) && !reserved.has(`${direction}:${p}`);
  const limit = Math.min(before ?? 4097, 4097);
  let chosen: number | undefined;
  if (preferred < limit && free(preferred)) chosen = preferred;
  else for (let p = 100; p < limit && chosen === undefined; p++) if (free(p)) chosen = p;
  if (chosen !== undefined) reserved.add(`${direction}:${chosen}`);
  return chosen;
}

function flowText(req: RuleRequirement, spec: FlowSpec): string {
  const src = spec.source.kind === 'any' ? 'Any' : spec.source.text;
  const dst = spec.destination.kind === 'any' ? 'Any' : spec.destination.text;
  return `${req.direction} ${req.protocol === '*' ? 'Any' : req.protocol} ${src} -> ${dst} ports ${formatPorts(req.ports)}`;
}

function defFor(req: RuleRequirement, critical: FindingDefinition): FindingDefinition {
  if (req.severity === 'warning') return NSG.recommendedRule;
  if (req.severity === 'info') return NSG.optionalRule;
  return critical;
}

interface RuleOutcome {
  readonly check: CheckLine;
  readonly findings: NetworkFinding[];
}

function evaluateRuleRequirement(nsg: Nsg, req: RuleRequirement, subnets: Subnets, reserved: Set<string>): RuleOutcome {
  const spec: FlowSpec = { direction: req.direction, protocol: req.protocol, ports: req.ports,
    source: resolve(req.source, subnets), destination: resolve(req.destination, subnets) };
  const ev = evaluateFlow(nsg, spec);
  const name = `NSG ${req.label}`;
  const flow = flowText(req, spec);
  const findings: NetworkFinding[] = [];
  const allowRules = unique(ev.allowedBy.map((d) => d.rule));

  if (isEmptyPorts(ev.deniedPorts)) {
    for (const p of ev.partialDenies) {
      // A certain partial deny breaks a mandatory flow as surely as a full one; an uncertain one is a warning.
      const def = p.definite ? defFor(req, NSG.certainPartialDeny) : NSG.partialDeny;
      findings.push(finding(def, `${describeRule(p.rule)} matches part of ${flow} on ports ${formatPorts(p.ports)} (${p.why}), `
        + `before ${allowRules.map(describeRule).join(', ')} admits it`));
    }
    const custom = allowRules.filter((r) => !r.isDefault);
    if (req.singleRule && custom.length > 1) {
      findings.push(finding(NSG.splitManagementRule, `${flow} is admitted by ${custom.length} rules: `
        + ev.allowedBy.map((d) => `${d.rule.name} (${formatPorts(d.ports)})`).join(', ')));
    }
    const certain = ev.partialDenies.some((p) => p.definite) && req.severity === 'critical';
    return { check: { name, status: certain ? 'fail' : ev.partialDenies.length ? 'warn' : 'pass', detail: `allowed by ${allowRules.map((r) => `${r.name} (${r.priority})`).join(', ')}` }, findings };
  }

  const deniers = unique(ev.deniedBy.map((d) => d.rule));
  const deniedText = deniers.length ? deniers.map(describeRule).join(', ') : 'no rule';
  const partialNote = ev.partialAllows.length
    ? `; ${ev.partialAllows.map((p) => `${p.rule.name} admits only part of it (${p.why})`).join('; ')}` : '';
  const failStatus = req.severity === 'critical' ? 'fail' : req.severity === 'warning' ? 'warn' : 'info';
  const firstCustomDeny = [...ev.deniedBy.map((d) => d.rule), ...ev.partialDenies.map((p) => p.rule)]
    .filter((r) => !r.isDefault).reduce<number | undefined>((min, r) => (min === undefined || r.priority < min ? r.priority : min), undefined);

  if (ev.shadowed.length > 0) {
    const s = ev.shadowed[0]!;
    const prio = freePriority(nsg, req.direction, s.allow.priority, s.deny.priority, reserved);
    const evidence = ev.shadowed.map((x) => `${describeRule(x.deny)} takes ${flow.replace(/ports .*$/, '')}ports ${formatPorts(x.ports)} `
      + `before ${describeRule(x.allow)}`).join('; ');
    findings.push({ ...finding(defFor(req, NSG.shadowedRule), evidence),
      command: nsgRuleUpdate(nsg.resourceGroup, nsg.name, s.allow.name, { priority: prio }) });
    return { check: { name, status: failStatus, detail: `shadowed: ${s.deny.name} (${s.deny.priority}) before ${s.allow.name} (${s.allow.priority})` }, findings };
  }

  const customAllows = allowRules.filter((r) => !r.isDefault);
  if (customAllows.length > 0 && req.severity === 'critical') {
    // Some ports are admitted by a rule built for this traffic, the rest are not: a wrong port list.
    const rule = customAllows[0]!;
    const missing = ev.deniedPorts;
    const fixed = unionPorts(rule.destinationPorts, missing);
    findings.push({ ...finding(NSG.wrongPorts, `${describeRule(rule)} admits ${flow.replace(/ports .*$/, '')}ports `
      + `${formatPorts(ev.allowedPorts)} but not ${formatPorts(missing)} (denied by ${deniedText})${partialNote}`),
      command: nsgRuleUpdate(nsg.resourceGroup, nsg.name, rule.name, { ports: azPorts(fixed) }) });
    return { check: { name, status: failStatus, detail: `ports ${formatPorts(missing)} denied by ${deniers.map((r) => r.name).join(', ') || 'no rule'}` }, findings };
  }

  const prio = freePriority(nsg, req.direction, req.suggested.priority, firstCustomDeny, reserved);
  const missingPorts: PortSet = ev.deniedPorts;
  const allPorts = isEmptyPorts(subtractPorts(req.ports, missingPorts));
  findings.push({ ...finding(defFor(req, NSG.missingRule), `no rule admits ${flow}${allPorts ? '' : ` on ports ${formatPorts(missingPorts)}`}; `
    + `the traffic reaches ${deniedText}${partialNote}`),
    command: nsgRuleCreate({ resourceGroup: nsg.resourceGroup, nsgName: nsg.name, name: req.suggested.name, priority: prio,
      direction: req.direction, protocol: req.protocol, sources: azAddress(req.source, subnets),
      destinations: azAddress(req.destination, subnets), ports: azPorts(missingPorts) }) });
  return { check: { name, status: failStatus, detail: `denied by ${deniers.map((r) => `${r.name} (${r.priority})`).join(', ') || 'no rule'}` }, findings };
}

function platformRuleFindings(nsg: Nsg, req: RuleRequirement, ev: FlowEvaluation | undefined, spec: FlowSpec): NetworkFinding[] {
  if (!req.platformName) return [];
  // The platform appends the subnet range and a version (…_mi-healthprobe-in-10-0-0-0-24-v10); older exports lack them.
  const wanted = req.platformName.toLowerCase();
  const rule = nsg.rules.find((r) => r.direction === req.direction
    && (r.name.toLowerCase() === wanted || r.name.toLowerCase().startsWith(`${wanted}-`)));
  if (!rule) {
    const by = ev && ev.allowedBy.length ? `; the traffic is admitted by ${unique(ev.allowedBy.map((d) => d.rule)).map((r) => r.name).join(', ')}` : '';
    return [finding(NSG.platformRuleAbsent, `${nsg.name} has no rule named ${req.platformName}[-<range>-v<n>]${by}`)];
  }
  const m = matchRule(rule, spec);
  const missingPorts = subtractPorts(spec.ports, rule.destinationPorts);
  const problems = [
    ...(rule.access !== 'Allow' ? [`access is ${rule.access}`] : []),
    ...(m.relation === 'disjoint' ? ['it does not match the platform traffic'] : m.why),
    ...(isEmptyPorts(missingPorts) ? [] : [`ports ${formatPorts(missingPorts)} not included`]),
  ];
  return problems.length ? [finding(NSG.platformRuleChanged, `${describeRule(rule)}: ${problems.join('; ')}`)] : [];
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

function routeDelete(rt: RouteTable, route: string): string {
  return azCommand(['az', 'network', 'route-table', 'route', 'delete', '--resource-group', rt.resourceGroup ?? '<resource-group>',
    '--route-table-name', rt.name, '--name', route]);
}

/**
 * UDR-002 for one route that takes required traffic to another hop, with the command that fixes *that* route:
 * the route for exactly this prefix is updated; a wider one (0.0.0.0/0 to a firewall) stays and the more specific
 * required route is added, which wins by longest prefix; a narrower one inside the prefix is removed (a CIDR) or set to
 * the required hop (a regional tag), so its part goes where it must (adding or fixing the wider route would change nothing).
 */
function takerFinding(rt: RouteTable, hop: string, name: string, prefix: string, t: RouteTaker): NetworkFinding {
  const via = describeRoute(t.route);
  switch (t.relation) {
    case 'exact':
      return { ...finding(UDR.wrongNextHop, `traffic to ${prefix} follows ${via}, the route for exactly this prefix; required next hop ${hop}`),
        command: routeUpdate(rt.resourceGroup, rt.name, t.route.name, hop) };
    case 'wider':
      return { ...finding(UDR.wrongNextHop, `traffic to ${prefix} follows ${via}: no more specific route exists, so this wider route `
        + `carries it (longest prefix match); required next hop ${hop}: add ${name} (${prefix} -> ${hop}), which wins over it`),
      command: routeCreate(rt.resourceGroup, rt.name, name, prefix, hop) };
    case 'narrower': {
      // A CIDR inside the subnet is removed (its part then follows the subnet route); a regional tag inside a global
      // one may itself be required (Storage.REGION inside Storage), so it gets the required hop instead.
      const remove = parseCidr(t.route.addressPrefix) !== undefined;
      return { ...finding(UDR.wrongNextHop, `traffic to ${t.route.addressPrefix}, part of ${prefix}, follows ${via}: it is more specific `
        + `than any route for the whole of ${prefix} (longest prefix match), so it takes that part to ${t.route.nextHopType}; `
        + `required next hop ${hop}: ${remove ? `remove ${t.route.name} (or set its next hop to ${hop})` : `set the next hop of ${t.route.name} to ${hop}`}; `
        + `changing the route for ${prefix} would not help`),
      command: remove ? routeDelete(rt, t.route.name) : routeUpdate(rt.resourceGroup, rt.name, t.route.name, hop) };
    }
  }
}

function routeOutcome(rt: RouteTable, req: RouteRequirement, ctx: { subnetCidrs: readonly Cidr[]; region?: string; regionPair?: string }): RuleOutcome {
  const ev = evaluateRoute(rt, req, ctx);
  const name = `UDR ${ev.name}`;
  const hop = req.nextHopType;
  switch (ev.status) {
    case 'skip':
      return { check: { name, status: 'skip', detail: ev.reason }, findings: [] };
    case 'pass':
      return { check: { name, status: 'pass', detail: ev.carrier.relation === 'exact' ? `${ev.prefix} -> ${hop} (${ev.carrier.route.name})`
        : `${ev.prefix} -> ${hop} via wider route ${describeRoute(ev.carrier.route)}` }, findings: [] };
    case 'missing': {
      const wider = ev.wider ? `; until it exists, ${describeRoute(ev.wider.route)} may carry the traffic (it does if it is more `
        + 'specific than the VNet\'s own address space)' : '';
      const diverted = ev.diverted.map((t) => takerFinding(rt, hop, ev.name, ev.prefix, t));
      return { check: { name, status: 'fail', detail: `no route for ${ev.prefix}${ev.diverted.length ? `; ${ev.diverted.map((t) => describeRoute(t.route)).join(', ')} takes part of it` : ''}` },
        findings: [{ ...finding(UDR.missingRoute, `${rt.name} has no route for ${ev.prefix} (required: ${ev.name}, next hop ${hop})${wider}`),
          command: routeCreate(rt.resourceGroup, rt.name, ev.name, ev.prefix, hop) }, ...diverted] };
    }
    case 'wrong-hop': {
      const first = ev.takers[0]!;
      const part = first.relation === 'narrower' ? `${first.route.addressPrefix} of ${ev.prefix}` : ev.prefix;
      return { check: { name, status: 'fail', detail: `${part} goes to ${first.route.nextHopType} via ${first.route.name}`
        + `${ev.takers.length > 1 ? ` (and ${ev.takers.length - 1} more)` : ''}` },
      findings: ev.takers.map((t) => takerFinding(rt, hop, ev.name, ev.prefix, t)) };
    }
  }
}

/** A finding about one requirement also cites the requirement's own source (the failover-group page, say) when its definition does not. */
function citing(f: NetworkFinding, ref: string): NetworkFinding {
  return f.ref.includes(ref.split(' ')[0] ?? ref) ? f : { ...f, ref: `${ref}; ${f.ref}` };
}

/** A check that cannot say anything about this subnet, the way diagnose shows one: "not reached: why (cause)". */
function notReachedLine(name: string, n: NotReached): CheckLine {
  return { name, status: 'skip', detail: `${NOT_REACHED}${n.because} (${n.cause})`, skipped: 'not-reached', causedBy: n.cause };
}

/** Along the subnet's configuration, as the check lines run: the subnet, its virtual network, then the NSG, then the routes. */
const PATH_ORDER = ['SUBNET', 'VNET', 'NSG', 'UDR'];
const pathRank = (id: string): number => {
  const i = PATH_ORDER.indexOf(id.split('-')[0] ?? '');
  return i === -1 ? PATH_ORDER.length : i;
};

export function evaluateNetwork(input: NetworkInput): NetworkCheckReport {
  const { subnet, nsg, routeTable: rt, vnet } = input;
  const detected = input.architecture === 'auto' ? detectArchitecture(nsg, rt) : undefined;
  const architecture: Architecture = detected?.architecture ?? (input.architecture as Architecture);
  const architectureReason = detected?.reason ?? 'given by --architecture';
  const subnetCidrs = subnet.addressPrefixes.map((p) => parseCidr(p)).filter((c): c is Cidr => c !== undefined && c.family === 4);
  const subnetText = subnetCidrs.map((c) => c.text).join(', ');
  const checks: CheckLine[] = [{ name: 'Architecture', status: 'info', detail: `${architecture} (${architectureReason})` }];
  const findings: NetworkFinding[] = [];
  const add = (o: { checks?: CheckLine[]; check?: CheckLine; findings: NetworkFinding[] }): void => {
    if (o.check) checks.push(o.check);
    if (o.checks) checks.push(...o.checks);
    findings.push(...o.findings);
  };

  const attachments = checkSubnet(subnet, architecture, nsg, rt);
  add(attachments);
  if (vnet) add(checkVnet(vnet, subnet));
  else checks.push({ name: 'VNet DNS', status: 'skip', detail: 'no --vnet-file given', skipped: 'off' });

  const subnets: Subnets = { own: subnetCidrs, ownText: subnetText, partner: input.failoverPartner ?? [] };
  const applies = (when: RuleRequirement['when']): boolean => when === undefined || (when === 'replication' && input.replication === true)
    || (when === 'failover' && subnets.partner.length > 0);
  const ruleReqs = RULE_REQUIREMENTS.filter((r) => r.architecture === architecture && applies(r.when));
  if (attachments.nsgNotReached) checks.push(notReachedLine('NSG rules', attachments.nsgNotReached));
  else if (!nsg) checks.push({ name: 'NSG rules', status: 'skip', detail: 'no --nsg-file given', skipped: 'off' });
  else if (subnetCidrs.length === 0) checks.push({ name: 'NSG rules', status: 'skip', detail: 'the subnet has no IPv4 prefix' });
  else {
    if (nsg.defaultsAssumed) checks.push({ name: 'NSG default rules', status: 'info', detail: 'not in the export; Azure\'s fixed defaults assumed' });
    const reserved = new Set<string>();
    for (const req of ruleReqs) {
      const outcome = evaluateRuleRequirement(nsg, req, subnets, reserved);
      add({ check: outcome.check, findings: outcome.findings.map((f) => citing(f, req.ref)) });
      if (req.platformName) {
        const spec: FlowSpec = { direction: req.direction, protocol: req.protocol, ports: req.ports,
          source: resolve(req.source, subnets), destination: resolve(req.destination, subnets) };
        findings.push(...platformRuleFindings(nsg, req, evaluateFlow(nsg, spec), spec));
      }
    }
    if (!input.replication && architecture === 'legacy') {
      checks.push({ name: 'NSG port 445 outbound (replication)', status: 'skip', detail: 'pass --replication when transactional replication is used' });
    }
    if (subnets.partner.length === 0) {
      checks.push({ name: `NSG failover group (${formatPorts(FAILOVER_PORTS)})`, status: 'skip', skipped: 'off',
        detail: 'pass --failover-partner with the partner instance\'s subnet when the instance is in a failover group' });
    }
  }

  const routeReqs = ROUTE_REQUIREMENTS.filter((r) => r.architecture === architecture);
  if (attachments.routesNotReached) checks.push(notReachedLine('Routes', attachments.routesNotReached));
  else if (!rt) checks.push({ name: 'Routes', status: 'skip', detail: 'no --route-table-file given', skipped: 'off' });
  else {
    const ctx = { subnetCidrs, ...(input.region ? { region: input.region } : {}), ...(input.regionPair ? { regionPair: input.regionPair } : {}) };
    // One route can fail two requirements (Storage.westeurope to an appliance is the regional route and part of
    // Storage): its finding and command are given once.
    const commands = new Set<string>();
    for (const req of routeReqs) {
      const outcome = routeOutcome(rt, req, ctx);
      add({ check: outcome.check, findings: outcome.findings.filter((f) => f.command === undefined || !commands.has(f.command)) });
      for (const f of outcome.findings) if (f.command !== undefined) commands.add(f.command);
    }
  }

  // Most severe first, along the configuration within a severity.
  const sorted = sortFindings(findings, pathRank);
  return {
    schemaVersion: NETWORK_SCHEMA_VERSION, kind: 'check-network', tool: { name: 'miprobe', version: VERSION }, architecture, architectureReason,
    subject: { subnet: subnet.name, addressPrefixes: subnet.addressPrefixes, ...(nsg ? { nsg: nsg.name } : {}),
      ...(rt ? { routeTable: rt.name } : {}), ...(vnet ? { vnet: vnet.name } : {}) },
    checks, findings: sorted, verdict: verdictOf(sorted),
  };
}

/** The rules of one direction, for renderers that list them. */
export { orderedRules, detectArchitecture };
