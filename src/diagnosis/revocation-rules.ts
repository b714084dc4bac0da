// Revocation results -> findings and check lines. Pure functions.
import type { CheckLine } from './check.js';
import { finding, type Finding } from './finding.js';
import { REVOCATION } from './catalog/revocation.js';
import type {
  CertificateRevocation, ChainRevocationResult, CrlCheck, EndpointReachability, OcspCheck, RevocationReport,
} from '../probes/revocation.js';
import type { RevocationErrorCode } from '../net/pki/types.js';

/** A fetch slower than this (seconds, not cached) raises REV-009. */
export const SLOW_SECONDS = 1.0;

const NETWORK_CODES: ReadonlySet<string> = new Set<RevocationErrorCode>([
  'DNS_FAILED', 'TCP_REFUSED', 'TCP_TIMEOUT', 'TCP_UNREACHABLE', 'TCP_ERROR', 'HTTP_TIMEOUT', 'HTTP_ERROR',
]);
const SKIP_CODES: ReadonlySet<string> = new Set<RevocationErrorCode>(['GUARD_DENIED', 'ABORTED', 'UNSUPPORTED_SCHEME']);

type Source = CrlCheck | OcspCheck;

function who(chain: ChainRevocationResult, cert: CertificateRevocation): string {
  const role = cert.position === 0 ? 'leaf' : cert.selfSigned ? 'root' : 'intermediate';
  return `${chain.subject ? `${chain.subject}: ` : ''}${role} "${cert.subject}" (serial ${cert.serial})`;
}

function sourceLabel(s: Source): string {
  return `${s.kind === 'crl' ? 'CRL' : `OCSP ${s.method}`} ${s.url}`;
}

function describeUnreachable(code: string, message: string): string {
  return `${code}: ${message}`;
}

export function revocationFindings(report: RevocationReport): Finding[] {
  const out: Finding[] = [];
  const seen = new Set<string>();
  const add = (def: (typeof REVOCATION)[keyof typeof REVOCATION], key: string, evidence: string, subject?: string): void => {
    if (seen.has(`${def.id} ${key}`)) return;
    seen.add(`${def.id} ${key}`);
    out.push(subject !== undefined ? { ...finding(def, evidence), subject } : finding(def, evidence));
  };
  if (report.skipped) return out;

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
      for (const s of [...cert.crl, ...cert.ocsp]) sourceFindings(s, name, chain.subject, add);
    }
    for (const f of chain.issuerFetches) {
      if (f.error && NETWORK_CODES.has(f.error.code)) {
        add(REVOCATION.unreachable, f.url, `CA issuers ${f.url}: ${describeUnreachable(f.error.code, f.error.message)}`, chain.subject);
      } else if (f.error && !SKIP_CODES.has(f.error.code)) {
        add(REVOCATION.badAnswer, f.url, `CA issuers ${f.url}: ${f.error.code}: ${f.error.message}`, chain.subject);
      }
    }
  }
  for (const e of report.endpoints) {
    if (!e.ok && e.error && !SKIP_CODES.has(e.error.code)) {
      const step = e.dns && !e.dns.ok ? 'DNS' : e.tcp && !e.tcp.ok ? `TCP ${e.tcp.port}` : 'HTTP';
      add(REVOCATION.unreachable, e.url, `${e.url} (${e.kind.toUpperCase()}): ${step} failed: ${e.error.code}: ${e.error.message}`);
    }
  }
  return out;
}

function sourceFindings(s: Source, name: string, subject: string | undefined,
  add: (def: (typeof REVOCATION)[keyof typeof REVOCATION], key: string, evidence: string, subject?: string) => void): void {
  const label = sourceLabel(s);
  if (s.error) {
    if (SKIP_CODES.has(s.error.code)) return;
    if (NETWORK_CODES.has(s.error.code)) {
      add(REVOCATION.unreachable, s.url, `${label} for ${name}: ${describeUnreachable(s.error.code, s.error.message)}`, subject);
    } else {
      add(REVOCATION.badAnswer, s.url, `${label} for ${name}: ${s.error.code}: ${s.error.message}`, subject);
    }
    return;
  }
  if (s.signature === 'invalid') {
    const detail = s.kind === 'ocsp' && s.signatureDetail ? ` (${s.signatureDetail})` : '';
    add(REVOCATION.badSignature, s.url, `${label} for ${name}: the signature does not verify${detail}`, subject);
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

function sourceLine(s: Source, name: string): CheckLine {
  const base = { name: `${s.kind === 'crl' ? 'CRL' : 'OCSP'} ${s.url}`, seconds: s.seconds };
  if (s.error) {
    return { ...base, status: SKIP_CODES.has(s.error.code) ? 'skip' : 'fail', detail: `${name}: ${s.error.code}: ${s.error.message}` };
  }
  const facts = [s.status ?? '?', `signature ${s.signature ?? '?'}`, s.freshness ?? '', s.cached ? 'cached' : '',
    s.kind === 'ocsp' && s.nonce && s.nonce !== 'not-sent' ? `nonce ${s.nonce}` : '',
    s.status === 'revoked' ? `${s.reason ?? ''} ${s.revocationDate ?? ''}` : ''].filter(Boolean).join(', ');
  const status = s.status === 'revoked' || s.signature === 'invalid' ? 'fail'
    : !s.ok || s.status === 'unknown' || (!s.cached && s.seconds > SLOW_SECONDS) ? 'warn' : 'pass';
  return { ...base, status, detail: `${name}: ${facts}` };
}

export function revocationChecks(report: RevocationReport): CheckLine[] {
  if (report.skipped) return [{ name: 'Revocation', status: 'skip', detail: report.skipped }];
  const lines: CheckLine[] = [];
  for (const chain of report.chains) {
    if (chain.error) lines.push({ name: `Revocation ${chain.subject ?? 'chain'}`, status: 'fail', seconds: chain.seconds, detail: chain.error.message });
    for (const cert of chain.certificates) {
      const name = who(chain, cert);
      if (cert.selfSigned) {
        lines.push({ name: `Revocation ${cert.subject}`, status: 'info', detail: `${name} is a self-signed root: not checked` });
        continue;
      }
      for (const s of [...cert.crl, ...cert.ocsp]) lines.push(sourceLine(s, name));
      const status = cert.status === 'good' ? 'pass' : cert.status === 'revoked' ? 'fail' : 'warn';
      lines.push({ name: `Revocation ${cert.subject}`, status,
        detail: `${name}: ${cert.status}${cert.revocation ? ` (${cert.revocation.reason}, ${cert.revocation.date})` : ''}`
          + `${cert.issuerSource === 'aia' ? '; issuer fetched from CA issuers' : ''}` });
    }
  }
  for (const e of report.endpoints) lines.push(endpointLine(e));
  return lines;
}

function endpointLine(e: EndpointReachability): CheckLine {
  const parts = [
    e.dns ? `DNS ${e.dns.ok ? `${e.dns.addresses.join(' ')} ${e.dns.seconds.toFixed(3)} s` : 'failed'}` : '',
    e.tcp ? `TCP ${e.tcp.port} ${e.tcp.state} ${e.tcp.seconds.toFixed(3)} s` : '',
    e.http ? `HTTP ${e.http.status ?? 'no answer'} ${e.http.seconds.toFixed(3)} s` : '',
    e.error ? `${e.error.code}: ${e.error.message}` : '',
  ].filter(Boolean);
  const status = e.ok ? 'pass' : e.error && SKIP_CODES.has(e.error.code) ? 'skip' : 'fail';
  return { name: `Revocation endpoint ${e.url}`, status, seconds: e.seconds, detail: parts.join('; ') };
}
