// check-network's engine: exports in, checks and findings out. Pure: no I/O.
//
//   evaluateNetwork(input: NetworkInput): NetworkCheckReport
//   detectArchitecture(nsg?, routeTable?): { architecture, reason }
import { VERSION } from '../version.js';
import type { CheckLine } from '../diagnosis/check.js';
import { NSG, UDR } from '../diagnosis/catalog/network.js';
import { finding, sortFindings, verdictOf, type FindingDefinition } from '../diagnosis/finding.js';
import { parseCidr, type Cidr } from '../net/address.js';
import { requiredTag, type RequiredAddress } from './addresses.js';
import type { Nsg, NsgRule, RouteTable, Subnet, Vnet, Direction } from './arm.js';
import { nsgRuleCreate, nsgRuleUpdate, routeCreate, routeUpdate } from './az.js';
import { describeRule, evaluateFlow, matchRule, orderedRules, type FlowEvaluation, type FlowSpec } from './nsg.js';
import { ALL_PORTS, azPorts, formatPorts, portsEqual, intersectPorts, isEmptyPorts, subtractPorts, unionPorts, type PortSet } from './ports.js';
import {
  PLATFORM_PREFIX, ROUTE_REQUIREMENTS, RULE_REQUIREMENTS, type AddressRef, type Architecture, type RouteRequirement, type RuleRequirement,
} from './requirements.js';
import { describeRoute, evaluateRoute } from './routes.js';
import { checkSubnet, checkVnet } from './subnet.js';
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
}

const isPlatform = (r: NsgRule): boolean => r.name.toLowerCase().startsWith(PLATFORM_PREFIX.toLowerCase());

/**
 * Auto-detection. Platform rules (Microsoft.Sql-managedInstances_UseOnly_mi-*) mean
 * the current configuration, unless one of them admits the legacy management
 * ports (the service-aided legacy configuration used the same prefix). Without
 * an NSG, a `subnet-<range>-to-vnetlocal` route means current.
 */
export function detectArchitecture(nsg: Nsg | undefined, rt: RouteTable | undefined): { architecture: Architecture; reason: string } {
  const platform = nsg?.rules.filter(isPlatform) ?? [];
  if (platform.length > 0) {
    // A rule for the management ports specifically (not one that admits every port).
    const mgmt = platform.find((r) => r.direction === 'Inbound' && r.access === 'Allow' && !portsEqual(r.destinationPorts, ALL_PORTS)
      && !isEmptyPorts(intersectPorts(r.destinationPorts, [[9000, 9000], [9003, 9003]])));
    if (mgmt) return { architecture: 'legacy', reason: `auto: platform rule ${mgmt.name} admits management ports (service-aided legacy configuration)` };
    return { architecture: 'current', reason: `auto: platform rules present (${platform.slice(0, 3).map((r) => r.name).join(', ')}${platform.length > 3 ? ', ...' : ''})` };
  }
  if (nsg) return { architecture: 'legacy', reason: `auto: no ${PLATFORM_PREFIX}* rules in ${nsg.name}` };
  const route = rt?.routes.find((r) => /^subnet-.+-to-vnetlocal$/i.test(r.name));
  if (route) return { architecture: 'current', reason: `auto: route ${route.name} (no NSG export)` };
  return { architecture: 'legacy', reason: 'auto: no NSG export and no subnet-<range>-to-vnetlocal route' };
}

function resolve(ref: AddressRef, subnetCidrs: readonly Cidr[], subnetText: string): RequiredAddress {
  if (ref === 'MI_SUBNET') return { kind: 'subnet', cidrs: subnetCidrs, text: `MI SUBNET ${subnetText}` };
  if (ref === 'Any') return { kind: 'any' };
  return requiredTag(ref);
}

function azAddress(ref: AddressRef, subnetCidrs: readonly Cidr[]): string[] {
  if (ref === 'MI_SUBNET') return subnetCidrs.map((c) => c.text);
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

function evaluateRuleRequirement(nsg: Nsg, req: RuleRequirement, subnetCidrs: readonly Cidr[], subnetText: string,
  reserved: Set<string>): RuleOutcome {
  const spec: FlowSpec = { direction: req.direction, protocol: req.protocol, ports: req.ports,
    source: resolve(req.source, subnetCidrs, subnetText), destination: resolve(req.destination, subnetCidrs, subnetText) };
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
      direction: req.direction, protocol: req.protocol, sources: azAddress(req.source, subnetCidrs),
      destinations: azAddress(req.destination, subnetCidrs), ports: azPorts(missingPorts) }) });
  return { check: { name, status: failStatus, detail: `denied by ${deniers.map((r) => `${r.name} (${r.priority})`).join(', ') || 'no rule'}` }, findings };
}

function platformRuleFindings(nsg: Nsg, req: RuleRequirement, ev: FlowEvaluation | undefined, spec: FlowSpec): NetworkFinding[] {
  if (!req.platformName) return [];
  const rule = nsg.rules.find((r) => r.name.toLowerCase() === req.platformName!.toLowerCase() && r.direction === req.direction);
  if (!rule) {
    const by = ev && ev.allowedBy.length ? `; the traffic is admitted by ${unique(ev.allowedBy.map((d) => d.rule)).map((r) => r.name).join(', ')}` : '';
    return [finding(NSG.platformRuleAbsent, `${nsg.name} has no rule named ${req.platformName}${by}`)];
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

function routeOutcome(rt: RouteTable, req: RouteRequirement, ctx: { subnetCidrs: readonly Cidr[]; region?: string; regionPair?: string }): RuleOutcome {
  const ev = evaluateRoute(rt, req, ctx);
  const name = `UDR ${ev.name}`;
  switch (ev.status) {
    case 'skip':
      return { check: { name, status: 'skip', detail: ev.reason }, findings: [] };
    case 'pass':
      return { check: { name, status: 'pass', detail: ev.exact ? `${ev.prefix} -> ${req.nextHopType} (${ev.route.name})` : `${ev.prefix} -> ${req.nextHopType} via wider route ${describeRoute(ev.route)}` }, findings: [] };
    case 'missing':
      return { check: { name, status: 'fail', detail: `no route for ${ev.prefix}` },
        findings: [{ ...finding(UDR.missingRoute, `${rt.name} has no route for ${ev.prefix} (required: ${ev.name}, next hop ${req.nextHopType})`),
          command: routeCreate(rt.resourceGroup, rt.name, ev.name, ev.prefix, req.nextHopType) }] };
    case 'wrong-hop': {
      const command = ev.exact ? routeUpdate(rt.resourceGroup, rt.name, ev.route.name, req.nextHopType)
        : routeCreate(rt.resourceGroup, rt.name, ev.name, ev.prefix, req.nextHopType);
      return { check: { name, status: 'fail', detail: `${ev.prefix} goes to ${ev.route.nextHopType} via ${ev.route.name}` },
        findings: [{ ...finding(UDR.wrongNextHop, `traffic to ${ev.prefix} follows ${describeRoute(ev.route)}; required next hop ${req.nextHopType}`), command }] };
    }
  }
}

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

  add(checkSubnet(subnet, architecture, nsg, rt));
  if (vnet) add(checkVnet(vnet, subnet));
  else checks.push({ name: 'VNet DNS', status: 'skip', detail: 'no --vnet-file given' });

  const ruleReqs = RULE_REQUIREMENTS.filter((r) => r.architecture === architecture && (r.when !== 'replication' || input.replication));
  if (!nsg) checks.push({ name: 'NSG rules', status: 'skip', detail: subnet.nsgId ? 'no --nsg-file given' : 'no NSG attached' });
  else if (subnetCidrs.length === 0) checks.push({ name: 'NSG rules', status: 'skip', detail: 'the subnet has no IPv4 prefix' });
  else {
    if (nsg.defaultsAssumed) checks.push({ name: 'NSG default rules', status: 'info', detail: 'not in the export; Azure\'s fixed defaults assumed' });
    const reserved = new Set<string>();
    for (const req of ruleReqs) {
      const outcome = evaluateRuleRequirement(nsg, req, subnetCidrs, subnetText, reserved);
      add(outcome);
      if (req.platformName) {
        const spec: FlowSpec = { direction: req.direction, protocol: req.protocol, ports: req.ports,
          source: resolve(req.source, subnetCidrs, subnetText), destination: resolve(req.destination, subnetCidrs, subnetText) };
        findings.push(...platformRuleFindings(nsg, req, evaluateFlow(nsg, spec), spec));
      }
    }
    if (!input.replication && architecture === 'legacy') {
      checks.push({ name: 'NSG port 445 outbound (replication)', status: 'skip', detail: 'pass --replication when transactional replication is used' });
    }
  }

  const routeReqs = ROUTE_REQUIREMENTS.filter((r) => r.architecture === architecture);
  if (!rt) checks.push({ name: 'Routes', status: 'skip', detail: subnet.routeTableId ? 'no --route-table-file given' : 'no route table attached' });
  else {
    const ctx = { subnetCidrs, ...(input.region ? { region: input.region } : {}), ...(input.regionPair ? { regionPair: input.regionPair } : {}) };
    for (const req of routeReqs) add(routeOutcome(rt, req, ctx));
  }

  const sorted = sortFindings(findings) as NetworkFinding[];
  return {
    schemaVersion: NETWORK_SCHEMA_VERSION, kind: 'check-network', tool: { name: 'miprobe', version: VERSION }, architecture, architectureReason,
    subject: { subnet: subnet.name, addressPrefixes: subnet.addressPrefixes, ...(nsg ? { nsg: nsg.name } : {}),
      ...(rt ? { routeTable: rt.name } : {}), ...(vnet ? { vnet: vnet.name } : {}) },
    checks, findings: sorted, verdict: verdictOf(sorted),
  };
}

/** The rules of one direction, for renderers that list them. */
export { orderedRules };
