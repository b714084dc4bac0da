// The findings catalog: every finding definition miprobe can emit, by area.
// docs/findings.md is generated from it (npm run docs:findings) and a test
// checks ids are unique and well formed.
import type { FindingDefinition } from '../finding.js';
import { DNS, NAME } from './dns.js';
import { NSG, SUBNET, UDR, VNET } from './network.js';
import { MGMT } from './management.js';
import { REVOCATION } from './revocation.js';
import { DATAPATH } from './datapath.js';
import { HOST } from './host.js';

export const CATALOG: readonly FindingDefinition[] = [
  ...Object.values(DNS),
  ...Object.values(NAME),
  ...Object.values(NSG), ...Object.values(UDR), ...Object.values(SUBNET), ...Object.values(VNET),
  ...Object.values(MGMT),
  ...Object.values(REVOCATION),
  ...Object.values(DATAPATH),
  ...Object.values(HOST),
];
