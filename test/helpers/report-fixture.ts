// A diagnosis report built by hand for the agent's pure parts (metrics, check
// states, the status page), typed as the real one: a field the report renames
// or a section it grows breaks these at compile time, not silently. Lines and
// findings carry the check of the table that made them, as diagnose's do.
import type { CheckLine, CheckStatus } from '../../src/diagnosis/check.js';
import type { Finding, Severity } from '../../src/diagnosis/finding.js';
import type { DiagnosisReport } from '../../src/diagnosis/report.js';
import type { CertificateRevocation, ChainRevocationResult, EndpointReachability, RevocationStatus } from '../../src/probes/revocation.js';
import type { CertInfo } from '../../src/net/tds/tls.js';

export const FIXTURE_FQDN = 'mi1.0a1b2c3d4e5f.database.windows.net';
export const FIXTURE_MANAGEMENT = 'trx.westeurope1-a.worker.database.windows.net';

export function fixtureFinding(id: string, severity: Severity, check?: string, evidence = 'seen'): Finding {
  return { id, severity, title: `${id} title`, fix: `${id}: the fix to apply`, ref: 'https://learn.microsoft.com/azure/azure-sql/managed-instance/connectivity-architecture-overview',
    evidence, ...(check !== undefined ? { check } : {}) };
}

export function fixtureLine(check: string, name: string, status: CheckStatus, detail: string, extra: Partial<CheckLine> = {}): CheckLine {
  return { name, status, detail, check, ...extra };
}

/** A check that was not reached, as the report writes it. */
export function notReachedLine(check: string, name: string, because: string, cause?: string): CheckLine {
  return { name, status: 'skip', detail: `not reached: ${because}${cause ? ` (${cause})` : ''}`, check, skipped: 'not-reached', ...(cause ? { causedBy: cause } : {}) };
}

export function offLine(check: string, name: string, because: string): CheckLine {
  return { name, status: 'skip', detail: because, check, skipped: 'off' };
}

function cert(subject: string, validTo: string): CertInfo {
  return { subject, issuer: 'CN=Issuing CA', serialNumber: '01', validFrom: '2029-01-01T00:00:00.000Z', validTo, fingerprint256: 'AA:BB', selfSigned: false, pem: '' };
}

function revoked(status: RevocationStatus, position: number): CertificateRevocation {
  return { position, subject: `CN=cert ${position}`, issuer: 'CN=Issuing CA', serial: String(position), notAfter: '2031-01-01T00:00:00.000Z', selfSigned: false,
    info: { crlUrls: [], ocspUrls: [], caIssuersUrls: [] }, issuerSource: 'chain', unsupportedUrls: [], crl: [], ocsp: [], status };
}

export function fixtureChain(subject: string, statuses: readonly RevocationStatus[]): ChainRevocationResult {
  return { ok: !statuses.includes('revoked'), subject, seconds: 0.1, certificates: statuses.map(revoked), issuerFetches: [] };
}

export function fixtureEndpoint(url: string, ok: boolean): EndpointReachability {
  return { url, kind: url.includes('ocsp') ? 'ocsp' : 'crl', host: new URL(url).hostname, ok, seconds: 0.05 };
}

/** Every section filled: a healthy VNet-local instance seen from a client subnet. */
export function fixtureReport(over: Partial<DiagnosisReport> = {}): DiagnosisReport {
  const fqdn = FIXTURE_FQDN;
  const report: DiagnosisReport = {
    schemaVersion: 1, kind: 'diagnose', tool: { name: 'miprobe', version: 't' }, target: { fqdn, kind: 'vnet-local', port: 1433 },
    startedAt: '2030-01-01T00:00:00.000Z', durationSeconds: 0.2, verdict: 'healthy',
    dns: [{ server: '10.0.0.2:53', role: 'custom', ok: true, chain: [], addresses: ['10.1.0.4'], canonicalName: fqdn, transport: 'udp', seconds: 0.01 }],
    managementEndpoint: { present: true, host: FIXTURE_MANAGEMENT, cnameTarget: 'trx.westeurope1-a.worker.vnet.database.windows.net', addresses: ['20.1.1.1'], seconds: 0.01 },
    dnsCoverage: [{ server: '10.0.0.2:53', checked: 16, failures: [], seconds: 0.1 }],
    dataPath: {
      host: fqdn, address: '10.1.0.4', port: 1433, strict: false, ok: true, seconds: 0.05,
      tcp: { ok: true, state: 'open', host: '10.1.0.4', port: 1433, connectSeconds: 0.002 },
      prelogin: { ok: true, seconds: 0.003, version: '12.0.2000.8', encryption: 'ENCRYPT_ON', encryptionByte: 1, requested: 'ENCRYPT_ON', insideTls: false,
        options: [], anomalies: [], bytes: 49 },
      tls: { ok: true, seconds: 0.02, mode: 'tds7', protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES256-GCM-SHA384', servername: fqdn,
        chain: [cert(`CN=*.0a1b2c3d4e5f.database.windows.net`, '2030-03-01T00:00:00.000Z')], trusted: true, hostnameMatch: true,
        expired: false, notYetValid: false, expiresInSeconds: 86400 },
    },
    managementFirewall: { ok: true, applicable: true, address: '20.1.1.1', host: FIXTURE_MANAGEMENT, seconds: 1,
      ports: [9000, 9003, 1438, 1440, 1452].map((port) => ({ port, state: 'filtered' as const, code: 'TCP_TIMEOUT' as const, seconds: 5 })) },
    revocation: {
      chains: [fixtureChain('gateway', ['good', 'good', 'unchecked'])],
      endpoints: [fixtureEndpoint('http://crl.microsoft.com/pki/a.crl', true), fixtureEndpoint('http://ocsp.digicert.com/', true)],
    },
    checks: [
      fixtureLine('names', 'DNS 10.0.0.2:53 (custom)', 'pass', `${fqdn} -> trx = 10.1.0.4`),
      fixtureLine('managementName', 'Management endpoint name', 'pass', `${FIXTURE_MANAGEMENT} = 20.1.1.1`),
      fixtureLine('gateway', 'TCP 1433', 'pass', '10.1.0.4:1433 open'),
      fixtureLine('gateway', 'PRELOGIN', 'pass', 'server 12.0.2000.8, ENCRYPT_ON'),
      fixtureLine('gateway', 'TLS', 'pass', 'TLSv1.2; trusted, name matches'),
      offLine('login', 'Login', 'not asked for (--login none)'),
      ...[9000, 9003, 1438, 1440, 1452].map((port) => fixtureLine('managementPorts', `Management port ${port}`, 'pass', `${FIXTURE_MANAGEMENT} (20.1.1.1) filtered: no answer`)),
      fixtureLine('coverage', 'DNS coverage 10.0.0.2:53', 'pass', '16 required names resolve'),
      fixtureLine('revocationEndpoints', 'Revocation endpoint http://crl.microsoft.com/pki/a.crl', 'pass', 'a CRL'),
      fixtureLine('revocationEndpoints', 'Revocation endpoint http://ocsp.digicert.com/', 'pass', 'an OCSP response'),
      fixtureLine('chainRevocation', 'Revocation CN=*.0a1b2c3d4e5f.database.windows.net', 'pass', 'gateway: leaf: good'),
    ],
    findings: [],
  };
  return { ...report, ...over };
}

/** The report of a run whose instance name did not resolve: DNS-001, and every check that needs an address not reached. */
export function nameFailedReport(): DiagnosisReport {
  const because = 'the instance name did not resolve, so no CNAME target was seen';
  return fixtureReport({
    verdict: 'failing',
    dns: [{ server: '10.0.0.2:53', role: 'custom', ok: false, chain: [], addresses: [], canonicalName: FIXTURE_FQDN, transport: 'udp', seconds: 0.01,
      error: { code: 'DNS_NXDOMAIN', message: 'no such name' } }],
    managementEndpoint: { present: false, reason: because },
    dataPath: undefined, managementFirewall: undefined,
    revocation: { chains: [], endpoints: [fixtureEndpoint('http://crl.microsoft.com/pki/a.crl', true)] },
    checks: [
      fixtureLine('names', 'DNS 10.0.0.2:53 (custom)', 'fail', 'DNS_NXDOMAIN: no such name'),
      notReachedLine('managementName', 'Management endpoint name', because, 'DNS-001'),
      notReachedLine('gateway', 'Gateway (TCP, PRELOGIN, TLS)', 'the instance name did not resolve to an address', 'DNS-001'),
      notReachedLine('managementPorts', 'Management endpoint firewall', because, 'DNS-001'),
      offLine('login', 'Login', 'not asked for (--login none)'),
      fixtureLine('revocationEndpoints', 'Revocation endpoint http://crl.microsoft.com/pki/a.crl', 'pass', 'a CRL'),
      notReachedLine('chainRevocation', 'Certificate revocation', 'the instance name did not resolve to an address', 'DNS-001'),
    ],
    findings: [fixtureFinding('DNS-001', 'critical', 'names')],
  });
}
