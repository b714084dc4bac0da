// The `az` commands that would fix a missing rule or route, printed with the
// findings. Tokens are shell-quoted when they need it; names the exports did
// not carry become <placeholders>.

export function shellQuote(token: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(token) ? token : `'${token.replace(/'/g, `'\\''`)}'`;
}

export function azCommand(words: readonly string[]): string {
  return words.map((w) => (w.startsWith('<') && w.endsWith('>') ? w : shellQuote(w))).join(' ');
}

export interface NsgRuleCreate {
  readonly resourceGroup?: string;
  readonly nsgName?: string;
  readonly name: string;
  readonly priority: number | undefined;
  readonly direction: 'Inbound' | 'Outbound';
  readonly protocol: string;
  readonly sources: readonly string[];
  readonly destinations: readonly string[];
  readonly ports: readonly string[];
}

export function nsgRuleCreate(c: NsgRuleCreate): string {
  return azCommand(['az', 'network', 'nsg', 'rule', 'create', '--resource-group', c.resourceGroup ?? '<resource-group>',
    '--nsg-name', c.nsgName ?? '<nsg-name>', '--name', c.name, '--priority', c.priority === undefined ? '<free-priority>' : String(c.priority),
    '--direction', c.direction, '--access', 'Allow', '--protocol', c.protocol,
    '--source-address-prefixes', ...c.sources, '--source-port-ranges', '*',
    '--destination-address-prefixes', ...c.destinations, '--destination-port-ranges', ...c.ports]);
}

export function nsgRuleUpdate(resourceGroup: string | undefined, nsgName: string | undefined, name: string,
  change: { priority?: number | undefined; ports?: readonly string[] }): string {
  const words = ['az', 'network', 'nsg', 'rule', 'update', '--resource-group', resourceGroup ?? '<resource-group>',
    '--nsg-name', nsgName ?? '<nsg-name>', '--name', name];
  if ('priority' in change) words.push('--priority', change.priority === undefined ? '<free-priority>' : String(change.priority));
  if (change.ports) words.push('--destination-port-ranges', ...change.ports);
  return azCommand(words);
}

export function routeCreate(resourceGroup: string | undefined, routeTable: string | undefined, name: string, prefix: string, hop: string): string {
  return azCommand(['az', 'network', 'route-table', 'route', 'create', '--resource-group', resourceGroup ?? '<resource-group>',
    '--route-table-name', routeTable ?? '<route-table>', '--name', name, '--address-prefix', prefix, '--next-hop-type', hop]);
}

export function routeUpdate(resourceGroup: string | undefined, routeTable: string | undefined, name: string, hop: string): string {
  return azCommand(['az', 'network', 'route-table', 'route', 'update', '--resource-group', resourceGroup ?? '<resource-group>',
    '--route-table-name', routeTable ?? '<route-table>', '--name', name, '--next-hop-type', hop]);
}

export function subnetUpdate(resourceGroup: string | undefined, vnet: string | undefined, subnet: string, args: readonly string[]): string {
  return azCommand(['az', 'network', 'vnet', 'subnet', 'update', '--resource-group', resourceGroup ?? '<resource-group>',
    '--vnet-name', vnet ?? '<vnet>', '--name', subnet, ...args]);
}
