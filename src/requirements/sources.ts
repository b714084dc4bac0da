// The public documents findings and requirements cite, one constant each, so
// a page that moves is corrected in one place. Every address was checked
// against the published text (or, for retired Microsoft pages, the page's
// source in Microsoft's public docs repositories, pinned to a commit).

const MI = 'https://learn.microsoft.com/azure/azure-sql/managed-instance';
const SQLDB = 'https://learn.microsoft.com/azure/azure-sql/database';
const TDS_SPEC = 'https://learn.microsoft.com/openspecs/windows_protocols/ms-tds';

// Azure SQL Managed Instance: the current architecture.
const MI_ARCHITECTURE = `${MI}/connectivity-architecture-overview`;
/** "certificates are verified by using certificate revocation lists". */
export const MI_HIGH_LEVEL = `${MI_ARCHITECTURE}#high-level-connectivity-architecture`;
export const MI_VNET_LOCAL_ENDPOINT = `${MI_ARCHITECTURE}#vnet-local-endpoint`;
export const MI_PUBLIC_ENDPOINT_OVERVIEW = `${MI_ARCHITECTURE}#public-endpoint`;
export const MI_PRIVATE_ENDPOINTS = `${MI_ARCHITECTURE}#private-endpoints`;
/** The VNet-local name resolves to the private address of an internal load balancer; the gateway routes by host name. */
export const MI_VIRTUAL_CLUSTER = `${MI_ARCHITECTURE}#virtual-cluster-connectivity-architecture`;
/** Dedicated, delegated subnet; NSG and route table attached; at least 32 addresses; custom DNS resolves public records. */
export const MI_NETWORK_REQUIREMENTS = `${MI_ARCHITECTURE}#network-requirements`;
/** Not supported: NAT gateway, IPv6, overriding database.windows.net and other reserved names. */
export const MI_NETWORKING_CONSTRAINTS = `${MI_ARCHITECTURE}#networking-constraints`;
/** The platform's mandatory rules and route (Microsoft.Sql-managedInstances_UseOnly_mi-*). */
export const MI_MANDATORY_RULES = `${MI}/subnet-service-aided-configuration-enable#mandatory-security-rules-and-routes`;
export const MI_OPTIONAL_RULES = `${MI}/subnet-service-aided-configuration-enable#optional-security-rules-and-routes`;
/** New instances in eligible subnets are enrolled in the November 2022 feature wave. */
export const MI_FEATURE_WAVE = `${MI}/doc-changes-updates-release-notes-whats-new#november-2022-feature-wave`;
/** Connection types: clients reach the gateway on 1433 (proxy and redirect alike). */
export const MI_CONNECTION_TYPES = `${MI}/connection-types-overview`;
/** Redirect: 1433 and 11000-11999 inbound, TDS 7.4+; public and private endpoints always proxy; how to switch. */
export const MI_REDIRECT = `${MI_CONNECTION_TYPES}#redirect-connection-type`;
/** Enabling the public endpoint (port 3342) and its NSG rule. */
export const MI_PUBLIC_ENDPOINT = `${MI}/public-endpoint-configure`;
export const MI_PUBLIC_ENDPOINT_NSG = `${MI_PUBLIC_ENDPOINT}#allow-public-endpoint-traffic-on-the-network-security-group`;
/** Failover groups: the instances' subnets reach each other on 5022 and 11000-11999 (replication traffic). */
export const MI_FAILOVER_GROUPS = `${MI}/failover-group-configure-sql-mi#configuration-requirements`;
/** A custom DNS server must resolve public domain names. */
export const MI_CUSTOM_DNS = `${MI}/custom-dns-configure`;
/** Changed VNet DNS servers reach the instance only after this synchronisation. */
export const MI_DNS_SYNC = `${MI}/synchronize-vnet-dns-servers-setting-on-virtual-cluster`;

// Managed instances not enrolled in the November 2022 feature wave, and the
// original requirements. These pages are no longer published as they were (the
// management-endpoint pages now lead to the current architecture article);
// Microsoft's sources of them stay readable at these commits.
const MI_LEGACY_PAGE = 'https://github.com/MicrosoftDocs/sql-docs/blob/fb40f54581efa5793a5939adb1e16c908a7972eb/azure-sql/managed-instance/connectivity-architecture-prior-november-2022-feature-wave.md';
/** "Connectivity architecture for Azure SQL Managed Instance prior to November 2022": management endpoint. */
export const MI_LEGACY_MANAGEMENT_ENDPOINT = `${MI_LEGACY_PAGE}#management-endpoint`;
export const MI_LEGACY_INBOUND = `${MI_LEGACY_PAGE}#mandatory-inbound-security-rules-with-service-aided-subnet-configuration`;
export const MI_LEGACY_OUTBOUND = `${MI_LEGACY_PAGE}#mandatory-outbound-security-rules-with-service-aided-subnet-configuration`;
export const MI_LEGACY_ROUTES = `${MI_LEGACY_PAGE}#mandatory-user-defined-routes-with-service-aided-subnet-configuration`;
/** "Determine the management endpoint IP address": remove ".vnet" from the CNAME target. */
export const MI_MANAGEMENT_ENDPOINT_IP = 'https://github.com/MicrosoftDocs/sql-docs/blob/eaf3e784686b360cc6cf67e249575e8aef013189/azure-sql/managed-instance/management-endpoint-find-ip-address.md';
/** "Verify the Azure SQL Managed Instance built-in firewall": scan the management ports. */
export const MI_MANAGEMENT_FIREWALL = 'https://github.com/MicrosoftDocs/sql-docs/blob/4fe5aa331b5e2eeef5b88cec1ebf9b683582125e/azure-sql/managed-instance/management-endpoint-verify-built-in-firewall.md';
/** The 2019 article: 80/443/12000 outbound, one rule for the management ports, port 445 for replication. */
const MI_ORIGINAL_PAGE = 'https://github.com/MicrosoftDocs/azure-docs/blob/f1048175bd5ffb6591cab50f8ec6bc448431c0e3/articles/sql-database/sql-database-managed-instance-connectivity-architecture.md';
export const MI_ORIGINAL_OUTBOUND = `${MI_ORIGINAL_PAGE}#mandatory-outbound-security-rules`;
/**
 * "Configure a VNet for Azure SQL Database Managed Instance" (2018): mandatory rules in front of any other rules,
 * 0.0.0.0/0 next hop Internet, custom DNS with 168.63.129.16 resolving microsoft.com, windows.net ..., no service
 * endpoints, 16 addresses at least and 32 recommended.
 */
export const MI_ORIGINAL_VNET_REQUIREMENTS = 'https://github.com/MicrosoftDocs/azure-docs/blob/b2a6e1e7966bddf854aa5f8bcd4d879918ab1646/articles/sql-database/sql-database-managed-instance-vnet-configuration.md#requirements';

// Azure networking, certificates and SQL errors.
/** 168.63.129.16: Azure's recursive resolver (and the load balancer's probes). */
export const AZURE_DNS_IP = 'https://learn.microsoft.com/azure/virtual-network/what-is-ip-address-168-63-129-16';
/** Azure picks a route by longest prefix match; for equal prefixes, user routes before BGP before system routes. */
export const AZURE_ROUTE_SELECTION = 'https://learn.microsoft.com/azure/virtual-network/virtual-networks-udr-overview#how-azure-selects-a-route';
/** Azure's certificate authorities, their CRL, OCSP and CA-issuer hosts. */
export const AZURE_CA = 'https://learn.microsoft.com/azure/security/fundamentals/azure-ca-details';
/** Azure TLS certificate changes: the Microsoft RSA TLS CAs and their OCSP responder ocsp.msocsp.com. */
export const AZURE_TLS_CHANGES = 'https://learn.microsoft.com/azure/security/fundamentals/tls-certificate-changes';
export const SQL_18456 = 'https://learn.microsoft.com/sql/relational-databases/errors-events/mssqlserver-18456-database-engine-error';
export const SQL_TROUBLESHOOT = `${SQLDB}/troubleshoot-common-errors-issues`;
export const SQL_40914_40615 = `${SQLDB}/vnet-service-endpoint-rule-overview#errors-40914-and-40615`;
export const SQL_DENY_PUBLIC = `${SQLDB}/connectivity-settings#deny-public-network-access`;
/** Microsoft's connectivity checker: a dummy login's 18456 means the path works; 40532 on 3342: public endpoint disabled. */
export const SQL_CONNECTIVITY_CHECKER = 'https://github.com/Azure/SQL-Connectivity-Checker';
/** A blocked CRL made the TLS handshake take 30 s and time out. */
export const CHECKER_CRL_STALL = 'https://github.com/Azure/SQL-Connectivity-Checker/issues/122';
/** Why "user@server" login names change where the gateway routes (error 40532). */
export const GATEWAY_AT_SERVER = 'https://techcommunity.microsoft.com/t5/azure-database-support-blog/providing-the-server-name-explicitly-in-user-names-for-azure-sql/ba-p/368942';

// TDS.
export const TDS_PRELOGIN = `${TDS_SPEC}/60f56408-0188-4cd5-8b90-25c6f2423868 (MS-TDS 2.2.6.5 PRELOGIN)`;
export const TDS_LOGIN7 = `${TDS_SPEC}/773a62b6-ee89-4c02-9e5e-344882630aac (MS-TDS 2.2.6.4 LOGIN7)`;
export const TDS_ENVCHANGE = `${TDS_SPEC}/2b3eb7e5-d43d-4d1b-bf4d-76b9e3afc791 (MS-TDS 2.2.7.9 ENVCHANGE, type 20 Routing)`;
export const TDS_8 = 'https://learn.microsoft.com/sql/relational-databases/security/networking/tds-8';

// RFCs.
const RFC = (n: number, section?: string): string =>
  `https://www.rfc-editor.org/rfc/rfc${n}${section ? `#section-${section}` : ''}`;
export const RFC1035_RCODE = `${RFC(1035, '4.1.1')} (RFC 1035 4.1.1: RCODE, NXDOMAIN, SERVFAIL, REFUSED)`;
export const RFC1035_TRANSPORT = `${RFC(1035, '4.2')} (RFC 1035 4.2: UDP, and TCP when truncated); ${RFC(7766)} (RFC 7766: DNS over TCP)`;
export const RFC2181_CNAME = `${RFC(2181, '10.1')} (RFC 2181 10.1: CNAME chains)`;
export const RFC1918 = `${RFC(1918)} (RFC 1918 private addresses)`;
export const RFC5280_VALIDATION = `${RFC(5280, '6')} (RFC 5280 6: certification path validation)`;
export const RFC6125_NAMES = `${RFC(6125, '6')} (RFC 6125 6: host name verification)`;
export const RFC5280_CRL_DP = `${RFC(5280, '4.2.1.13')} (RFC 5280 4.2.1.13: CRL distribution points, http and ldap URIs)`;
export const RFC5280_CRLS = `${RFC(5280, '5')} (RFC 5280 5: CRLs)`;
export const RFC5280_AIA = `${RFC(5280, '4.2.2.1')} (RFC 5280 4.2.2.1: authority information access, caIssuers and OCSP)`;
export const RFC5280_CRL_TIMES = `${RFC(5280, '5.1.2.4')} (RFC 5280 5.1.2.4 and 5.1.2.5: thisUpdate, nextUpdate)`;
export const RFC5280_CRL_PROCESSING = `${RFC(5280, '6.3.3')} (RFC 5280 6.3.3: CRL processing)`;
export const RFC6960_RESPONSES = `${RFC(6960, '2.2')} (RFC 6960 2.2, 2.3 and 4.2.1: OCSP responses)`;
export const RFC6960_HTTP = `${RFC(6960)}#appendix-A (RFC 6960 appendix A: OCSP over HTTP)`;
export const RFC6960_TIME = `${RFC(6960, '4.2.2.1')} (RFC 6960 4.2.2.1: time)`;
export const RFC6960_AUTHORIZED = `${RFC(6960, '4.2.2.2')} (RFC 6960 4.2.2.2: authorized responders)`;
export const RFC8952_CAPTIVE = `${RFC(8952)} (RFC 8952: captive portals)`;
export const RFC9110_403 = `${RFC(9110, '15.5.4')} (RFC 9110 15.5.4: 403 Forbidden)`;
export const RFC9110_407 = `${RFC(9110, '15.5.8')} (RFC 9110 15.5.8: 407 Proxy Authentication Required)`;
export const RFC9110_3XX = `${RFC(9110, '15.4')} (RFC 9110 15.4: redirection 3xx)`;

// This project's own documents.
export const DOC_CHECK_NETWORK = 'docs/check-network.md';
export const DOC_DIAGNOSE_OPTIONS = 'README.md#miprobe-diagnose-fqdn';
