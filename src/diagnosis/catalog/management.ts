// Findings about the legacy management endpoint's built-in firewall, probed
// live from where miprobe runs (src/probes/management-ports.ts). References are public.
import type { FindingDefinition } from '../finding.js';
import { DOC_DIAGNOSE_OPTIONS, MI_LEGACY_MANAGEMENT_ENDPOINT, MI_MANAGEMENT_FIREWALL } from '../../requirements/sources.js';

const FIREWALL = `${MI_MANAGEMENT_FIREWALL}; ${MI_LEGACY_MANAGEMENT_ENDPOINT}`;

export const MGMT = {
  portOpen: { id: 'MGMT-001', severity: 'warning', title: 'A management port of the management endpoint is open from here',
    fix: 'The built-in firewall should admit only Microsoft ranges: check whether this host egresses from a Microsoft address, and open a support case if not.',
    ref: FIREWALL },
  unexpectedOpen: { id: 'MGMT-002', severity: 'warning', title: 'A port outside the management set is open on the management endpoint',
    fix: 'Only the mandatory management ports should answer; report the open port to Microsoft support with this evidence.',
    ref: FIREWALL },
  unreachable: { id: 'MGMT-003', severity: 'info', title: 'The management endpoint is unreachable from here',
    fix: 'Nothing to fix for clients; a network between this host and the endpoint rejects the traffic (the firewall test is inconclusive).',
    ref: MI_LEGACY_MANAGEMENT_ENDPOINT },
  probeFailed: { id: 'MGMT-004', severity: 'info', title: 'The management ports could not be probed',
    fix: 'See the evidence; widen --allow-cidr if the address guard refused the endpoint\'s address.',
    ref: `${MI_MANAGEMENT_FIREWALL}; ${DOC_DIAGNOSE_OPTIONS} (--allow-cidr)` },
} satisfies Record<string, FindingDefinition>;
