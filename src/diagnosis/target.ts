// Recognises the host-name forms a managed instance is reached by, and
// derives the related names (public endpoint, management endpoint).
import { GATEWAY_PORT, PUBLIC_ENDPOINT_PORT } from '../requirements/platform.js';

/** DNS suffixes of Azure SQL in the public and sovereign clouds. */
export const SQL_SUFFIXES: Readonly<Record<string, string>> = {
  'database.windows.net': 'AzureCloud',
  'database.usgovcloudapi.net': 'AzureUSGovernment',
  'database.chinacloudapi.cn': 'AzureChinaCloud',
  'database.cloudapi.de': 'AzureGermanCloud',
};

export type TargetKind = 'vnet-local' | 'public-endpoint' | 'private-link' | 'custom-domain';

export interface TargetName {
  readonly fqdn: string;
  readonly kind: TargetKind;
  /** Instance name and DNS zone id, when the name has the managed-instance shape. */
  readonly miName?: string;
  readonly zoneId?: string;
  readonly suffix?: string;
  readonly cloud?: string;
  /** The port clients use for this name: 3342 for the public endpoint, 1433 otherwise. */
  readonly port: number;
  /** `<mi>.public.<zone>.<suffix>`, when derivable. */
  readonly publicName?: string;
  /** `<mi>.<zone>.<suffix>`, when derivable. */
  readonly vnetLocalName?: string;
}

export class HostNameError extends Error {}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Validates an RFC 1123 host name and normalises it (lower case, no trailing dot). */
export function normaliseHostName(input: string): string {
  const name = input.trim().toLowerCase().replace(/\.$/, '');
  if (name === '') throw new HostNameError('the host name is empty');
  if (name.length > 253) throw new HostNameError(`"${input}" is longer than 253 characters`);
  if ((/^[\d.]+$/.test(name) && /\d/.test(name)) || name.includes(':')) {
    throw new HostNameError(`"${input}" is an IP address; give the instance's host name (<mi>.<zone>.database.windows.net): the gateway routes by name, and an address cannot be diagnosed`);
  }
  const bad = name.split('.').find((label) => !LABEL.test(label));
  if (bad !== undefined) {
    throw new HostNameError(`"${input}" is not a valid host name (label "${bad}": letters, digits and inner hyphens, 1-63 characters)`);
  }
  if (!name.includes('.')) throw new HostNameError(`"${input}" is not a fully qualified name (expected <mi>.<zone>.database.windows.net)`);
  return name;
}

/**
 * The host of a server as connection strings write it: `tcp:` prefix and `,port` (ADO.NET, sqlcmd) or
 * `:port` after a name are taken off; the port, when given, is returned to be checked against the name's.
 */
export function splitServerArgument(input: string): { host: string; port?: number } {
  const host = input.trim().replace(/^tcp:/i, '');
  const withPort = /^([^:,]+)[,:](\d{1,5})$/.exec(host);
  return withPort ? { host: withPort[1] as string, port: Number(withPort[2]) } : { host };
}

export function parseTarget(input: string): TargetName {
  const { host, port } = splitServerArgument(input);
  const target = parseHost(host);
  if (port !== undefined && port !== target.port) {
    const other = target.kind === 'vnet-local' ? `; port ${PUBLIC_ENDPOINT_PORT} is its public endpoint's, ${target.publicName}: give that name to diagnose it`
      : target.kind === 'public-endpoint' ? `; port ${GATEWAY_PORT} is its VNet-local name's, ${target.vnetLocalName}: give that name to diagnose it` : '';
    throw new HostNameError(`"${input}" names port ${port}, but ${target.fqdn} is reached on ${target.port}${other}`);
  }
  return target;
}

function parseHost(input: string): TargetName {
  const fqdn = normaliseHostName(input);
  const suffix = Object.keys(SQL_SUFFIXES).find((s) => fqdn.endsWith(`.${s}`));
  if (!suffix) return { fqdn, kind: 'custom-domain', port: GATEWAY_PORT };
  const cloud = SQL_SUFFIXES[suffix];
  const labels = fqdn.slice(0, -suffix.length - 1).split('.');
  const base = { fqdn, suffix, cloud };
  if (labels.includes('privatelink')) {
    const [miName] = labels;
    return { ...base, kind: 'private-link', miName, port: GATEWAY_PORT };
  }
  if (labels.length === 3 && labels[1] === 'public') {
    const [miName, , zoneId] = labels;
    return { ...base, kind: 'public-endpoint', miName, zoneId, port: PUBLIC_ENDPOINT_PORT, publicName: fqdn,
      vnetLocalName: `${miName}.${zoneId}.${suffix}` };
  }
  if (labels.length === 2) {
    const [miName, zoneId] = labels;
    return { ...base, kind: 'vnet-local', miName, zoneId, port: GATEWAY_PORT, vnetLocalName: fqdn,
      publicName: `${miName}.public.${zoneId}.${suffix}` };
  }
  // A single-label server name (SQL Database logical server) or another shape.
  return { ...base, kind: 'custom-domain', port: GATEWAY_PORT };
}

/**
 * The legacy management endpoint: the CNAME target that carries a `.vnet`
 * label, with that label removed ("do a DNS lookup on this FQDN with .vnet
 * removed": MI_MANAGEMENT_ENDPOINT_IP in src/requirements/sources.ts). Undefined when no name in the chain has the label.
 */
export function managementHostFromChain(names: readonly string[]): { cnameTarget: string; host: string } | undefined {
  for (const name of names) {
    const labels = name.toLowerCase().replace(/\.$/, '').split('.');
    const idx = labels.indexOf('vnet');
    if (idx > 0) return { cnameTarget: name, host: [...labels.slice(0, idx), ...labels.slice(idx + 1)].join('.') };
  }
  return undefined;
}
