// One cause, one critical. A check that could not run because of another's
// failure never raised a finding (the plan records it as "not reached"); this
// marks the findings of checks that did run but failed for a reason an earlier
// finding already gives, e.g. the driver's login failing on the certificate
// TLS-002 already rejected, or on the node REDIRECT-001 found closed. A
// consequence keeps its evidence, says what it follows from (`causedBy`) and
// is information, not another critical. The break is then the cause's: a
// critical lowered to a consequence makes its root cause critical (a warning
// such as TDS-004 "strict only" is a break from here when miprobe's own TDS 7.x
// login failed on it). HOST-001 is the exception: a stalled process may have
// caused the timeouts itself, so they are lowered without raising it (the host
// rules do that, after this). Pure.
import type { Finding } from './finding.js';

interface Rule {
  /** Findings that are consequences when one of `causes` is present. */
  readonly effects: ReadonlySet<string>;
  /** Causes, in the order they are preferred (the first one present is named). */
  readonly causes: readonly string[];
  /** When only some findings of these ids are consequences of these causes. */
  readonly when?: (effect: Finding, cause: Finding) => boolean;
}

const set = (...ids: string[]): ReadonlySet<string> => new Set(ids);

/** Login failures, by what explains them: the gateway's TCP, TDS or TLS, or the redirect node. */
const LOGIN_FAILURES = set('LOGIN-006', 'LOGIN-007', 'LOGIN-008', 'LOGIN-009', 'LOGIN-010', 'LOGIN-011');

/** OpenSSL's word for a leaf whose issuer was not sent (and is not in the store): the server's chain is incomplete. */
export const MISSING_INTERMEDIATE_ERROR = 'UNABLE_TO_VERIFY_LEAF_SIGNATURE';

const RULES: readonly Rule[] = [
  // The login goes the way the probe of the same path went before it.
  { effects: LOGIN_FAILURES, causes: ['TCP-001', 'TCP-002', 'TCP-003', 'TCP-004', 'TDS-001', 'TDS-002', 'TDS-003', 'TDS-004', 'TDS-005',
    'TLS-001', 'TLS-002', 'TLS-003', 'TLS-004', 'TLS-006'] },
  // A login that failed after the routing ENVCHANGE failed on the node; one that got only an Enhanced Routing
  // ENVCHANGE (type 21) the driver skipped stayed on a gateway that does not serve it.
  { effects: LOGIN_FAILURES, causes: ['REDIRECT-001', 'REDIRECT-002', 'REDIRECT-003', 'REDIRECT-007'] },
  // miprobe does not connect to a public address for a VNet-local name: the refusal follows from the answer.
  { effects: set('TCP-004'), causes: ['DNS-003'] },
  // The gateway's chain is untrusted because the server sent its leaf without the intermediate (the revocation
  // check fetched it from the CA-issuers URL): not a middlebox, not a missing root.
  { effects: set('TLS-002'), causes: ['REV-008'],
    when: (effect, cause) => effect.evidence.includes(MISSING_INTERMEDIATE_ERROR) && cause.subject === 'gateway' },
];

/** Hosts stalls explain timeouts without being a break of the network: never raised for what they cause. */
const NOT_RAISED: ReadonlySet<string> = set('HOST-001');

/**
 * Marks consequences (severity info, `causedBy` the cause's id); findings that already name a cause keep it.
 * A critical lowered so makes its root cause critical, saying which consequence shows the break.
 */
export function markConsequences(findings: readonly Finding[]): Finding[] {
  const roots = findings.filter((f) => f.causedBy === undefined);
  const marked = findings.map((f): Finding => {
    if (f.causedBy !== undefined) return f;
    for (const rule of RULES) {
      if (!rule.effects.has(f.id)) continue;
      const cause = rule.causes.map((id) => roots.find((c) => c.id === id && c !== f && (rule.when?.(f, c) ?? true))).find((c) => c !== undefined);
      if (cause) return { ...f, severity: 'info', causedBy: cause.id, fix: `Follows from ${cause.id}: fix that first. ${f.fix}` };
    }
    return f;
  });
  return raiseRootCauses(findings, marked);
}

/** The finding at the root of a consequence's chain of causes (by id), if present. */
function rootOf(f: Finding, all: readonly Finding[]): Finding | undefined {
  let cause: Finding | undefined = f;
  const seen = new Set<Finding>();
  while (cause?.causedBy !== undefined && !seen.has(cause)) {
    seen.add(cause);
    const id: string = cause.causedBy;
    cause = all.find((c) => c.id === id && c !== cause);
  }
  return cause === f ? undefined : cause;
}

function raiseRootCauses(before: readonly Finding[], marked: readonly Finding[]): Finding[] {
  /** Root causes to raise, with the consequence that shows the break (the first one). */
  const raise = new Map<Finding, Finding>();
  marked.forEach((f, i) => {
    const was = before[i];
    if (was?.severity !== 'critical' || f.severity === 'critical' || was.causedBy !== undefined) return;
    const root = rootOf(f, marked);
    if (!root || root.severity === 'critical' || NOT_RAISED.has(root.id) || raise.has(root)) return;
    raise.set(root, f);
  });
  return marked.map((f) => {
    const shownBy = raise.get(f);
    return shownBy ? { ...f, severity: 'critical', evidence: `${f.evidence}; critical here: ${shownBy.id} shows that the connection fails from this host` } : f;
  });
}

/** Where a finding's id sits along the path: the host, the name, TCP, TDS, TLS, login, redirect, public; management; revocation. */
const PATH_ORDER = ['HOST', 'NAME', 'DNS', 'TCP', 'TDS', 'TLS', 'LOGIN', 'REDIRECT', 'PUBLIC', 'MGMT', 'REV'];

function pathRank(id: string): number {
  const i = PATH_ORDER.indexOf(id.split('-')[0] ?? '');
  return i === -1 ? PATH_ORDER.length : i;
}

const SEVERITY_RANK = { critical: 0, warning: 1, info: 2 } as const;

/**
 * Root causes first, the most severe first and along the path within a severity; each consequence right
 * after its cause (and its own consequences right after it).
 */
export function causalOrder(findings: readonly Finding[]): Finding[] {
  const isRoot = (f: Finding): boolean => f.causedBy === undefined || !findings.some((c) => c !== f && c.id === f.causedBy);
  const byPath = (a: Finding, b: Finding): number => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || pathRank(a.id) - pathRank(b.id)
    || a.id.localeCompare(b.id);
  const out: Finding[] = [];
  const placed = new Set<Finding>();
  const place = (f: Finding): void => {
    if (placed.has(f)) return;
    out.push(f);
    placed.add(f);
    for (const c of findings.filter((g) => g.causedBy === f.id && !placed.has(g)).sort(byPath)) place(c);
  };
  for (const root of findings.filter(isRoot).sort(byPath)) place(root);
  // A cycle of causes (not made here, but possible in input) still shows every finding.
  for (const f of [...findings].sort(byPath)) place(f);
  return out;
}
