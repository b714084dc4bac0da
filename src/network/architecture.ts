// Which subnet configuration the exports describe, when --architecture is auto.
//
// New deployments get the current configuration (the November 2022 feature
// wave), so that is the answer unless the exports show the legacy one. Legacy
// evidence: a rule admitting the management ports 9000/9003 inbound or 12000
// outbound, rule or route names of the legacy tables and scripts, routes for the
// management-only tags (SqlManagement, CorpNetSaw, CorpNetPublic). What the
// platform itself wrote (Microsoft.Sql-managedInstances_UseOnly_mi-* rules and
// routes) outweighs what a customer left behind: in the legacy configuration the
// platform keeps its own management rule, so platform rules without one mean
// current, whatever custom rules (or obsolete routes) remain.
import type { Nsg, NsgRule, Route, RouteTable } from './arm.js';
import { parseAddressSpec } from './addresses.js';
import { intersectPorts, isEmptyPorts, portsOf, type PortSet } from './ports.js';
import { MANAGEMENT_CORPNET_PORTS } from '../requirements/platform.js';
import { PLATFORM_PREFIX, type Architecture } from './requirements.js';

export interface ArchitectureDetection {
  readonly architecture: Architecture;
  /** Why, in one line naming the rules and routes that decided it. */
  readonly reason: string;
}

const PLATFORM = /^Microsoft\.Sql-managedInstances_UseOnly_/i;
/** Rule names of the legacy tables and of Microsoft's subnet preparation scripts (allow_management_inbound, mi_subnet-outbound ...). */
const LEGACY_RULE_NAME = /^(prepare-)?(allow[-_])?(management|mi[-_]?subnet|health[-_]?probe)[-_](inbound|outbound)$/i;
/** Route names of the legacy tables and scripts: subnet-to-vnetlocal without a range, mi-...-internet, mi-13-64-11-nexthop-internet. */
const LEGACY_ROUTE_NAME = /^(prepare-)?(subnet[-_]to[-_]vnetlocal|mi-.+-internet)$/i;
/** The current configuration's subnet route, with the subnet's range in its name (IPv4). */
const CURRENT_ROUTE_NAME = /^(mi-)?subnet-(\d{1,3}-){4}\d{1,2}-to-vnetlocal$/i;
/** Service tags only the legacy management traffic is routed to. */
const MANAGEMENT_TAGS = new Set(['sqlmanagement', 'corpnetsaw', 'corpnetpublic']);

const bare = (name: string): string => name.replace(PLATFORM, '');
const isPlatformRule = (r: NsgRule): boolean => r.name.toLowerCase().startsWith(PLATFORM_PREFIX.toLowerCase());

const portCount = (p: PortSet): number => p.reduce((n, [a, b]) => n + b - a + 1, 0);

/**
 * An allow rule for these ports specifically: a rule that admits every port, or most of them ("*", "1-65535"),
 * says nothing about the configuration.
 */
function admitsSpecifically(r: NsgRule, direction: NsgRule['direction'], ports: PortSet): boolean {
  return r.direction === direction && r.access === 'Allow' && !r.isDefault && portCount(r.destinationPorts) < 32768
    && !isEmptyPorts(intersectPorts(r.destinationPorts, ports));
}

const MANAGEMENT_IN = portsOf(...MANAGEMENT_CORPNET_PORTS);
const MANAGEMENT_OUT = portsOf(12000);

interface Evidence {
  /** Written by the platform and decisive: a platform rule admitting the management ports. */
  readonly platform: boolean;
  readonly text: string;
}

function legacyEvidence(nsg: Nsg | undefined, rt: RouteTable | undefined): Evidence[] {
  const found: Evidence[] = [];
  for (const r of nsg?.rules ?? []) {
    if (admitsSpecifically(r, 'Inbound', MANAGEMENT_IN)) found.push({ platform: isPlatformRule(r), text: `rule ${r.name} admits management ports 9000/9003` });
    else if (admitsSpecifically(r, 'Outbound', MANAGEMENT_OUT)) found.push({ platform: isPlatformRule(r), text: `rule ${r.name} admits port 12000 outbound` });
    else if (!r.isDefault && LEGACY_RULE_NAME.test(bare(r.name))) found.push({ platform: false, text: `rule ${r.name} has a legacy rule name` });
  }
  for (const route of rt?.routes ?? []) {
    const spec = parseAddressSpec(route.addressPrefix);
    // Routes never decide alone: the platform leaves obsolete routes behind until a service update removes them.
    if (spec.kind === 'tag' && MANAGEMENT_TAGS.has(spec.base)) {
      found.push({ platform: false, text: `route ${route.name} routes ${route.addressPrefix} (management traffic)` });
    } else if (LEGACY_ROUTE_NAME.test(bare(route.name))) found.push({ platform: false, text: `route ${route.name} has a legacy route name` });
  }
  return found;
}

const isCurrentRoute = (r: Route): boolean => CURRENT_ROUTE_NAME.test(bare(r.name));

const list = (items: readonly string[], max = 3): string =>
  `${items.slice(0, max).join(', ')}${items.length > max ? `, and ${items.length - max} more` : ''}`;

export function detectArchitecture(nsg: Nsg | undefined, rt: RouteTable | undefined): ArchitectureDetection {
  const legacy = legacyEvidence(nsg, rt);
  const platformLegacy = legacy.filter((e) => e.platform);
  if (platformLegacy.length > 0) {
    return { architecture: 'legacy', reason: `auto: the platform's own ${list(platformLegacy.map((e) => e.text))}: the service-aided `
      + 'configuration before the November 2022 feature wave' };
  }
  const platformRules = nsg?.rules.filter(isPlatformRule) ?? [];
  const platformRoutes = (rt?.routes ?? []).filter((r) => PLATFORM.test(r.name) && isCurrentRoute(r));
  const leftovers = legacy.length ? `; ignored, as customer rules or routes the platform does not keep: ${list(legacy.map((e) => e.text), 2)}` : '';
  if (platformRules.length > 0) {
    return { architecture: 'current', reason: `auto: platform rules ${list(platformRules.map((r) => r.name))} and none of them admits `
      + `the management ports 9000/9003${leftovers}` };
  }
  if (platformRoutes.length > 0) {
    return { architecture: 'current', reason: `auto: platform route ${list(platformRoutes.map((r) => r.name))}${leftovers}` };
  }
  if (legacy.length > 0) {
    return { architecture: 'legacy', reason: `auto: ${list(legacy.map((e) => e.text))} (the configuration before the November 2022 feature wave)` };
  }
  const currentRoutes = (rt?.routes ?? []).filter(isCurrentRoute);
  if (currentRoutes.length > 0) return { architecture: 'current', reason: `auto: route ${list(currentRoutes.map((r) => r.name))} and no legacy rule or route` };
  const looked = [nsg ? `NSG ${nsg.name}` : '', rt ? `route table ${rt.name}` : ''].filter(Boolean).join(' and ') || 'the exports (no NSG or route table given)';
  return { architecture: 'current', reason: `auto: no legacy evidence in ${looked} (no rule for the management ports 9000/9003 or `
    + 'port 12000, no legacy rule or route names, no SqlManagement or CorpNet routes): new deployments get the current '
    + 'configuration; pass --architecture legacy for an instance not yet enrolled in the November 2022 feature wave' };
}
