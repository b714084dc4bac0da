// The NSG evaluator, as Azure applies an NSG to a flow: the rules of one
// direction in priority order (lowest number first), the first rule that
// matches the flow decides, the default rules (65000, 65001, 65500) come last.
// A requirement is a family of flows (source set, destination set, ports,
// protocol); each port is decided by the first rule that matches every flow
// of the family on that port. Rules that match only some of the flows (a
// narrower source, one protocol of "Any") do not decide; a Deny among them is
// remembered because it blocks part of the required traffic.
import { addressCertainlyOverlaps, addressRelation, describeRequired, type Relation, type RequiredAddress } from './addresses.js';
import type { Direction, Nsg, NsgRule, Protocol } from './arm.js';
import {
  ALL_PORTS, formatPorts, intersectPorts, isEmptyPorts, portsEqual, subtractPorts, unionPorts, NO_PORTS, type PortSet,
} from './ports.js';

/** A requirement with MI_SUBNET and tags resolved to addresses. */
export interface FlowSpec {
  readonly direction: Direction;
  readonly protocol: Protocol;
  readonly source: RequiredAddress;
  readonly destination: RequiredAddress;
  readonly ports: PortSet;
}

export interface RuleDecision {
  readonly rule: NsgRule;
  readonly ports: PortSet;
}

export interface PartialMatch extends RuleDecision {
  /** Why the rule matches only part of the required flows, e.g. "source 10.0.0.0/8 is narrower than Any". */
  readonly why: string;
  /** The rule certainly takes some of the required traffic (a narrower protocol, prefix or source port range),
   *  as opposed to an overlap that depends on what a service tag or security group holds. */
  readonly definite: boolean;
}

export interface Shadowing {
  readonly deny: NsgRule;
  /** The allow rule further down that would have admitted the traffic. */
  readonly allow: NsgRule;
  readonly ports: PortSet;
}

export interface FlowEvaluation {
  readonly spec: FlowSpec;
  /** Rules that decided some ports with Allow, in priority order. */
  readonly allowedBy: readonly RuleDecision[];
  /** Rules that decided some ports with Deny, in priority order. */
  readonly deniedBy: readonly RuleDecision[];
  /** Deny rules that block part of the flows on ports that end up allowed. */
  readonly partialDenies: readonly PartialMatch[];
  /** Allow rules that admit only part of the flows (they did not decide). */
  readonly partialAllows: readonly PartialMatch[];
  /** Custom Deny rules that decided ports a lower-priority custom Allow would have admitted. */
  readonly shadowed: readonly Shadowing[];
  readonly allowedPorts: PortSet;
  readonly deniedPorts: PortSet;
}

function protocolRelation(rule: Protocol, required: Protocol): Relation {
  if (rule === '*' || rule === required) return 'covers';
  return required === '*' ? 'partial' : 'disjoint';
}

interface Match {
  readonly relation: Relation;
  readonly why: string[];
  /** For a partial match: every narrowing is certain to leave some required traffic matched. */
  readonly definite: boolean;
}

/** How a rule relates to the required flows, ports aside. */
export function matchRule(rule: NsgRule, spec: FlowSpec): Match {
  // [relation, why, certain]: a narrower protocol or source port range always matches real traffic;
  // a narrower address does when its overlap with the required address is known.
  const parts: Array<[Relation, string, boolean]> = [
    [protocolRelation(rule.protocol, spec.protocol), `protocol ${rule.protocol} vs required ${spec.protocol === '*' ? 'Any' : spec.protocol}`, true],
    [addressRelation(rule.sources, spec.source), `source ${rule.sources.map((s) => s.text).join(',')} vs required ${describeRequired(spec.source)}`,
      addressCertainlyOverlaps(rule.sources, spec.source)],
    [addressRelation(rule.destinations, spec.destination),
      `destination ${rule.destinations.map((s) => s.text).join(',')} vs required ${describeRequired(spec.destination)}`,
      addressCertainlyOverlaps(rule.destinations, spec.destination)],
    [portsEqual(rule.sourcePorts, ALL_PORTS) ? 'covers' : 'partial', `source ports ${formatPorts(rule.sourcePorts)} vs any`, true],
  ];
  if (parts.some(([r]) => r === 'disjoint')) return { relation: 'disjoint', why: [], definite: false };
  const partial = parts.filter(([r]) => r === 'partial');
  return { relation: partial.length === 0 ? 'covers' : 'partial', why: partial.map(([, why]) => why), definite: partial.every(([, , certain]) => certain) };
}

/** The rules of one direction in the order Azure applies them. */
export function orderedRules(nsg: Nsg, direction: Direction): NsgRule[] {
  return nsg.rules.filter((r) => r.direction === direction)
    .sort((a, b) => a.priority - b.priority || Number(a.isDefault) - Number(b.isDefault));
}

export function evaluateFlow(nsg: Nsg, spec: FlowSpec): FlowEvaluation {
  const rules = orderedRules(nsg, spec.direction);
  let remaining = spec.ports;
  const allowedBy: RuleDecision[] = [];
  const deniedBy: RuleDecision[] = [];
  const partialDenies: PartialMatch[] = [];
  const partialAllows: PartialMatch[] = [];
  for (const rule of rules) {
    if (isEmptyPorts(remaining)) break;
    const ports = intersectPorts(remaining, rule.destinationPorts);
    if (isEmptyPorts(ports)) continue;
    const m = matchRule(rule, spec);
    if (m.relation === 'disjoint') continue;
    if (m.relation === 'covers') {
      (rule.access === 'Allow' ? allowedBy : deniedBy).push({ rule, ports });
      remaining = subtractPorts(remaining, ports);
    } else {
      (rule.access === 'Allow' ? partialAllows : partialDenies).push({ rule, ports, why: m.why.join('; '), definite: m.definite });
    }
  }
  // Nothing undecided can remain when the default DenyAll rules are present;
  // treat any rest as denied by "no rule" to stay total.
  const allowedPorts = allowedBy.reduce<PortSet>((acc, d) => unionPorts(acc, d.ports), NO_PORTS);
  const deniedPorts = unionPorts(deniedBy.reduce<PortSet>((acc, d) => unionPorts(acc, d.ports), NO_PORTS), remaining);
  const relevantPartialDenies = partialDenies
    .map((p) => ({ ...p, ports: intersectPorts(p.ports, allowedPorts) }))
    .filter((p) => !isEmptyPorts(p.ports));

  const shadowed: Shadowing[] = [];
  for (const d of deniedBy) {
    if (d.rule.isDefault) continue;
    const below = rules.filter((r) => r.priority > d.rule.priority && r.access === 'Allow' && !r.isDefault);
    for (const allow of below) {
      const ports = intersectPorts(d.ports, allow.destinationPorts);
      if (isEmptyPorts(ports) || matchRule(allow, spec).relation !== 'covers') continue;
      shadowed.push({ deny: d.rule, allow, ports });
      break;
    }
  }
  return { spec, allowedBy, deniedBy, partialDenies: relevantPartialDenies, partialAllows, shadowed, allowedPorts, deniedPorts };
}

export function describeRule(rule: NsgRule): string {
  return `${rule.name} (priority ${rule.priority}, ${rule.access}${rule.isDefault ? ', default rule' : ''})`;
}
