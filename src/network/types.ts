// The check-network document (`miprobe check-network --json`).
import type { CheckLine } from '../diagnosis/check.js';
import type { Finding, Verdict } from '../diagnosis/finding.js';
import type { Architecture } from './requirements.js';

/** A finding plus, for a missing or wrong rule or route, the az command that fixes it. */
export interface NetworkFinding extends Finding {
  readonly command?: string;
}

export const NETWORK_SCHEMA_VERSION = 1;

export interface NetworkCheckReport {
  readonly schemaVersion: typeof NETWORK_SCHEMA_VERSION;
  readonly kind: 'check-network';
  readonly tool: { readonly name: 'miprobe'; readonly version: string };
  readonly architecture: Architecture;
  /** Why this architecture: given by --architecture, or what auto-detection saw. */
  readonly architectureReason: string;
  readonly subject: {
    readonly subnet: string;
    readonly addressPrefixes: readonly string[];
    readonly nsg?: string;
    readonly routeTable?: string;
    readonly vnet?: string;
  };
  readonly checks: readonly CheckLine[];
  readonly findings: readonly NetworkFinding[];
  readonly verdict: Verdict;
}
