// Certificate revocation findings (REV-): the status of the certificates the
// instance presents and the reachability of the endpoints that publish it.
import type { FindingDefinition } from '../finding.js';

const SEED = 'seed: Connectivity architecture (Managed Instance) / Communication overview: certificates verified through certificate revocation lists';
const REFS = 'REFERENCES.md: Azure CA revocation hosts; RFC 5280 (CRL), RFC 6960 (OCSP)';

export const REVOCATION = {
  revoked: { id: 'REV-001', severity: 'critical', title: 'A certificate of the chain is revoked',
    fix: 'The issuing CA has revoked this certificate; clients that check revocation refuse the connection. The service must present a new certificate: open a support case with the evidence (subject, serial, reason, date).',
    ref: SEED },
  unreachable: { id: 'REV-002', severity: 'critical', title: 'A certificate revocation endpoint is unreachable',
    fix: 'Allow outbound HTTP (TCP 80) from this network to the CRL and OCSP hosts (crl.microsoft.com, mscrl.microsoft.com, crl3/crl4.digicert.com, www.microsoft.com/pkiops, ocsp.digicert.com, oneocsp.microsoft.com, ocsp.msocsp.com) and make them resolvable. Why it matters: a client that cannot reach the CRL can stall 30 s or more in the TLS handshake and then time out, and the instance closes connections whose certificates it cannot verify.',
    ref: `${SEED}; ${REFS}` },
  badAnswer: { id: 'REV-003', severity: 'critical', title: 'A revocation endpoint answered with something unusable',
    fix: 'The endpoint answered, but not with a usable CRL or OCSP response (HTTP error, oversized or endless body, HTML from a proxy or captive portal, redirect to another host, wrong issuer, nonce mismatch). Let CRL/OCSP traffic reach the CA directly (bypass TLS-inspecting or authenticating proxies for these hosts); if the CA itself misbehaves, retry later.',
    ref: `${SEED}; ${REFS}` },
  stale: { id: 'REV-004', severity: 'warning', title: 'A CRL or OCSP answer is out of date',
    fix: 'The answer\'s nextUpdate has passed (or thisUpdate lies in the future): clients may reject it and fail verification. Check for a caching proxy serving old copies and this host\'s clock (NTP).',
    ref: `${SEED}; RFC 5280 5.1.2.5, RFC 6960 4.2.2.1` },
  badSignature: { id: 'REV-005', severity: 'critical', title: 'A CRL or OCSP answer has an invalid signature',
    fix: 'The answer is not signed by the certificate\'s issuer or an authorised OCSP responder; clients discard it and cannot verify the certificate. Something between this host and the CA rewrites the answers: bypass that proxy for the revocation hosts.',
    ref: `${SEED}; RFC 6960 4.2.2.2` },
  noInfo: { id: 'REV-006', severity: 'warning', title: 'A certificate has no revocation information',
    fix: 'The certificate names no CRL distribution point and no OCSP responder, so its revocation cannot be checked; clients with strict revocation checking reject it. Expected only for roots; otherwise check that the right certificate is presented.',
    ref: REFS },
  unsupportedScheme: { id: 'REV-007', severity: 'warning', title: 'A revocation URL uses an unsupported scheme',
    fix: 'Revocation URLs other than http:// (for example ldap://) are not fetched by most clients and need other ports (389). Make sure an http:// CRL or OCSP URL is available for the certificate.',
    ref: REFS },
  missingIssuer: { id: 'REV-008', severity: 'warning', title: 'The server did not send its intermediate certificate',
    fix: 'Clients must fetch the issuer from the CA-issuers URL (cacerts.digicert.com, www.microsoft.com/pkiops) before verifying, which needs outbound HTTP and adds delay; without it they fail. Allow those hosts; report the incomplete chain to support.',
    ref: REFS },
  slow: { id: 'REV-009', severity: 'warning', title: 'A revocation endpoint answers slowly',
    fix: 'The CRL or OCSP answer took more than a second. TLS handshakes wait for it: check the proxy or firewall path to the revocation hosts.',
    ref: `${SEED}; ${REFS}` },
  unknown: { id: 'REV-010', severity: 'warning', title: 'The OCSP responder does not know the certificate',
    fix: 'The responder answered "unknown": the certificate was not issued by the CA it serves, or the responder is out of date. Check that the certificate and its OCSP URL belong together.',
    ref: 'RFC 6960 2.2' },
  httpsUnreachable: { id: 'REV-011', severity: 'warning', title: 'An HTTPS endpoint listed for certificate checks could not be reached',
    fix: 'Its certificate chain could not be read, so its revocation was not checked. Check the URL in probe.httpsUrls / --https-url, and that the host resolves and port 443 is allowed from here.',
    ref: REFS },
} as const satisfies Record<string, FindingDefinition>;
