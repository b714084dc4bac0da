// One cause, one critical. A check that could not run because of another's
// failure never raised a finding (the plan records it as "not reached"); this
// marks the findings of checks that did run but failed for a reason an earlier
// finding already gives, e.g. the driver's login failing on the certificate
// TLS-002 already rejected, or on the node REDIRECT-001 found closed. A
// consequence keeps its evidence, says what it follows from (`causedBy`) and
// is information, not another critical. Pure.
import type { Finding } from './finding.js';

interface Rule {
  /** Findings that are consequences when one of `causes` is present. */
  readonly effects: ReadonlySet<string>;
  /** Causes, in the order they are preferred (the first one present is named). */
  readonly causes: readonly string[];
}

const set = (...ids: string[]): ReadonlySet<string> => new Set(ids);

/** Login failures, by what explains them: the gateway's TCP, TDS or TLS, or the redirect node. */
const LOGIN_FAILURES = set('LOGIN-006', 'LOGIN-007', 'LOGIN-008', 'LOGIN-009', 'LOGIN-010', 'LOGIN-011');

const RULES: readonly Rule[] = [
  // The login goes the way the probe of the same path went before it.
  { effects: LOGIN_FAILURES, causes: ['TCP-001', 'TCP-002', 'TCP-003', 'TCP-004', 'TDS-001', 'TDS-002', 'TDS-003', 'TDS-004', 'TDS-005',
    'TLS-001', 'TLS-002', 'TLS-003', 'TLS-004', 'TLS-006'] },
  // A login that failed after the routing ENVCHANGE failed on the node.
  { effects: LOGIN_FAILURES, causes: ['REDIRECT-001', 'REDIRECT-002', 'REDIRECT-003'] },
  // miprobe does not connect to a public address for a VNet-local name: the refusal follows from the answer.
  { effects: set('TCP-004'), causes: ['DNS-003'] },
];

/** Marks consequences (severity info, `causedBy` the cause's id); findings that already name a cause keep it. */
export function markConsequences(findings: readonly Finding[]): Finding[] {
  const present = new Set(findings.filter((f) => f.causedBy === undefined).map((f) => f.id));
  return findings.map((f) => {
    if (f.causedBy !== undefined) return f;
    for (const rule of RULES) {
      if (!rule.effects.has(f.id)) continue;
      const cause = rule.causes.find((c) => c !== f.id && present.has(c));
      if (cause) return { ...f, severity: 'info', causedBy: cause };
    }
    return f;
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
 * after its cause.
 */
export function causalOrder(findings: readonly Finding[]): Finding[] {
  const roots = findings.filter((f) => f.causedBy === undefined || !findings.some((c) => c.id === f.causedBy && c.causedBy === undefined));
  const byPath = (a: Finding, b: Finding): number => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || pathRank(a.id) - pathRank(b.id)
    || a.id.localeCompare(b.id);
  const out: Finding[] = [];
  const placed = new Set<Finding>();
  for (const root of [...roots].sort(byPath)) {
    if (placed.has(root)) continue;
    out.push(root);
    placed.add(root);
    for (const c of findings.filter((f) => f.causedBy === root.id && !placed.has(f)).sort(byPath)) {
      out.push(c);
      placed.add(c);
    }
  }
  return out;
}
