// Findings about the legacy management endpoint's built-in firewall, probed
// live from where miprobe runs (src/probes/management-ports.ts).
import type { FindingDefinition } from '../finding.js';

const LEGACY = 'seed: Connectivity architecture for Azure SQL Managed Instance before the November 2022 Feature Wave';

export const MGMT = {
  portOpen: { id: 'MGMT-001', severity: 'warning', title: 'A management port of the management endpoint is open from here',
    fix: 'The built-in firewall should admit only Microsoft ranges: check whether this host egresses from a Microsoft address, and open a support case if not.',
    ref: `${LEGACY} / How to test the built-in firewall behind the management endpoint` },
  unexpectedOpen: { id: 'MGMT-002', severity: 'warning', title: 'A port outside the management set is open on the management endpoint',
    fix: 'Only the mandatory management ports should answer; report the open port to Microsoft support with this evidence.',
    ref: `${LEGACY} / How to test the built-in firewall behind the management endpoint` },
  unreachable: { id: 'MGMT-003', severity: 'info', title: 'The management endpoint is unreachable from here',
    fix: 'Nothing to fix for clients; a network between this host and the endpoint rejects the traffic (the firewall test is inconclusive).',
    ref: `${LEGACY} / Management endpoint` },
  probeFailed: { id: 'MGMT-004', severity: 'info', title: 'The management ports could not be probed',
    fix: 'See the evidence; widen --allow-cidr if the address guard refused the endpoint\'s address.',
    ref: `${LEGACY} / How to test the built-in firewall behind the management endpoint` },
} satisfies Record<string, FindingDefinition>;
