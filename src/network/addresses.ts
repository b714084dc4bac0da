// NSG address matching without Azure's IP lists: how much of a required
// source or destination (the MI subnet, a service tag, Any) an NSG rule's
// address prefixes cover. Service tag contents change weekly and are not
// available offline, so the answer is three-valued: covers, disjoint, or
// partial (some or unknown overlap). The tag relations below are the
// documented ones (Internet holds the public Azure tags, AzureCloud the
// service tags, `Tag.region` lies inside `Tag`, VirtualNetwork holds the
// subnet, AzureLoadBalancer is 168.63.129.16); anything else is "partial".
import { cidrContains, cidrCovers, parseCidr, type Cidr } from '../net/address.js';
import { AZURE_DNS } from '../requirements/platform.js';

export type Relation = 'covers' | 'disjoint' | 'partial';

/** One entry of a rule's sourceAddressPrefix(es) / destinationAddressPrefix(es). */
export type AddressSpec =
  | { readonly kind: 'any'; readonly text: string }
  | { readonly kind: 'cidr'; readonly cidr: Cidr; readonly text: string }
  | { readonly kind: 'tag'; readonly base: string; readonly region?: string; readonly text: string }
  | { readonly kind: 'asg'; readonly text: string };

/** What a requirement needs to pass: the MI subnet's prefixes, a service tag, or anything. */
export type RequiredAddress =
  | { readonly kind: 'any' }
  | { readonly kind: 'subnet'; readonly cidrs: readonly Cidr[]; readonly text: string }
  | { readonly kind: 'tag'; readonly base: string; readonly region?: string; readonly text: string };

/** AzureLoadBalancer's health probes come from Azure's virtual public IP, the resolver's address. */
export const AZURE_LB_ADDRESS = AZURE_DNS;

/** Service tags Azure documents as subsets of AzureCloud (lower case). */
const AZURECLOUD_MEMBERS = new Set([
  'sqlmanagement', 'storage', 'eventhub', 'azuremonitor', 'azureactivedirectory', 'sql', 'azurekeyvault',
  'servicebus', 'azureresourcemanager', 'azurefrontdoor.frontend', 'appservice', 'azurecosmosdb', 'guestandhybridmanagement',
]);
/** Tags that are not public address space. */
const NON_PUBLIC = new Set(['virtualnetwork', 'azureloadbalancer']);

export function parseAddressSpec(text: string): AddressSpec {
  const t = text.trim();
  if (t === '*' || t.toLowerCase() === 'any' || t === '0.0.0.0/0') return { kind: 'any', text: t };
  const cidr = parseCidr(t);
  if (cidr) return { kind: 'cidr', cidr, text: t };
  const lower = t.toLowerCase();
  const dot = lower.indexOf('.');
  if (dot > 0 && !AZURECLOUD_MEMBERS.has(lower)) {
    return { kind: 'tag', base: lower.slice(0, dot), region: lower.slice(dot + 1), text: t };
  }
  return { kind: 'tag', base: lower, text: t };
}

export function requiredTag(text: string): RequiredAddress {
  const spec = parseAddressSpec(text);
  if (spec.kind === 'tag') return spec.region === undefined
    ? { kind: 'tag', base: spec.base, text }
    : { kind: 'tag', base: spec.base, region: spec.region, text };
  if (spec.kind === 'any') return { kind: 'any' };
  throw new Error(`"${text}" is not a service tag`);
}

function isPublicTag(base: string): boolean {
  return !NON_PUBLIC.has(base) && base !== 'internet';
}

const PRIVATE_BLOCKS: readonly Cidr[] = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7']
  .map((c) => parseCidr(c) as Cidr);

/** True when the whole block lies in one private range (RFC 1918, RFC 6598, ULA). */
function cidrIsPrivate(c: Cidr): boolean {
  return PRIVATE_BLOCKS.some((r) => cidrCovers(r, c));
}

function cidrVsCidr(rule: Cidr, req: Cidr): Relation {
  if (cidrCovers(rule, req)) return 'covers';
  if (cidrCovers(req, rule)) return 'partial';
  return 'disjoint';
}

function tagVsTag(rBase: string, rRegion: string | undefined, qBase: string, qRegion: string | undefined): Relation {
  if (rBase === qBase) {
    if (rRegion === undefined) return 'covers';
    if (qRegion === undefined) return 'partial';
    return rRegion === qRegion ? 'covers' : 'disjoint';
  }
  if (rBase === 'internet') return isPublicTag(qBase) ? 'covers' : 'disjoint';
  if (qBase === 'internet') return isPublicTag(rBase) ? 'partial' : 'disjoint';
  if (NON_PUBLIC.has(rBase) || NON_PUBLIC.has(qBase)) return 'disjoint';
  if (rBase === 'azurecloud') {
    if (!AZURECLOUD_MEMBERS.has(qBase)) return 'partial';
    if (rRegion === undefined) return 'covers';
    return qRegion === rRegion ? 'covers' : 'partial';
  }
  if (qBase === 'azurecloud') return 'partial';
  // Two different leaf service tags: Azure publishes them as separate ranges.
  return 'disjoint';
}

function specVsSubnetCidr(r: AddressSpec, q: Cidr): Relation {
  switch (r.kind) {
    case 'any': return 'covers';
    case 'cidr': return cidrVsCidr(r.cidr, q);
    case 'asg': return 'partial';
    case 'tag':
      if (r.base === 'virtualnetwork') return 'covers';
      if (r.base === 'internet' || r.base === 'azureloadbalancer') return 'disjoint';
      return cidrIsPrivate(q) ? 'disjoint' : 'partial';
  }
}

function specVsTag(r: AddressSpec, qBase: string, qRegion: string | undefined): Relation {
  switch (r.kind) {
    case 'any': return 'covers';
    case 'asg': return isPublicTag(qBase) || qBase === 'azureloadbalancer' ? 'disjoint' : 'partial';
    case 'cidr':
      if (qBase === 'azureloadbalancer') return cidrContains(r.cidr, AZURE_LB_ADDRESS) ? 'covers' : 'disjoint';
      if (qBase === 'virtualnetwork') return 'partial';
      if (r.cidr.prefix === 0) return 'covers';
      return cidrIsPrivate(r.cidr) ? 'disjoint' : 'partial';
    case 'tag': return tagVsTag(r.base, r.region, qBase, qRegion);
  }
}

function specVsRequired(r: AddressSpec, q: RequiredAddress): Relation {
  if (q.kind === 'any') return r.kind === 'any' ? 'covers' : 'partial';
  if (q.kind === 'tag') return specVsTag(r, q.base, q.region);
  return combineAll(q.cidrs.map((c) => specVsSubnetCidr(r, c)));
}

/** Every part must be covered for "covers"; every part disjoint for "disjoint". */
function combineAll(parts: readonly Relation[]): Relation {
  if (parts.length === 0) return 'disjoint';
  if (parts.every((p) => p === 'covers')) return 'covers';
  if (parts.every((p) => p === 'disjoint')) return 'disjoint';
  return 'partial';
}

/** Relation of a rule's prefix list (a union) to the required address. */
export function addressRelation(rule: readonly AddressSpec[], required: RequiredAddress): Relation {
  const rels = rule.map((r) => specVsRequired(r, required));
  if (rels.includes('covers')) return 'covers';
  if (rels.every((r) => r === 'disjoint')) return 'disjoint';
  return 'partial';
}

export function describeRequired(q: RequiredAddress): string {
  return q.kind === 'any' ? 'Any' : q.text;
}

/**
 * True when some of the rule's prefixes certainly overlap the required address, so a rule that
 * matches "part" of the flow certainly takes real traffic. Overlaps that depend on what a service
 * tag or an application security group holds are not certain.
 */
export function addressCertainlyOverlaps(rule: readonly AddressSpec[], required: RequiredAddress): boolean {
  if (required.kind === 'any') return rule.length > 0;
  if (required.kind === 'subnet') {
    return rule.some((r) => r.kind === 'any' || (r.kind === 'tag' && r.base === 'virtualnetwork')
      || (r.kind === 'cidr' && required.cidrs.some((q) => cidrCovers(q, r.cidr) || cidrCovers(r.cidr, q))));
  }
  return rule.some((r) => r.kind === 'any' || (r.kind === 'tag' && r.base === required.base));
}
