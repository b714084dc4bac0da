// Revocation results -> findings and check lines. Pure functions.
//
// Severity is what this host can know: a revoked certificate is critical; an
// endpoint that cannot be used from here (unreachable, or something other
// than the CA answering) is a warning, since the connection from here does
// not depend on it. Endpoints that could not even be tried because the
// resolver did not answer are one finding marked as caused by DNS-002; those
// whose host the custom resolver could not resolve (DNS coverage) are one
// finding marked as caused by DNS-009.
import type { CheckLine } from './check.js';
import { finding, type Finding, type FindingDefinition } from './finding.js';
import { REVOCATION } from './catalog/revocation.js';
import type {
  CertificateRevocation, ChainRevocationResult, CrlCheck, EndpointReachability, OcspCheck, RevocationReport,
} from '../probes/revocation.js';
import type { FetchPhases } from '../net/pki/http.js';
import type { RevocationErrorCode } from '../net/pki/types.js';

/** A fetch slower than this (seconds, not cached) raises REV-009. */
export const SLOW_SECONDS = 1.0;

const NETWORK_CODES: ReadonlySet<string> = new Set<RevocationErrorCode>([
  'DNS_FAILED', 'TCP_REFUSED', 'TCP_TIMEOUT', 'TCP_UNREACHABLE', 'TCP_ERROR', 'HTTP_TIMEOUT', 'HTTP_ERROR',
]);
const SKIP_CODES: ReadonlySet<string> = new Set<RevocationErrorCode>(['GUARD_DENIED', 'ABORTED', 'UNSUPPORTED_SCHEME']);

/** What answered in the CA's place, by the code the fetch classified it with. */
const IMPOSTOR: Readonly<Partial<Record<RevocationErrorCode, FindingDefinition>>> = {
  HTTP_HTML: REVOCATION.htmlPage,
  HTTP_FORBIDDEN: REVOCATION.forbidden,
  HTTP_PROXY_AUTH: REVOCATION.proxyAuth,
  HTTP_REDIRECT: REVOCATION.redirected,
  HTTP_REDIRECT_OFF_HOST: REVOCATION.redirected,
  HTTP_REDIRECT_LOOP: REVOCATION.redirected,
  TLS_UNTRUSTED: REVOCATION.tlsIntercepted,
  HTTP_HEADERS_TIMEOUT: REVOCATION.noAnswer,
};

/** The finding an error code stands for; undefined when it is no finding (a guard refusal, an abort, ldap://). */
export function definitionFor(code: RevocationErrorCode): FindingDefinition | undefined {
  if (SKIP_CODES.has(code)) return undefined;
  return IMPOSTOR[code] ?? (NETWORK_CODES.has(code) ? REVOCATION.unreachable : REVOCATION.badAnswer);
}

/** DNS codes meaning the resolver itself did not answer (DNS-002), as opposed to an answer without an address. */
const RESOLVER_SILENT: ReadonlySet<string> = new Set(['DNS_TIMEOUT', 'DNS_NETWORK']);
const DNS_CAUSE = 'DNS-002';
const COVERAGE_CAUSE = 'DNS-009';

/** What the other checks found that explains a revocation failure. */
export interface RevocationContext {
  /** Names the custom resolver failed to resolve (DNS coverage, DNS-009). */
  readonly unresolvedNames?: readonly string[];
}

/** The host of a URL, when the custom resolver is known to fail for it (the name or a parent domain of it). */
function coveredFailure(url: string, code: string | undefined, dnsCode: string | undefined, ctx: RevocationContext): string | undefined {
  if (code !== 'DNS_FAILED' || RESOLVER_SILENT.has(dnsCode ?? '') || !ctx.unresolvedNames?.length) return undefined;
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase().replace(/\.$/, '');
  } catch {
    return undefined;
  }
  return ctx.unresolvedNames.some((n) => {
    const name = n.toLowerCase().replace(/\.$/, '');
    return host === name || host.endsWith(`.${name}`);
  }) ? host : undefined;
}

function resolverSilent(code: string | undefined, phases: FetchPhases | undefined): boolean {
  return code === 'DNS_FAILED' && RESOLVER_SILENT.has(phases?.dns?.code ?? '');
}

type Source = CrlCheck | OcspCheck;
type Add = (def: FindingDefinition, key: string, evidence: string, subject?: string) => void;
/** A URL that could not be used, by what happened; the same happening at several URLs is one finding. */
type Report = (def: FindingDefinition, where: string, what: string, subject?: string) => void;

function who(chain: ChainRevocationResult, cert: CertificateRevocation): string {
  const role = cert.position === 0 ? 'leaf' : cert.selfSigned ? 'root' : 'intermediate';
  return `${chain.subject ? `${chain.subject}: ` : ''}${role} "${cert.subject}" (serial ${cert.serial})`;
}

function sourceLabel(s: Source): string {
  return `${s.kind === 'crl' ? 'CRL' : `OCSP ${s.method}`} ${s.url}`;
}

function endpointLabel(e: EndpointReachability): string {
  return `${e.url} (${e.kind.toUpperCase()})`;
}

/** Which step failed, for network failures: "DNS failed", "TCP 80 failed", "TLS failed", "HTTP failed". */
function failedStep(e: { readonly dns?: FetchPhases['dns']; readonly tcp?: FetchPhases['tcp']; readonly tls?: FetchPhases['tls'] }): string {
  return e.dns && !e.dns.ok ? 'DNS' : e.tcp && !e.tcp.ok ? `TCP ${e.tcp.port}` : e.tls && !e.tls.ok ? 'TLS' : 'HTTP';
}

export function revocationFindings(report: RevocationReport, ctx: RevocationContext = {}): Finding[] {
  const out: Finding[] = [];
  const seen = new Set<string>();
  const add: Add = (def, key, evidence, subject) => {
    if (seen.has(`${def.id} ${key}`)) return;
    seen.add(`${def.id} ${key}`);
    out.push(subject !== undefined ? { ...finding(def, evidence), subject } : finding(def, evidence));
  };
  if (report.skipped) return out;
  /** What the silent resolver kept from being tried: one finding for all of it. */
  const notReached: string[] = [];
  /** What failed because the custom resolver cannot resolve its host (DNS-009): one finding for all of it. */
  const unresolved: string[] = [];
  /** Failures grouped by finding, subject and what happened (a portal, a proxy ... answers every URL alike). */
  const groups = new Map<string, { def: FindingDefinition; what: string; subject?: string; where: string[] }>();
  const note: Report = (def, where, what, subject) => {
    const key = `${def.id}\u0000${subject ?? ''}\u0000${what}`;
    const group = groups.get(key);
    if (group) {
      if (!group.where.includes(where)) group.where.push(where);
    } else {
      groups.set(key, { def, what, where: [where], ...(subject !== undefined ? { subject } : {}) });
    }
  };

  for (const chain of report.chains) {
    if (chain.error) {
      add(REVOCATION.badAnswer, `chain ${chain.subject ?? ''}`, `the chain could not be read: ${chain.error.message}`, chain.subject);
    }
    for (const cert of chain.certificates) {
      const name = who(chain, cert);
      if (cert.status === 'revoked' && cert.revocation) {
        add(REVOCATION.revoked, `${cert.serial}`, `${name} is revoked (reason ${cert.revocation.reason}, since ${cert.revocation.date}, `
          + `according to the ${cert.revocation.source.toUpperCase()})`, chain.subject);
      }
      if (!cert.selfSigned && cert.info.crlUrls.length === 0 && cert.info.ocspUrls.length === 0) {
        add(REVOCATION.noInfo, cert.serial, `${name} has no CRL distribution point and no OCSP URL`, chain.subject);
      }
      if (cert.unsupportedUrls.length > 0) {
        add(REVOCATION.unsupportedScheme, cert.serial, `${name} lists ${cert.unsupportedUrls.join(', ')}`, chain.subject);
      }
      if (cert.issuerSource === 'aia' && !cert.issuerIsRoot) {
        add(REVOCATION.missingIssuer, cert.serial, `the issuer of ${name} ("${cert.issuer}") was not sent and had to be fetched from ${cert.info.caIssuersUrls.join(', ')}`, chain.subject);
      } else if (cert.issuerSource === 'missing') {
        add(REVOCATION.missingIssuer, cert.serial, `the issuer of ${name} ("${cert.issuer}") was not sent and could not be fetched`
          + `${cert.info.caIssuersUrls.length ? ` from ${cert.info.caIssuersUrls.join(', ')}` : ' (no CA-issuers URL)'}; its revocation was not checked`, chain.subject);
      }
      for (const s of [...cert.crl, ...cert.ocsp]) {
        if (s.error && resolverSilent(s.error.code, s.phases)) notReached.push(`${sourceLabel(s)} for ${name}`);
        else if (s.error && coveredFailure(s.url, s.error.code, s.phases?.dns?.code, ctx)) unresolved.push(`${sourceLabel(s)} for ${name} (${s.error.message})`);
        else sourceFindings(s, name, chain.subject, add, note);
      }
    }
    for (const f of chain.issuerFetches) {
      const def = f.error ? definitionFor(f.error.code) : undefined;
      if (f.error && def) note(def, `CA issuers ${f.url}`, `${f.error.code}: ${f.error.message}`, chain.subject);
    }
  }
  for (const e of report.endpoints) {
    if (e.error && coveredFailure(e.url, e.error.code, e.dns?.code, ctx)) unresolved.push(`${endpointLabel(e)} (${e.error.message})`);
    else endpointFindings(e, add, note, notReached);
  }
  for (const g of groups.values()) {
    const where = g.where.length === 1 ? g.where[0] ?? '' : `${g.where.length} ${g.def.id === REVOCATION.badSignature.id ? 'answers' : 'URLs'} (${g.where.join(', ')})`;
    add(g.def, `${g.what} ${g.where.join(' ')}`, `${where}: ${g.what}`, g.subject);
  }
  if (unresolved.length > 0) {
    // Not a second problem: the custom resolver's (DNS-009). Fixing it lets these be tried.
    out.push({ ...finding(REVOCATION.unreachable, `${unresolved.length === 1 ? 'its host' : 'their hosts'} did not resolve through the custom DNS server, `
      + `which DNS-009 found cannot resolve these names: ${unresolved.join(', ')}`, {
      severity: 'info',
      fix: `Follows from ${COVERAGE_CAUSE}: give the custom DNS server a forwarder for these names (see ${COVERAGE_CAUSE}), then check again; `
        + 'only then does it show whether HTTP (TCP 80) to the revocation hosts is allowed from here.',
    }), causedBy: COVERAGE_CAUSE });
  }
  if (notReached.length > 0) {
    out.push({ ...finding(REVOCATION.unreachable, `not reached, because name resolution failed: the resolver did not answer `
      + `(${DNS_CAUSE}); not tried: ${notReached.join(', ')}`), causedBy: DNS_CAUSE });
  }
  return out;
}

function endpointFindings(e: EndpointReachability, add: Add, report: Report, notReached: string[]): void {
  const label = endpointLabel(e);
  if (e.ok) {
    if (e.service?.kind === 'crl' && e.service.freshness !== 'fresh') {
      add(REVOCATION.stale, e.url, `${label}: the CRL of "${e.service.issuer}" is ${e.service.freshness === 'stale'
        ? `past its nextUpdate ${e.service.nextUpdate ?? '?'}` : `not yet valid (thisUpdate ${e.service.thisUpdate})`}`);
    }
    return;
  }
  if (!e.error) return;
  if (resolverSilent(e.error.code, e)) {
    notReached.push(label);
    return;
  }
  const def = definitionFor(e.error.code);
  if (!def) return;
  const step = NETWORK_CODES.has(e.error.code) ? `${failedStep(e)} failed: ` : '';
  report(def, label, `${step}${e.error.code}: ${e.error.message}`);
}

function sourceFindings(s: Source, name: string, subject: string | undefined, add: Add, report: Report): void {
  const label = sourceLabel(s);
  if (s.error) {
    const def = definitionFor(s.error.code);
    if (def) report(def, `${label} for ${name}`, `${s.error.code}: ${s.error.message}`, subject);
    return;
  }
  if (s.signature === 'invalid') {
    // One rewriting middlebox (or one misconfigured CA) spoils every answer alike: one finding per chain,
    // listing each answer and the certificate it was about.
    const detail = s.kind === 'ocsp' && s.signatureDetail && s.signatureDetail !== 'the signature does not verify' ? ` (${s.signatureDetail})` : '';
    report(REVOCATION.badSignature, `${label} for ${name}${detail}`, 'the signature does not verify, so the revocation status is unknown', subject);
  }
  if (s.freshness === 'stale' || s.freshness === 'not-yet-valid') {
    add(REVOCATION.stale, s.url, `${label} for ${name}: ${s.freshness === 'stale' ? `nextUpdate ${s.nextUpdate ?? '?'} has passed`
      : `thisUpdate ${s.thisUpdate ?? '?'} is in the future`}`, subject);
  }
  if (s.kind === 'ocsp' && s.nonce === 'mismatch') {
    add(REVOCATION.badAnswer, s.url, `${label} for ${name}: the response nonce does not match the request (replayed answer?)`, subject);
  }
  if (s.kind === 'ocsp' && s.signature === 'valid' && s.status === 'unknown') {
    add(REVOCATION.unknown, s.url, `${label} answered "unknown" for ${name}`, subject);
  }
  if (!s.cached && s.seconds > SLOW_SECONDS) {
    add(REVOCATION.slow, s.url, `${label} took ${s.seconds.toFixed(2)} s for ${name}`, subject);
  }
}

function sourceLine(s: Source, name: string, ctx: RevocationContext): CheckLine {
  const base = { name: `${s.kind === 'crl' ? 'CRL' : 'OCSP'} ${s.url}`, seconds: s.seconds };
  if (s.error) {
    const status = SKIP_CODES.has(s.error.code) || resolverSilent(s.error.code, s.phases) ? 'skip' : 'warn';
    const why = resolverSilent(s.error.code, s.phases) ? `not reached: the resolver did not answer (${DNS_CAUSE}); ` : '';
    const covered = coveredFailure(s.url, s.error.code, s.phases?.dns?.code, ctx) ? { causedBy: COVERAGE_CAUSE } : {};
    return { ...base, status, detail: `${name}: ${why}${s.error.code}: ${s.error.message}`, ...covered };
  }
  const facts = [s.status ?? '?', `signature ${s.signature ?? '?'}`, s.freshness ?? '', s.cached ? 'cached' : '',
    s.kind === 'ocsp' && s.nonce && s.nonce !== 'not-sent' ? `nonce ${s.nonce}` : '',
    s.status === 'revoked' ? `${s.reason ?? ''} ${s.revocationDate ?? ''}` : ''].filter(Boolean).join(', ');
  // An answer whose signature does not verify leaves the status unknown (REV-005, a risk); only revoked fails.
  const status = s.status === 'revoked' ? 'fail'
    : !s.ok || s.signature === 'invalid' || s.status === 'unknown' || (!s.cached && s.seconds > SLOW_SECONDS) ? 'warn' : 'pass';
  return { ...base, status, detail: `${name}: ${facts}` };
}

export function revocationChecks(report: RevocationReport, ctx: RevocationContext = {}): CheckLine[] {
  if (report.skipped) return [{ name: 'Revocation', status: 'skip', detail: report.skipped }];
  const lines: CheckLine[] = [];
  for (const chain of report.chains) {
    if (chain.error) lines.push({ name: `Revocation ${chain.subject ?? 'chain'}`, status: 'warn', seconds: chain.seconds, detail: chain.error.message });
    for (const cert of chain.certificates) {
      const name = who(chain, cert);
      if (cert.selfSigned) {
        lines.push({ name: `Revocation ${cert.subject}`, status: 'info', detail: `${name} is a self-signed root: not checked` });
        continue;
      }
      for (const s of [...cert.crl, ...cert.ocsp]) lines.push(sourceLine(s, name, ctx));
      const status = cert.status === 'good' ? 'pass' : cert.status === 'revoked' ? 'fail' : 'warn';
      lines.push({ name: `Revocation ${cert.subject}`, status,
        detail: `${name}: ${cert.status}${cert.revocation ? ` (${cert.revocation.reason}, ${cert.revocation.date})` : ''}`
          + `${cert.issuerSource === 'aia' ? '; issuer fetched from CA issuers' : ''}` });
    }
  }
  for (const e of report.endpoints) lines.push(endpointLine(e, ctx));
  return lines;
}

function serviceText(e: EndpointReachability): string {
  const s = e.service;
  if (!s) return '';
  switch (s.kind) {
    case 'crl': return `a CRL of "${s.issuer}" (${s.bytes} bytes, thisUpdate ${s.thisUpdate}, ${s.freshness})`;
    case 'ocsp': return `an OCSP response (${s.responseStatus}): an OCSP responder answers`;
    case 'aia': return `certificates: ${s.subjects.join('; ')}`;
    default: return `${s.contentType || 'no content type'}, ${s.bytes} bytes`;
  }
}

function endpointLine(e: EndpointReachability, ctx: RevocationContext): CheckLine {
  const silent = e.error !== undefined && resolverSilent(e.error.code, e);
  const parts = [
    e.dns ? `DNS ${e.dns.ok ? `${e.dns.addresses.join(' ')} ${e.dns.seconds.toFixed(3)} s` : 'failed'}` : '',
    e.tcp ? `TCP ${e.tcp.port} ${e.tcp.state} ${e.tcp.seconds.toFixed(3)} s` : '',
    e.tls ? `TLS ${e.tls.ok ? e.tls.protocol ?? 'ok' : 'failed'} ${e.tls.seconds.toFixed(3)} s` : '',
    e.http ? `HTTP ${e.http.status ?? 'no answer'} ${e.http.seconds.toFixed(3)} s` : '',
    e.ok ? serviceText(e) : '',
    silent ? `not reached: the resolver did not answer (${DNS_CAUSE})` : '',
    e.error ? `${e.error.code}: ${e.error.message}` : '',
  ].filter(Boolean);
  const status = e.ok ? (e.service?.kind === 'crl' && e.service.freshness !== 'fresh' ? 'warn' : 'pass')
    : (e.error && SKIP_CODES.has(e.error.code)) || silent ? 'skip' : 'warn';
  const covered = e.error && coveredFailure(e.url, e.error.code, e.dns?.code, ctx) ? { causedBy: COVERAGE_CAUSE } : {};
  return { name: `Revocation endpoint ${e.url}`, status, seconds: e.seconds, detail: parts.join('; '), ...covered };
}
