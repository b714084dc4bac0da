// Reading `az network ... show -o json` exports (flattened properties, as az
// prints them) and raw ARM documents (`properties` nested, as the REST API and
// `az resource show` print them) into the small typed model the checks use.
// Shape errors throw ArmShapeError naming the JSON path; the CLI turns that
// into a usage error naming the file.
import { parseAddressSpec, type AddressSpec } from './addresses.js';
import { ALL_PORTS, normalizePorts, parsePortRange, type PortSet } from './ports.js';

export class ArmShapeError extends Error {
  constructor(readonly path: string, message: string) {
    super(`${path}: ${message}`);
  }
}

export type Protocol = '*' | 'Tcp' | 'Udp' | 'Icmp' | 'Esp' | 'Ah';
export type Direction = 'Inbound' | 'Outbound';
export type Access = 'Allow' | 'Deny';

export interface NsgRule {
  readonly name: string;
  readonly priority: number;
  readonly direction: Direction;
  readonly access: Access;
  readonly protocol: Protocol;
  readonly sourcePorts: PortSet;
  readonly destinationPorts: PortSet;
  readonly sources: readonly AddressSpec[];
  readonly destinations: readonly AddressSpec[];
  /** One of Azure's default rules (AllowVnetInBound ... DenyAllOutBound). */
  readonly isDefault: boolean;
}

export interface Nsg {
  readonly id?: string;
  readonly name: string;
  readonly resourceGroup?: string;
  /** Custom and default rules, both directions. */
  readonly rules: readonly NsgRule[];
  /** True when the export had no defaultSecurityRules and Azure's fixed defaults were assumed. */
  readonly defaultsAssumed: boolean;
}

export interface Route {
  readonly name: string;
  readonly addressPrefix: string;
  readonly nextHopType: string;
  readonly nextHopIpAddress?: string;
}

export interface RouteTable {
  readonly id?: string;
  readonly name: string;
  readonly resourceGroup?: string;
  readonly routes: readonly Route[];
  readonly disableBgpRoutePropagation: boolean;
}

export interface Subnet {
  readonly id?: string;
  readonly name: string;
  readonly resourceGroup?: string;
  readonly vnetName?: string;
  readonly addressPrefixes: readonly string[];
  /** serviceName of each delegation, e.g. Microsoft.Sql/managedInstances. */
  readonly delegations: readonly string[];
  /** service of each service endpoint, e.g. Microsoft.Storage. */
  readonly serviceEndpoints: readonly string[];
  readonly natGatewayId?: string;
  readonly nsgId?: string;
  readonly routeTableId?: string;
  readonly ipConfigurationIds: readonly string[];
  readonly privateEndpointIds: readonly string[];
}

export interface Vnet {
  readonly id?: string;
  readonly name: string;
  readonly resourceGroup?: string;
  readonly addressPrefixes: readonly string[];
  /** dhcpOptions.dnsServers; empty means Azure-provided DNS. */
  readonly dnsServers: readonly string[];
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** az flattens `properties`; ARM nests them. Either way, one flat view. */
function flat(v: unknown, path: string): Json {
  if (!isObject(v)) throw new ArmShapeError(path, `expected a JSON object, found ${Array.isArray(v) ? 'an array' : typeof v}`);
  return isObject(v.properties) ? { ...v, ...v.properties } : v;
}

/** Deepest nesting accepted anywhere in an export (az prints 5 or 6 levels). */
export const MAX_EXPORT_DEPTH = 64;

/** How deep a value nests, counted without recursion and without going past `limit + 1`. */
function depthOf(v: unknown, limit: number): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[v, 0]];
  while (stack.length > 0) {
    const [x, d] = stack.pop() as [unknown, number];
    if (typeof x !== 'object' || x === null) continue;
    deepest = Math.max(deepest, d + 1);
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(x) ? x : Object.values(x)) if (typeof child === 'object' && child !== null) stack.push([child, d + 1]);
  }
  return deepest;
}

/**
 * A value as an error message shows it: short, and never by serialising it whole (a deeply nested
 * array made JSON.stringify overflow the stack: "internal error" instead of the field's path).
 */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return v.length > 60 ? `${JSON.stringify(v.slice(0, 60))}… (${v.length} characters)` : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) {
    const depth = depthOf(v, MAX_EXPORT_DEPTH);
    return `an array of ${v.length} item${v.length === 1 ? '' : 's'}${depth > 1 ? depth > MAX_EXPORT_DEPTH ? `, nested more than ${MAX_EXPORT_DEPTH} levels deep` : `, nested ${depth} levels deep` : ''}`;
  }
  if (typeof v === 'object') {
    const keys = Object.keys(v);
    return keys.length === 0 ? 'an empty object' : `an object with ${keys.slice(0, 3).map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}${keys.length > 3 ? ', …' : ''}`;
  }
  return typeof v;
}

/** Longest string accepted anywhere in an export: Azure names are at most 80 characters, ids a few hundred. */
export const MAX_EXPORT_STRING = 4096;

/**
 * The first place an export nests deeper than MAX_EXPORT_DEPTH or holds a string longer than
 * MAX_EXPORT_STRING (a megabyte-long name made the report take 300 ms to render), or undefined.
 */
function firstOversize(doc: unknown): { path: string; what: string } | undefined {
  const stack: Array<[unknown, string, number]> = [[doc, '$', 0]];
  while (stack.length > 0) {
    const [x, path, d] = stack.pop() as [unknown, string, number];
    if (typeof x === 'string' && x.length > MAX_EXPORT_STRING) {
      return { path, what: `a string of ${x.length} characters; Azure names and ids are far shorter (at most ${MAX_EXPORT_STRING} accepted)` };
    }
    if (typeof x !== 'object' || x === null) continue;
    if (d + 1 > MAX_EXPORT_DEPTH) return { path, what: `nested more than ${MAX_EXPORT_DEPTH} levels deep` };
    const entries: Array<[string, unknown]> = Array.isArray(x) ? x.map((c, i) => [`[${i}]`, c]) : Object.entries(x).map(([k, c]) => [`.${k}`, c]);
    for (const [step, child] of entries) if ((typeof child === 'object' && child !== null) || typeof child === 'string') stack.push([child, `${path}${step}`, d + 1]);
  }
  return undefined;
}

/** Refuses an export nested deeper, or with longer strings, than anything az prints, naming the field. */
function assertShallow(doc: unknown): void {
  const found = firstOversize(doc);
  if (found === undefined) return;
  // Name the field, not the 64 brackets under it: cut the path at its first run of array indexes past the deepest key.
  const field = /^(.*?(?:\.[^.[\]]+|^\$))(?:\[\d+\])+$/.exec(found.path)?.[1] ?? found.path;
  throw new ArmShapeError(field.length > 200 ? `${field.slice(0, 200)}…` : field, `${found.what}; is this an az export?`);
}

function str(o: Json, key: string, path: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v === '') throw new ArmShapeError(`${path}.${key}`, `expected a non-empty string, found ${describeValue(v)}`);
  return v;
}

function optStr(o: Json, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function strList(o: Json, key: string, path: string): string[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new ArmShapeError(`${path}.${key}`, 'expected an array of strings');
  return v as string[];
}

function objList(o: Json, key: string, path: string): unknown[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ArmShapeError(`${path}.${key}`, 'expected an array');
  return v;
}

function refId(o: Json, key: string): string | undefined {
  const v = o[key];
  return isObject(v) && typeof v.id === 'string' ? v.id : undefined;
}

function rgFromId(id: string | undefined): string | undefined {
  return id ? /\/resourceGroups\/([^/]+)/i.exec(id)?.[1] : undefined;
}

/** Last segment of a resource id (the resource's name). */
export function nameFromId(id: string): string {
  return id.split('/').filter(Boolean).pop() ?? id;
}

function expectType(o: Json, expected: string, path: string, hint: string): void {
  const type = optStr(o, 'type');
  if (type !== undefined && type.toLowerCase() !== expected.toLowerCase()) {
    throw new ArmShapeError(`${path}.type`, `is ${describeValue(type)}, expected "${expected}" (${hint})`);
  }
}

const PROTOCOLS: Record<string, Protocol> = { '*': '*', any: '*', tcp: 'Tcp', udp: 'Udp', icmp: 'Icmp', esp: 'Esp', ah: 'Ah' };

function parseRule(raw: unknown, path: string, isDefault: boolean): NsgRule {
  const r = flat(raw, path);
  const name = str(r, 'name', path);
  const priority = r.priority;
  if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < 100 || priority > 65500) {
    throw new ArmShapeError(`${path}.priority`, `expected an integer 100-4096 (65000-65500 for default rules), found ${describeValue(priority)}`);
  }
  const direction = str(r, 'direction', path);
  if (direction !== 'Inbound' && direction !== 'Outbound') throw new ArmShapeError(`${path}.direction`, `expected Inbound or Outbound, found ${describeValue(direction)}`);
  const access = str(r, 'access', path);
  if (access !== 'Allow' && access !== 'Deny') throw new ArmShapeError(`${path}.access`, `expected Allow or Deny, found ${describeValue(access)}`);
  const protoText = str(r, 'protocol', path);
  const protocol = PROTOCOLS[protoText.toLowerCase()];
  if (!protocol) throw new ArmShapeError(`${path}.protocol`, `unknown protocol ${describeValue(protoText)} (expected *, Tcp, Udp, Icmp, Esp or Ah)`);
  return {
    name, priority, direction, access, protocol, isDefault,
    sourcePorts: ports(r, 'sourcePortRange', 'sourcePortRanges', path),
    destinationPorts: ports(r, 'destinationPortRange', 'destinationPortRanges', path),
    sources: addresses(r, 'sourceAddressPrefix', 'sourceAddressPrefixes', 'sourceApplicationSecurityGroups', path),
    destinations: addresses(r, 'destinationAddressPrefix', 'destinationAddressPrefixes', 'destinationApplicationSecurityGroups', path),
  };
}

/** Azure uses the plural list when it is non-empty, the singular otherwise. */
function ports(r: Json, single: string, plural: string, path: string): PortSet {
  const list = strList(r, plural, path);
  const texts = list.length > 0 ? list : [optStr(r, single) ?? ''];
  const sets: PortSet[] = texts.map((t, i) => {
    const p = parsePortRange(t);
    if (!p) throw new ArmShapeError(`${path}.${list.length > 0 ? `${plural}[${i}]` : single}`, `${describeValue(t)} is not a port, port range or *`);
    return p;
  });
  return sets.length === 0 ? ALL_PORTS : normalizePorts(sets.flat());
}

function addresses(r: Json, single: string, plural: string, asgKey: string, path: string): AddressSpec[] {
  const list = strList(r, plural, path);
  const asgs = objList(r, asgKey, path).map((a) => ({ kind: 'asg' as const, text: isObject(a) && typeof a.id === 'string' ? nameFromId(a.id) : 'asg' }));
  if (list.length > 0) return [...list.map(parseAddressSpec), ...asgs];
  const one = optStr(r, single);
  if (one !== undefined) return [parseAddressSpec(one), ...asgs];
  if (asgs.length > 0) return asgs;
  throw new ArmShapeError(`${path}.${single}`, `missing (neither ${single}, ${plural} nor ${asgKey} is set)`);
}

function defaultRule(name: string, priority: number, direction: Direction, access: Access, src: string, dst: string): NsgRule {
  return { name, priority, direction, access, protocol: '*', isDefault: true, sourcePorts: ALL_PORTS, destinationPorts: ALL_PORTS,
    sources: [parseAddressSpec(src)], destinations: [parseAddressSpec(dst)] };
}

/** Azure's fixed default security rules (the same in every NSG). */
export const DEFAULT_RULES: readonly NsgRule[] = [
  defaultRule('AllowVnetInBound', 65000, 'Inbound', 'Allow', 'VirtualNetwork', 'VirtualNetwork'),
  defaultRule('AllowAzureLoadBalancerInBound', 65001, 'Inbound', 'Allow', 'AzureLoadBalancer', '*'),
  defaultRule('DenyAllInBound', 65500, 'Inbound', 'Deny', '*', '*'),
  defaultRule('AllowVnetOutBound', 65000, 'Outbound', 'Allow', 'VirtualNetwork', 'VirtualNetwork'),
  defaultRule('AllowInternetOutBound', 65001, 'Outbound', 'Allow', '*', 'Internet'),
  defaultRule('DenyAllOutBound', 65500, 'Outbound', 'Deny', '*', '*'),
];

const EXPORT_HINT = {
  nsg: 'export it with: az network nsg show -g <rg> -n <nsg> -o json',
  rt: 'export it with: az network route-table show -g <rg> -n <route-table> -o json',
  subnet: 'export it with: az network vnet subnet show -g <rg> --vnet-name <vnet> -n <subnet> -o json',
  vnet: 'export it with: az network vnet show -g <rg> -n <vnet> -o json',
};

export function parseNsg(doc: unknown): Nsg {
  const o = flat(doc, '$');
  expectType(o, 'Microsoft.Network/networkSecurityGroups', '$', EXPORT_HINT.nsg);
  if (!('securityRules' in o) && !('defaultSecurityRules' in o)) {
    throw new ArmShapeError('$', `has neither securityRules nor defaultSecurityRules; is this an NSG? ${EXPORT_HINT.nsg}`);
  }
  const custom = objList(o, 'securityRules', '$').map((r, i) => parseRule(r, `$.securityRules[${i}]`, false));
  const defaultsRaw = objList(o, 'defaultSecurityRules', '$');
  const defaults = defaultsRaw.length > 0 ? defaultsRaw.map((r, i) => parseRule(r, `$.defaultSecurityRules[${i}]`, true)) : DEFAULT_RULES;
  const id = optStr(o, 'id');
  assertShallow(doc);
  const nsg: Nsg = { name: optStr(o, 'name') ?? (id ? nameFromId(id) : 'nsg'), rules: [...custom, ...defaults], defaultsAssumed: defaultsRaw.length === 0 };
  const resourceGroup = optStr(o, 'resourceGroup') ?? rgFromId(id);
  return { ...nsg, ...(id ? { id } : {}), ...(resourceGroup ? { resourceGroup } : {}) };
}

export function parseRouteTable(doc: unknown): RouteTable {
  const o = flat(doc, '$');
  expectType(o, 'Microsoft.Network/routeTables', '$', EXPORT_HINT.rt);
  if (!('routes' in o)) throw new ArmShapeError('$', `has no routes; is this a route table? ${EXPORT_HINT.rt}`);
  const routes = objList(o, 'routes', '$').map((raw, i): Route => {
    const path = `$.routes[${i}]`;
    const r = flat(raw, path);
    const hop = optStr(r, 'nextHopIpAddress');
    return { name: str(r, 'name', path), addressPrefix: str(r, 'addressPrefix', path), nextHopType: str(r, 'nextHopType', path),
      ...(hop ? { nextHopIpAddress: hop } : {}) };
  });
  assertShallow(doc);
  const id = optStr(o, 'id');
  const resourceGroup = optStr(o, 'resourceGroup') ?? rgFromId(id);
  return { name: optStr(o, 'name') ?? (id ? nameFromId(id) : 'route-table'), routes,
    disableBgpRoutePropagation: o.disableBgpRoutePropagation === true,
    ...(id ? { id } : {}), ...(resourceGroup ? { resourceGroup } : {}) };
}

export function parseSubnet(doc: unknown): Subnet {
  const o = flat(doc, '$');
  expectType(o, 'Microsoft.Network/virtualNetworks/subnets', '$', EXPORT_HINT.subnet);
  const prefixes = [...strList(o, 'addressPrefixes', '$')];
  const single = optStr(o, 'addressPrefix');
  if (single !== undefined && !prefixes.includes(single)) prefixes.unshift(single);
  if (prefixes.length === 0) throw new ArmShapeError('$.addressPrefix', `missing; is this a subnet? ${EXPORT_HINT.subnet}`);
  const delegations = objList(o, 'delegations', '$').map((d, i) => str(flat(d, `$.delegations[${i}]`), 'serviceName', `$.delegations[${i}]`));
  const serviceEndpoints = objList(o, 'serviceEndpoints', '$').map((e, i) => str(flat(e, `$.serviceEndpoints[${i}]`), 'service', `$.serviceEndpoints[${i}]`));
  const ids = (key: string): string[] => objList(o, key, '$').flatMap((x) => (isObject(x) && typeof x.id === 'string' ? [x.id] : []));
  const id = optStr(o, 'id');
  const resourceGroup = optStr(o, 'resourceGroup') ?? rgFromId(id);
  const vnetName = id ? /\/virtualNetworks\/([^/]+)\/subnets\//i.exec(id)?.[1] : undefined;
  assertShallow(doc);
  const nat = refId(o, 'natGateway');
  const nsgId = refId(o, 'networkSecurityGroup');
  const rtId = refId(o, 'routeTable');
  return {
    name: optStr(o, 'name') ?? (id ? nameFromId(id) : 'subnet'), addressPrefixes: prefixes, delegations, serviceEndpoints,
    ipConfigurationIds: ids('ipConfigurations'), privateEndpointIds: ids('privateEndpoints'),
    ...(id ? { id } : {}), ...(resourceGroup ? { resourceGroup } : {}), ...(vnetName ? { vnetName } : {}),
    ...(nat ? { natGatewayId: nat } : {}), ...(nsgId ? { nsgId } : {}), ...(rtId ? { routeTableId: rtId } : {}),
  };
}

export function parseVnet(doc: unknown): Vnet {
  const o = flat(doc, '$');
  expectType(o, 'Microsoft.Network/virtualNetworks', '$', EXPORT_HINT.vnet);
  const space = o.addressSpace;
  if (!isObject(space)) throw new ArmShapeError('$.addressSpace', `missing; is this a virtual network? ${EXPORT_HINT.vnet}`);
  const dhcp = o.dhcpOptions;
  const dnsServers = isObject(dhcp) ? strList(dhcp, 'dnsServers', '$.dhcpOptions') : [];
  assertShallow(doc);
  const id = optStr(o, 'id');
  const resourceGroup = optStr(o, 'resourceGroup') ?? rgFromId(id);
  return { name: optStr(o, 'name') ?? (id ? nameFromId(id) : 'vnet'), addressPrefixes: strList(space, 'addressPrefixes', '$.addressSpace'),
    dnsServers, ...(id ? { id } : {}), ...(resourceGroup ? { resourceGroup } : {}) };
}
