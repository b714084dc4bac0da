// Certificate revocation findings (REV-): the status of the certificates the
// instance presents, and whether the endpoints that publish it are served by
// the CA or by something answering in its place. References are public.
import type { FindingDefinition } from '../finding.js';

import {
  AZURE_CA as AZURE_CA_PAGE, CHECKER_CRL_STALL, MI_HIGH_LEVEL, RFC5280_AIA, RFC5280_CRL_DP, RFC5280_CRL_PROCESSING, RFC5280_CRL_TIMES,
  RFC5280_CRLS, RFC5280_VALIDATION, RFC6125_NAMES, RFC6960_AUTHORIZED, RFC6960_HTTP, RFC6960_RESPONSES, RFC6960_TIME, RFC8952_CAPTIVE,
  RFC9110_3XX, RFC9110_403, RFC9110_407,
} from '../../requirements/sources.js';

const MI_ARCH = `${MI_HIGH_LEVEL} (certificates are verified through certificate revocation lists)`;
const AZURE_CA = `${AZURE_CA_PAGE} (Azure CA revocation and CA-issuer hosts)`;
const CHECKER_122 = `${CHECKER_CRL_STALL} (a blocked CRL: 30 s TLS handshake, then a timeout)`;
const RFC5280 = `${RFC5280_CRL_DP}; ${RFC5280_CRLS}`;
const RFC6960 = `${RFC6960_RESPONSES}; ${RFC6960_HTTP}`;

/** Why an endpoint that cannot be used from here is a risk and not a break: said once, in every such fix. */
const CLIENT_RISK = 'From this host it is a risk, not a break (the connection itself does not depend on it): clients that check revocation '
  + 'can stall in the TLS handshake waiting for it (a blocked CRL made one take 30 s and time out), and if the managed instance\'s '
  + 'subnet shares this egress, the instance cannot verify certificates either. Check the instance subnet\'s own egress with '
  + '`miprobe check-network`.';
const BYPASS = 'Let HTTP (TCP 80) to the CRL and OCSP hosts (crl.microsoft.com, mscrl.microsoft.com, crl3/crl4.digicert.com, '
  + 'www.microsoft.com/pkiops, ocsp.digicert.com, oneocsp.microsoft.com, ocsp.msocsp.com) go out directly';

export const REVOCATION = {
  revoked: { id: 'REV-001', severity: 'critical', title: 'A certificate of the chain is revoked',
    fix: 'The issuing CA has revoked this certificate; clients that check revocation refuse the connection. The service must present a new certificate: open a support case with the evidence (subject, serial, reason, date).',
    ref: `${MI_ARCH}; ${RFC5280}; ${RFC6960}` },
  unreachable: { id: 'REV-002', severity: 'warning', title: 'A certificate revocation endpoint is unreachable from here',
    fix: `Allow outbound HTTP (TCP 80) from this network to the CRL and OCSP hosts (crl.microsoft.com, mscrl.microsoft.com, crl3/crl4.digicert.com, www.microsoft.com/pkiops, ocsp.digicert.com, oneocsp.microsoft.com, ocsp.msocsp.com) and make them resolvable. ${CLIENT_RISK}`,
    ref: `${AZURE_CA}; ${CHECKER_122}; ${MI_ARCH}` },
  badAnswer: { id: 'REV-003', severity: 'warning', title: 'A revocation endpoint answered with something unusable',
    fix: `The endpoint answered, but not with a usable CRL or OCSP response (an HTTP error, an oversized or endless body, bytes that are not a CRL or OCSP response, a CRL of another issuer, a replayed OCSP answer). ${BYPASS}; if the CA itself misbehaves, retry later. ${CLIENT_RISK}`,
    ref: `${RFC5280}; ${RFC6960}; ${AZURE_CA}` },
  stale: { id: 'REV-004', severity: 'warning', title: 'A CRL or OCSP answer is out of date',
    fix: 'The answer\'s nextUpdate has passed (or thisUpdate lies in the future): clients may reject it and fail verification. Check for a caching proxy serving old copies and this host\'s clock (NTP).',
    ref: `${RFC5280_CRL_TIMES}; ${RFC6960_TIME}` },
  // A warning, not a critical: an answer whose signature does not verify is discarded (RFC 6960 3.2, RFC 5280
  // 6.3.3), so the status is unknown, not revoked. What clients do then is what they do when the responder is
  // offline: most do not check revocation of a server certificate at all (.NET SslStream's
  // CertificateRevocationCheckMode defaults to NoCheck:
  // https://learn.microsoft.com/dotnet/api/system.net.security.sslclientauthenticationoptions.certificaterevocationcheckmode;
  // Node.js checks only CRLs it is given), and those that do soft-fail by default (OpenSSL-based ones) or when
  // told to (Schannel's SCH_CRED_IGNORE_NO_REVOCATION_CHECK / SCH_CRED_IGNORE_REVOCATION_OFFLINE:
  // https://learn.microsoft.com/windows/win32/api/schannel/ns-schannel-sch_credentials; MongoDB's drivers
  // document the soft-fail of OpenSSL, libtls and Secure Transport: https://jira.mongodb.org/browse/CDRIVER-3580).
  // Only a hard-failing client breaks: a risk. A certificate found revoked (REV-001) stays critical.
  badSignature: { id: 'REV-005', severity: 'warning', title: 'A CRL or OCSP answer has an invalid signature',
    fix: 'The answer is not signed by the certificate\'s issuer or an authorised OCSP responder, so clients discard it and the revocation status is unknown: clients that soft-fail (the default for most) connect, clients that hard-fail on an unknown status refuse the connection. Something between this host and the CA rewrites or replaces the answers: bypass it for the revocation hosts.',
    ref: `${RFC5280_CRL_PROCESSING}; ${RFC6960_AUTHORIZED}` },
  noInfo: { id: 'REV-006', severity: 'warning', title: 'A certificate has no revocation information',
    fix: 'The certificate names no CRL distribution point and no OCSP responder, so its revocation cannot be checked; clients with strict revocation checking reject it. Expected only for roots; otherwise check that the right certificate is presented.',
    ref: `${RFC5280_CRL_DP}; ${RFC5280_AIA}` },
  unsupportedScheme: { id: 'REV-007', severity: 'warning', title: 'A revocation URL uses an unsupported scheme',
    fix: 'Revocation URLs other than http:// (for example ldap://) are not fetched by most clients and need other ports (389). Make sure an http:// CRL or OCSP URL is available for the certificate.',
    ref: RFC5280_CRL_DP },
  missingIssuer: { id: 'REV-008', severity: 'warning', title: 'The server did not send its intermediate certificate',
    fix: 'Clients must find the issuer elsewhere: OpenSSL-based clients (Node.js/tedious, most Linux drivers) do not fetch it and fail unless it is in their store; clients that fetch it from the CA-issuers URL (cacerts.digicert.com, www.microsoft.com/pkiops) need outbound HTTP to those hosts and wait for it. Report the incomplete chain to support; meanwhile allow those hosts, or add the intermediate to the clients\' store.',
    ref: `${RFC5280_AIA}; ${AZURE_CA}` },
  slow: { id: 'REV-009', severity: 'warning', title: 'A revocation endpoint answers slowly',
    fix: 'The CRL or OCSP answer took more than a second. TLS handshakes wait for it: check the proxy or firewall path to the revocation hosts.',
    ref: `${CHECKER_122}; ${AZURE_CA}` },
  unknown: { id: 'REV-010', severity: 'warning', title: 'The OCSP responder does not know the certificate',
    fix: 'The responder answered "unknown": the certificate was not issued by the CA it serves, or the responder is out of date. Check that the certificate and its OCSP URL belong together.',
    ref: RFC6960_RESPONSES },
  httpsUnreachable: { id: 'REV-011', severity: 'warning', title: 'An HTTPS endpoint listed for certificate checks could not be reached',
    fix: 'Its certificate chain could not be read, so its revocation was not checked. Check the URL in probe.httpsUrls / --https-url, and that the host resolves and port 443 is allowed from here.',
    ref: RFC5280_VALIDATION },
  htmlPage: { id: 'REV-012', severity: 'warning', title: 'A web page answered instead of the revocation service (captive portal or block page)',
    fix: `A CA never serves CRLs or OCSP answers as HTML: the page comes from a captive portal, a web filter or a proxy's login or block page on the way out. ${BYPASS}, without a portal or filter page in between. ${CLIENT_RISK}`,
    ref: `${RFC8952_CAPTIVE}; ${RFC5280}; ${RFC6960}; ${AZURE_CA}` },
  forbidden: { id: 'REV-013', severity: 'warning', title: 'An egress filter refused the revocation request (HTTP 403)',
    fix: `The request was refused with 403 Forbidden, typically by a firewall, web filter or proxy policy (the page in the evidence usually names it). Allow the CRL and OCSP hosts in that filter's policy. ${CLIENT_RISK}`,
    ref: `${RFC9110_403}; ${AZURE_CA}` },
  proxyAuth: { id: 'REV-014', severity: 'warning', title: 'An HTTP proxy demands authentication for the revocation hosts (HTTP 407)',
    fix: `A proxy on the way out intercepted the request and asks for credentials. The managed instance platform does not use proxies, and clients' revocation fetches and miprobe go out directly without proxy credentials, so they all get this 407 instead of the CRL or OCSP answer. Exempt the CRL and OCSP hosts from proxy authentication, or ${BYPASS.charAt(0).toLowerCase()}${BYPASS.slice(1)}. ${CLIENT_RISK}`,
    ref: `${RFC9110_407}; ${MI_ARCH}; ${AZURE_CA}` },
  redirected: { id: 'REV-015', severity: 'warning', title: 'A revocation URL redirects to another host or in a loop',
    fix: `The answer was a redirect that does not lead to the CRL or OCSP answer: to another host (usually a captive portal or a filter's page) or round in a loop. The evidence lists every hop. Remove the rule that redirects the revocation hosts; ${BYPASS.charAt(0).toLowerCase()}${BYPASS.slice(1)}. ${CLIENT_RISK}`,
    ref: `${RFC9110_3XX}; ${AZURE_CA}` },
  tlsIntercepted: { id: 'REV-016', severity: 'warning', title: 'An https revocation endpoint presented an untrusted certificate (TLS interception)',
    fix: `The certificate presented does not chain to a trusted root or does not name the host: a TLS-inspecting proxy or firewall answered in the CA's place (the evidence names the certificate it presented). Exempt the revocation hosts from TLS inspection. ${CLIENT_RISK}`,
    ref: `${RFC5280_VALIDATION}; ${RFC6125_NAMES}` },
  noAnswer: { id: 'REV-017', severity: 'warning', title: 'A revocation endpoint accepted the connection but sent no HTTP answer',
    fix: `The TCP connection was accepted and the request sent, but no HTTP response headers came before the deadline: a firewall or proxy that accepts connections and then holds them, or an overloaded path. Clients wait the same way in their TLS handshakes. ${BYPASS}. ${CLIENT_RISK}`,
    ref: `${CHECKER_122}; ${AZURE_CA}` },
} as const satisfies Record<string, FindingDefinition>;
