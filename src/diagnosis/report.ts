// The diagnosis document: what `diagnose --json` prints (schema in
// config/report.schema.json) and what the text renderer and metrics read.
import type { DnsError, ResolveResult } from '../net/dns/types.js';
import type { ResolverRole } from '../probes/context.js';
import type { DataPathResult } from '../probes/datapath.js';
import type { LoginResult } from '../probes/login.js';
import type { ManagementPortsResult } from '../probes/management-ports.js';
import type { PortScanResult } from '../net/port-scan.js';
import type { RedirectResult } from '../probes/redirect.js';
import type { RevocationReport } from '../probes/revocation.js';
import type { CheckLine } from './check.js';
import type { Finding, Verdict } from './finding.js';
import type { TargetKind } from './target.js';

export const REPORT_SCHEMA_VERSION = 1;

/** One resolver's answer: the resolution result as the DNS client gave it, with who answered. */
export type ResolverReport = Pick<ResolveResult, 'ok' | 'chain' | 'addresses' | 'canonicalName' | 'transport' | 'seconds' | 'error'> & {
  readonly server: string;
  readonly role: ResolverRole;
};

export type ManagementEndpointReport =
  | { readonly present: true; readonly host: string; readonly cnameTarget: string; readonly addresses: readonly string[];
      readonly seconds: number; readonly error?: DnsError }
  | { readonly present: false; readonly reason: string };

export interface DnsCoverageReport {
  readonly server: string;
  readonly checked: number;
  readonly failures: ReadonlyArray<{ readonly name: string; readonly code: string }>;
  readonly seconds: number;
}

/** The data path as probed: TCP, PRELOGIN, TLS (chain as PEM) to the resolved address, then login, redirect, public endpoint. */
export type DataPathReport = DataPathResult & {
  readonly login?: LoginResult;
  readonly redirect?: RedirectResult;
  /** A sample of the redirect range 11000-11999 on the node the gateway redirected to. */
  readonly redirectPorts?: PortScanResult;
  readonly public?: DataPathResult;
  readonly publicName?: { readonly host: string; readonly addresses: readonly string[]; readonly error?: string };
};

export interface DiagnosisReport {
  readonly schemaVersion: typeof REPORT_SCHEMA_VERSION;
  /** What produced the document (check-network's says 'check-network'): the same envelope for both. */
  readonly kind: 'diagnose';
  readonly tool: { readonly name: 'miprobe'; readonly version: string };
  readonly target: {
    readonly fqdn: string; readonly kind: TargetKind; readonly port: number;
    readonly miName?: string; readonly zoneId?: string; readonly cloud?: string; readonly publicName?: string;
  };
  readonly startedAt: string;
  readonly durationSeconds: number;
  /** How long miprobe itself could not run during the diagnosis (HOST-001 when it ate into the deadlines). */
  readonly host?: {
    /** Loading code and building first-use state before the first probe (not on any probe's clock). */
    readonly warmUpSeconds: number;
    readonly maxStallSeconds: number;
    readonly totalStallSeconds: number;
  };
  readonly verdict: Verdict;
  readonly dns: readonly ResolverReport[];
  readonly managementEndpoint: ManagementEndpointReport;
  readonly dnsCoverage: readonly DnsCoverageReport[];
  readonly dataPath?: DataPathReport;
  readonly managementFirewall?: ManagementPortsResult;
  readonly revocation?: RevocationReport;
  readonly checks: readonly CheckLine[];
  readonly findings: readonly Finding[];
}
