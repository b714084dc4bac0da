// What the platform requires of a client's network, in one place: ports, names,
// the revocation endpoints, Azure's resolver. Probes, the simulated network and
// check-network all read these. Each value names the public page it comes from
// in REQUIREMENT_SOURCES, which cites the constants of
// src/requirements/sources.ts (one list of citations for findings and
// requirements); test/unit/platform-sources.test.ts checks that every value
// has a source and every source is an https URL.
import {
  AZURE_CA, AZURE_DNS_IP, AZURE_TLS_CHANGES, CHECKER_CRL_STALL, MI_CONNECTION_TYPES, MI_CUSTOM_DNS, MI_FAILOVER_GROUPS, MI_LEGACY_INBOUND,
  MI_ORIGINAL_VNET_REQUIREMENTS, MI_PUBLIC_ENDPOINT, MI_REDIRECT,
} from './sources.js';

/** The VNet-local endpoint's gateway (proxy and redirect alike start here). */
export const GATEWAY_PORT = 1433;
/** The public endpoint <mi>.public.<zone>.database.windows.net; always the proxy connection type. */
export const PUBLIC_ENDPOINT_PORT = 3342;
/** The redirect connection type: clients connect straight to the node, on a port of this range. */
export const REDIRECT_PORTS = { min: 11000, max: 11999 } as const;
/** Failover groups: the instances' subnets reach each other on 5022 (and the redirect range); check-network --failover-partner checks it. */
export const FAILOVER_GROUP_PORT = 5022;
/** The legacy management endpoint's ports: open in the NSG, closed to everyone but Microsoft by its built-in firewall. */
export const MANAGEMENT_PORTS: readonly number[] = [9000, 9003, 1438, 1440, 1452];
/** The management ports the legacy CorpNetSaw and CorpNetPublic rules admit; a rule for them marks the legacy configuration. */
export const MANAGEMENT_CORPNET_PORTS: readonly number[] = [9000, 9003];
/** Azure's virtual public IP: its recursive resolver (a custom DNS setup must forward to it, or list it) and the source of the load balancer's health probes. */
export const AZURE_DNS = '168.63.129.16';

/**
 * Names a custom DNS server must resolve: the domains the original network requirements named, plus the
 * certificate-revocation hosts of Azure's CAs.
 */
export const REQUIRED_DNS_NAMES: readonly string[] = [
  'microsoft.com', 'windows.net', 'windows.com', 'msocsp.com', 'digicert.com', 'live.com',
  'microsoftonline.com', 'microsoftonline-p.com',
  'crl.microsoft.com', 'mscrl.microsoft.com', 'crl3.digicert.com', 'crl4.digicert.com',
  'ocsp.digicert.com', 'oneocsp.microsoft.com', 'ocsp.msocsp.com', 'www.microsoft.com',
];

/**
 * The revocation endpoints Azure's certificate authorities publish, one real resource on each host, checked by
 * default (`--revocation-url` replaces the list; docs/revocation.md lists them for users, and a test keeps it in step). Sources:
 * - crl.microsoft.com, mscrl.microsoft.com: CRL distribution points of "Microsoft Internal Corporate Root"
 *   (valid to 2037) as the Azure CA details page lists them.
 * - crl3/crl4.digicert.com: CRL distribution points of "DigiCert Global Root G2" (valid to 2038), which issued the
 *   Microsoft Azure TLS Issuing CAs; ocsp.digicert.com: their OCSP responder (same page).
 * - www.microsoft.com/pkiops: the CRL of "Microsoft Azure RSA TLS Issuing CA 07", the CRL distribution point of an
 *   Azure SQL server certificate (github.com/Azure/SQL-Connectivity-Checker issue 122).
 * - oneocsp.microsoft.com/ocsp: OCSP responder of "Microsoft RSA Root Certificate Authority 2017" and the Azure RSA
 *   TLS Issuing CAs (Azure CA details page).
 * - ocsp.msocsp.com: OCSP responder of the Microsoft RSA TLS CAs (Azure TLS certificate changes page).
 */
export const REVOCATION_ENDPOINTS: readonly string[] = [
  'http://crl.microsoft.com/pki/mscorp/crl/msintcrca.crl',
  'http://mscrl.microsoft.com/pki/mscorp/crl/msintcrca.crl',
  'http://crl3.digicert.com/DigiCertGlobalRootG2.crl',
  'http://crl4.digicert.com/DigiCertGlobalRootG2.crl',
  'http://www.microsoft.com/pkiops/crl/Microsoft%20Azure%20RSA%20TLS%20Issuing%20CA%2007.crl',
  'http://ocsp.digicert.com/',
  'http://oneocsp.microsoft.com/ocsp',
  'http://ocsp.msocsp.com/',
];

/** Where each value comes from: the public page behind it (src/requirements/sources.ts). */
export const REQUIREMENT_SOURCES = {
  GATEWAY_PORT: MI_CONNECTION_TYPES,
  PUBLIC_ENDPOINT_PORT: MI_PUBLIC_ENDPOINT,
  REDIRECT_PORTS: MI_REDIRECT,
  FAILOVER_GROUP_PORT: MI_FAILOVER_GROUPS,
  MANAGEMENT_PORTS: MI_LEGACY_INBOUND,
  MANAGEMENT_CORPNET_PORTS: MI_LEGACY_INBOUND,
  AZURE_DNS: AZURE_DNS_IP,
  REQUIRED_DNS_NAMES: `${MI_CUSTOM_DNS}; ${MI_ORIGINAL_VNET_REQUIREMENTS}; ${AZURE_CA}`,
  REVOCATION_ENDPOINTS: `${AZURE_CA}; ${AZURE_TLS_CHANGES}; ${CHECKER_CRL_STALL}`,
} as const;
