// Where the agent may send packets when the configuration names no ranges
// (allowCidrs empty): the private ranges a VNet and its peers use, and Azure's
// resolver. Public addresses (the legacy management endpoint, the CAs'
// revocation hosts) are contacted only when allowCidrs lists them; see
// docs/agent.md, "Running it safely".
import { AZURE_DNS } from '../requirements/platform.js';

export const VNET_RANGES: readonly string[] = [
  '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', // RFC 1918
  '100.64.0.0/10', // RFC 6598 (shared address space, allowed in VNets)
  'fc00::/7', // IPv6 unique local addresses
  `${AZURE_DNS}/32`, // Azure's recursive resolver
];
