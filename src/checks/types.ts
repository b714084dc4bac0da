// The shapes of the check table: what a diagnosis is asked for, what each check
// gives, and what became of a check (it ran, it was not reached because of
// another's failure, or it was off).
import type { Cidr } from '../net/address.js';
import type { ResolveResult } from '../net/dns/types.js';
import type { PortScanResult } from '../net/port-scan.js';
import type { PublicEndpointResult } from '../diagnosis/datapath-rules.js';
import type { ManagementLookup } from '../diagnosis/dns-rules.js';
import type { Finding } from '../diagnosis/finding.js';
import type { CheckLine } from '../diagnosis/check.js';
import type { TargetName } from '../diagnosis/target.js';
import type { DataPathResult } from '../probes/datapath.js';
import type { CoverageResult } from '../probes/dns-coverage.js';
import type { ResolverAnswer } from '../probes/dns.js';
import type { HttpsChainResult } from '../probes/https-chain.js';
import type { LoginMode, LoginResult } from '../probes/login.js';
import type { ManagementPortsResult } from '../probes/management-ports.js';
import type { ProbeContext } from '../probes/context.js';
import type { RedirectResult } from '../probes/redirect.js';
import type { ChainRevocationResult, EndpointReachability } from '../probes/revocation.js';
import type { CheckGroup } from './groups.js';

/** How the data path is probed and logged into. */
export interface DataPathSettings {
  readonly login: LoginMode;
  readonly user?: string | undefined;
  /** Secrets: used for the login only, never put in a result. */
  readonly password?: string | undefined;
  readonly token?: string | undefined;
  /** Extra trusted roots (PEM). */
  readonly ca?: string | undefined;
  readonly strict: boolean;
  readonly public: boolean;
}

/** What a diagnosis is asked for. */
export interface DiagnoseInput {
  readonly target: TargetName;
  readonly subnet?: Cidr | undefined;
  /** Names each custom resolver must resolve (empty skips the check). */
  readonly requiredNames: readonly string[];
  /** Which groups of checks to run; default all. What a check needs from another group runs too. */
  readonly checks?: ReadonlySet<CheckGroup> | undefined;
  /** How to probe the data path; default: no login, TDS 7.x, no public endpoint. */
  readonly dataPath?: DataPathSettings | undefined;
  /** Platform revocation endpoints to check; default the platform's list. */
  readonly revocationUrls?: readonly string[] | undefined;
  /** HTTPS endpoints whose certificate chains are checked for revocation too. */
  readonly httpsUrls?: readonly string[] | undefined;
  /** Extra ports to check on the management endpoint (--scan-ports). */
  readonly scanPorts?: readonly number[] | undefined;
}

/** What each check's probe gives. */
export interface CheckResults {
  readonly names: ResolverAnswer[];
  readonly managementName: ManagementLookup;
  readonly gateway: DataPathResult;
  readonly publicEndpoint: PublicEndpointResult;
  readonly managementPorts: ManagementPortsResult;
  readonly login: LoginResult;
  readonly redirect: RedirectResult;
  readonly redirectRange: PortScanResult;
  readonly coverage: CoverageResult[];
  readonly revocationEndpoints: EndpointReachability[];
  readonly chainRevocation: ChainRevocationResult[];
  readonly httpsChains: { readonly results: HttpsChainResult[]; readonly chains: ChainRevocationResult[] };
}

export type CheckId = keyof CheckResults;

/** What became of one check in one diagnosis. */
export type Outcome<K extends CheckId> =
  | { readonly state: 'ran'; readonly result: CheckResults[K] }
  /** Its input could not be had because something before it failed; `cause` is that failure's finding id. */
  | { readonly state: 'not-reached'; readonly because: string; readonly cause?: string }
  /** Not asked for, or not applicable to this target (the reason says which). */
  | { readonly state: 'off'; readonly because: string };

export type Outcomes = { -readonly [K in CheckId]?: Outcome<K> };

/** Whether a check can run now, and with what. */
export type Reach<In> =
  | { readonly run: In }
  | { readonly notReached: string; readonly cause?: string | undefined }
  | { readonly off: string };

/** What `reach` sees: the request, the outcomes so far, and the findings they raised. */
export interface PlanState {
  readonly input: DiagnoseInput;
  readonly settings: DataPathSettings;
  readonly done: Outcomes;
  readonly findings: readonly Finding[];
}

/** What every row declares about itself. */
export interface RowHead<K extends CheckId = CheckId> {
  readonly id: K;
  /** Shown in "not reached" and "off" lines. */
  readonly title: string;
  /** The agent schedule that runs it (src/checks/groups.ts). */
  readonly group: CheckGroup;
  /** Checks whose results it reads: they run whenever it runs, and first. */
  readonly needs: readonly CheckId[];
  /** Checks it waits for when they run, so that its own CPU work stays off their clocks (or theirs off its). */
  readonly after: readonly CheckId[];
  /** The report section its result goes to (config/report.schema.json has one property per section). */
  readonly section: ReportSectionKey;
  /** No "off" line in the report (e.g. no redirect happened, so there is no node to sample). */
  readonly quietWhenOff?: boolean;
}

/** One row of the check table. */
export interface CheckRow<K extends CheckId, In> extends RowHead<K> {
  reach(state: PlanState): Reach<In>;
  run(input: In, ctx: ProbeContext): Promise<CheckResults[K]>;
  findings(result: CheckResults[K], state: PlanState): Finding[];
  lines(result: CheckResults[K], state: PlanState): CheckLine[];
}

/** The report's sections that check results fill (see src/diagnosis/report.ts). */
export type ReportSectionKey = 'dns' | 'managementEndpoint' | 'dnsCoverage' | 'dataPath' | 'managementFirewall' | 'revocation';

/** What the plan keeps of a row, its input type erased (defineRow checks each row's types). */
export interface PlanRow extends RowHead {
  /** Reaches and, when it can, runs: the outcome, with the findings and lines of a run. */
  execute(state: PlanState, ctx: ProbeContext): Promise<{ outcome: Outcome<CheckId>; findings: Finding[]; lines: CheckLine[] }>;
}

/** The resolve result an answer carries (re-exported for rows). */
export type { ResolveResult };
