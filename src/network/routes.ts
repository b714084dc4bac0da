// Mandatory user-defined routes, evaluated as Azure forwards: by longest prefix
// match. For the destinations a requirement cares about (the MI subnet, or a
// service tag), the route that takes the traffic is the most specific one that
// contains it, so a route *inside* the required prefix (a /27 of the /24 subnet
// to an appliance) takes that part whatever the subnet route says, and a wider
// route (0.0.0.0/0, AzureCloud for AzureCloud.westeurope) carries the traffic
// only where nothing more specific exists. "What it does" matters, not the name.
// Service tags cannot be expanded offline: a CIDR route that overlaps part of a
// tag is not seen; a regional tag inside a required global tag is.
import { cidrCovers, parseCidr, type Cidr } from '../net/address.js';
import { addressRelation, parseAddressSpec, requiredTag } from './addresses.js';
import type { Route, RouteTable } from './arm.js';
import type { RouteRequirement } from './requirements.js';

export interface RouteContext {
  /** The subnet's IPv4 prefixes. */
  readonly subnetCidrs: readonly Cidr[];
  readonly region?: string;
  readonly regionPair?: string;
}

/**
 * A route that takes (part of) the required traffic, and how its prefix relates to the required one:
 * `exact` the same prefix, `wider` a prefix that contains it, `narrower` a part of it.
 */
export interface RouteTaker {
  readonly route: Route;
  readonly relation: 'exact' | 'wider' | 'narrower';
}

export type RouteEvaluation =
  /** The whole prefix goes to the required next hop, through `carrier`. */
  | { readonly status: 'pass'; readonly name: string; readonly prefix: string; readonly carrier: RouteTaker }
  /**
   * No route for the required prefix: it is missing. `wider` is the wider route that may carry the traffic
   * instead (to another hop); `diverted` are routes inside the prefix that take part of it elsewhere.
   */
  | { readonly status: 'missing'; readonly name: string; readonly prefix: string; readonly wider?: RouteTaker;
      readonly diverted: readonly RouteTaker[] }
  /** Each taker sends the traffic it takes (all of it, or its part) to another next hop. */
  | { readonly status: 'wrong-hop'; readonly name: string; readonly prefix: string; readonly takers: readonly RouteTaker[] }
  | { readonly status: 'skip'; readonly name: string; readonly prefix: string; readonly reason: string };

/** `subnet-10-0-0-0-24-to-vnetlocal` for 10.0.0.0/24 (the current configuration's naming). */
export function vnetLocalRouteName(cidr: Cidr): string {
  return `subnet-${cidr.text.replace(/[./:]/g, '-')}-to-vnetlocal`;
}

function fill(template: string, ctx: RouteContext): { text: string; missing?: string } {
  if (template.includes('REGION_PAIR') && !ctx.regionPair) return { text: template, missing: '--region-pair' };
  if (/REGION(?!_PAIR)/.test(template) && !ctx.region) return { text: template, missing: '--region' };
  return { text: template.replace(/REGION_PAIR/g, ctx.regionPair ?? '').replace(/REGION/g, ctx.region ?? '') };
}

export const sameHop = (route: Route, hop: string): boolean => route.nextHopType.toLowerCase() === hop.toLowerCase();

/** The verdict once the route that takes the whole prefix (if any) and the routes inside it are known. */
function verdict(name: string, prefix: string, hop: string, whole: RouteTaker | undefined,
  inner: readonly RouteTaker[]): RouteEvaluation {
  const diverted = inner.filter((t) => !sameHop(t.route, hop));
  if (!whole) return { status: 'missing', name, prefix, diverted };
  const takers = [...(sameHop(whole.route, hop) ? [] : [whole]), ...diverted];
  return takers.length ? { status: 'wrong-hop', name, prefix, takers } : { status: 'pass', name, prefix, carrier: whole };
}

function evaluateSubnetRoute(rt: RouteTable, req: RouteRequirement, ctx: RouteContext): RouteEvaluation {
  const subnet = ctx.subnetCidrs[0];
  const name = subnet && req.architecture === 'current' ? vnetLocalRouteName(subnet) : req.name;
  if (!subnet) return { status: 'skip', name, prefix: 'MI SUBNET', reason: 'the subnet has no IPv4 prefix' };
  const withCidr = rt.routes.flatMap((r) => {
    const c = parseCidr(r.addressPrefix);
    return c && c.family === subnet.family ? [{ r, c }] : [];
  });
  // Routes inside the subnet take their part of it: longest prefix wins.
  const inner = withCidr.filter(({ c }) => c.prefix > subnet.prefix && cidrCovers(subnet, c))
    .sort((a, b) => b.c.prefix - a.c.prefix)
    .map(({ r }): RouteTaker => ({ route: r, relation: 'narrower' }));
  const covering = withCidr.filter(({ c }) => cidrCovers(c, subnet)).sort((a, b) => b.c.prefix - a.c.prefix)[0];
  if (!covering) return verdict(name, subnet.text, req.nextHopType, undefined, inner);
  const relation = covering.c.prefix === subnet.prefix ? 'exact' : 'wider';
  if (relation === 'wider' && !sameHop(covering.r, req.nextHopType)) {
    // A wider route elsewhere carries the subnet's traffic only if it is more specific than the VNet's own system
    // route (0.0.0.0/0 never is; the exports do not show the VNet's space): the required route is missing either way.
    const missing = verdict(name, subnet.text, req.nextHopType, undefined, inner);
    return covering.c.prefix === 0 || missing.status !== 'missing' ? missing
      : { ...missing, wider: { route: covering.r, relation } };
  }
  return verdict(name, subnet.text, req.nextHopType, { route: covering.r, relation }, inner);
}

export function evaluateRoute(rt: RouteTable, req: RouteRequirement, ctx: RouteContext): RouteEvaluation {
  if (req.prefix === 'MI_SUBNET') return evaluateSubnetRoute(rt, req, ctx);
  const prefix = fill(req.prefix, ctx);
  const name = fill(req.name, ctx).text;
  if (prefix.missing) return { status: 'skip', name, prefix: prefix.text, reason: `pass ${prefix.missing} to check this route` };
  const wanted = requiredTag(prefix.text);
  // Rank by specificity: the tag itself, then a wider tag (AzureCloud, Storage for Storage.westeurope), then a CIDR
  // that covers it (0.0.0.0/0). A regional tag inside a required global tag takes its region's part.
  const ranked = rt.routes.flatMap((r) => {
    const spec = parseAddressSpec(r.addressPrefix);
    if (spec.kind === 'tag' && spec.text.toLowerCase() === prefix.text.toLowerCase()) return [{ r, rank: 0 }];
    if (addressRelation([spec], wanted) !== 'covers') return [];
    return [{ r, rank: spec.kind === 'tag' ? 1 : 2 }];
  }).sort((a, b) => a.rank - b.rank);
  const inner = wanted.kind === 'tag' && wanted.region === undefined
    ? rt.routes.filter((r) => {
      const spec = parseAddressSpec(r.addressPrefix);
      return spec.kind === 'tag' && spec.base === wanted.base && spec.region !== undefined;
    }).map((r): RouteTaker => ({ route: r, relation: 'narrower' }))
    : [];
  const best = ranked[0];
  const whole = best ? { route: best.r, relation: best.rank === 0 ? 'exact' as const : 'wider' as const } : undefined;
  if (whole?.relation === 'wider' && !sameHop(whole.route, req.nextHopType)) {
    // A wider route to another hop (0.0.0.0/0 to a firewall) does carry tag traffic: only a more specific route helps.
    const diverted = inner.filter((t) => !sameHop(t.route, req.nextHopType));
    return { status: 'wrong-hop', name, prefix: prefix.text, takers: [whole, ...diverted] };
  }
  return verdict(name, prefix.text, req.nextHopType, whole, inner);
}

export function describeRoute(r: Route): string {
  return `${r.name} (${r.addressPrefix} -> ${r.nextHopType}${r.nextHopIpAddress ? ` ${r.nextHopIpAddress}` : ''})`;
}
