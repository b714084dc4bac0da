// What the platform requires of a client's network, in one place: ports, names,
// the revocation endpoints, Azure's resolver. Probes, the simulated network and
// check-network all read these; each value names the public page it comes from
// (SOURCES, listed in docs/findings.md's neighbour docs and checked by a test).

const MI = 'https://learn.microsoft.com/azure/azure-sql/managed-instance';

/** Public pages behind the values below. */
export const SOURCES = {
  connectivity: `${MI}/connectivity-architecture-overview`,
  connectionTypes: `${MI}/connection-types-overview`,
  publicEndpoint: `${MI}/public-endpoint-overview`,
  customDns: `${MI}/custom-dns-configure`,
  managementEndpoint: `${MI}/management-endpoint-find-ip-address`,
  failoverGroups: `${MI}/failover-group-configure-sql-mi`,
  azureDns: 'https://learn.microsoft.com/azure/virtual-network/what-is-ip-address-168-63-129-16',
  azureCa: 'https://learn.microsoft.com/azure/security/fundamentals/azure-ca-details',
} as const;

/** The VNet-local endpoint's gateway (proxy and redirect alike start here). */
export const GATEWAY_PORT = 1433;
/** The public endpoint <mi>.public.<zone>.database.windows.net; always the proxy connection type. */
export const PUBLIC_ENDPOINT_PORT = 3342;
/** The redirect connection type: clients connect straight to the node, on a port of this range. */
export const REDIRECT_PORTS = { min: 11000, max: 11999 } as const;
/** Failover groups: the instances' subnets reach each other on 5022 (and the redirect range). */
export const FAILOVER_GROUP_PORT = 5022;
/** The legacy management endpoint's ports: open in the NSG, closed to everyone but Microsoft by its built-in firewall. */
export const MANAGEMENT_PORTS: readonly number[] = [9000, 9003, 1438, 1440, 1452];
/** Azure's recursive resolver: a custom DNS setup must forward to it (or list it). */
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
 * default (`--revocation-url` replaces the list). Sources:
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

/** Where each value comes from. */
export const REQUIREMENT_SOURCES: Readonly<Record<string, string>> = {
  GATEWAY_PORT: SOURCES.connectionTypes,
  PUBLIC_ENDPOINT_PORT: SOURCES.publicEndpoint,
  REDIRECT_PORTS: SOURCES.connectionTypes,
  FAILOVER_GROUP_PORT: SOURCES.failoverGroups,
  MANAGEMENT_PORTS: SOURCES.managementEndpoint,
  AZURE_DNS: SOURCES.azureDns,
  REQUIRED_DNS_NAMES: SOURCES.customDns,
  REVOCATION_ENDPOINTS: SOURCES.azureCa,
};
