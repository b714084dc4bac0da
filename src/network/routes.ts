// Mandatory user-defined routes: is there a route for the required prefix,
// and does it go to the required next hop? "What it does" matters, not the
// name: a route for the same prefix under another name counts, a route for a
// wider tag (AzureCloud for AzureCloud.westeurope) or 0.0.0.0/0 carries the
// traffic when no exact route exists, and its next hop is then the one checked.
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

export type RouteEvaluation =
  | { readonly status: 'pass'; readonly name: string; readonly prefix: string; readonly route: Route; readonly exact: boolean }
  | { readonly status: 'missing'; readonly name: string; readonly prefix: string }
  | { readonly status: 'wrong-hop'; readonly name: string; readonly prefix: string; readonly route: Route; readonly exact: boolean }
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

const sameHop = (route: Route, hop: string): boolean => route.nextHopType.toLowerCase() === hop.toLowerCase();

export function evaluateRoute(rt: RouteTable, req: RouteRequirement, ctx: RouteContext): RouteEvaluation {
  if (req.prefix === 'MI_SUBNET') {
    const subnet = ctx.subnetCidrs[0];
    const name = subnet && req.architecture === 'current' ? vnetLocalRouteName(subnet) : req.name;
    if (!subnet) return { status: 'skip', name, prefix: 'MI SUBNET', reason: 'the subnet has no IPv4 prefix' };
    const withCidr = rt.routes.flatMap((r) => {
      const c = parseCidr(r.addressPrefix);
      return c ? [{ r, c }] : [];
    });
    // A more specific route inside the subnet to another hop diverts part of it.
    const inner = withCidr.find(({ c, r }) => c.prefix > subnet.prefix && cidrCovers(subnet, c) && !sameHop(r, req.nextHopType));
    const covering = withCidr.filter(({ c }) => cidrCovers(c, subnet)).sort((a, b) => b.c.prefix - a.c.prefix)[0];
    if (inner) return { status: 'wrong-hop', name, prefix: subnet.text, route: inner.r, exact: false };
    if (!covering) return { status: 'missing', name, prefix: subnet.text };
    const exact = covering.c.prefix === subnet.prefix;
    // Only an exact route is the mandatory one; a wider route to VnetLocal does the same job.
    if (sameHop(covering.r, req.nextHopType)) return { status: 'pass', name, prefix: subnet.text, route: covering.r, exact };
    // A wider route elsewhere (0.0.0.0/0 to an appliance) loses to the VNet's system route: missing, not wrong.
    return exact ? { status: 'wrong-hop', name, prefix: subnet.text, route: covering.r, exact } : { status: 'missing', name, prefix: subnet.text };
  }
  const prefix = fill(req.prefix, ctx);
  const name = fill(req.name, ctx).text;
  if (prefix.missing) return { status: 'skip', name, prefix: prefix.text, reason: `pass ${prefix.missing} to check this route` };
  const wanted = requiredTag(prefix.text);
  const ranked = rt.routes.flatMap((r) => {
    const spec = parseAddressSpec(r.addressPrefix);
    if (spec.kind === 'tag' && spec.text.toLowerCase() === prefix.text.toLowerCase()) return [{ r, rank: 0 }];
    if (addressRelation([spec], wanted) !== 'covers') return [];
    return [{ r, rank: spec.kind === 'tag' ? 1 : 2 }];
  }).sort((a, b) => a.rank - b.rank);
  const best = ranked[0];
  if (!best) return { status: 'missing', name, prefix: prefix.text };
  const exact = best.rank === 0;
  return sameHop(best.r, req.nextHopType)
    ? { status: 'pass', name, prefix: prefix.text, route: best.r, exact }
    : { status: 'wrong-hop', name, prefix: prefix.text, route: best.r, exact };
}

export function describeRoute(r: Route): string {
  return `${r.name} (${r.addressPrefix} -> ${r.nextHopType}${r.nextHopIpAddress ? ` ${r.nextHopIpAddress}` : ''})`;
}
