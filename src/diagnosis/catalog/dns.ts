// Name resolution and host-name findings (DNS-, NAME-). References are public.
import type { FindingDefinition } from '../finding.js';
import {
  AZURE_DNS_IP, DOC_DIAGNOSE_OPTIONS, MI_CUSTOM_DNS, MI_FEATURE_WAVE, MI_LEGACY_MANAGEMENT_ENDPOINT, MI_MANAGEMENT_ENDPOINT_IP,
  MI_NETWORKING_CONSTRAINTS, MI_NETWORK_REQUIREMENTS, MI_ORIGINAL_VNET_REQUIREMENTS, MI_PRIVATE_ENDPOINTS, MI_PUBLIC_ENDPOINT, MI_PUBLIC_ENDPOINT_OVERVIEW,
  MI_VIRTUAL_CLUSTER, MI_VNET_LOCAL_ENDPOINT, RFC1035_RCODE, RFC1035_TRANSPORT, RFC1918, RFC2181_CNAME,
} from '../../requirements/sources.js';

/** Custom DNS must resolve public names, and must not override database.windows.net. */
const CUSTOM_DNS = `${MI_NETWORK_REQUIREMENTS} (custom DNS server); ${MI_CUSTOM_DNS}`;
const MGMT_NAME = `${MI_MANAGEMENT_ENDPOINT_IP}; ${MI_LEGACY_MANAGEMENT_ENDPOINT}`;

export const DNS = {
  nxdomain: { id: 'DNS-001', severity: 'critical', title: 'The instance name does not exist in DNS',
    fix: 'Check the spelling of the host name (<mi>.<zone>.database.windows.net, as shown on the instance\'s Overview page in the portal). With custom DNS, make the server forward database.windows.net to Azure\'s resolver 168.63.129.16 (or another resolver that reaches public DNS) instead of answering from a zone of its own.',
    ref: `${MI_VNET_LOCAL_ENDPOINT}; ${RFC1035_RCODE}; ${CUSTOM_DNS}` },
  // Critical when no system or custom resolver answered; a warning (clients fail over, slowly) when another did.
  unreachable: { id: 'DNS-002', severity: 'critical', title: 'A DNS resolver did not answer',
    fix: 'Check that the resolver address is right and that UDP and TCP 53 to it are allowed from this host (NSGs, firewalls, appliances on the way); in Azure the VNet resolver is 168.63.129.16. Nothing else could be checked through this resolver. Critical when no other resolver of this host (system or custom) answered; a warning when one did (clients fail over to it after a timeout: slow connects).',
    ref: `${AZURE_DNS_IP}; ${RFC1035_TRANSPORT}` },
  notPrivate: { id: 'DNS-003', severity: 'critical', title: 'The instance name resolves to a non-private address',
    fix: 'A VNet-local endpoint must resolve to the private address of the instance\'s internal load balancer. A public address usually means a DNS override, a stale record, or the public endpoint name (which uses port 3342). Fix the DNS record or the name the application uses.',
    ref: `${MI_VIRTUAL_CLUSTER}; ${RFC1918}` },
  outsideSubnet: { id: 'DNS-004', severity: 'warning', title: 'The instance name resolves outside the expected subnet',
    fix: 'The address is private but not in the managed instance subnet given with --subnet. Check for a stale or overriding record (hosts file, custom zone) or correct --subnet.',
    ref: MI_VNET_LOCAL_ENDPOINT },
  disagree: { id: 'DNS-005', severity: 'warning', title: 'Resolvers give different answers for the instance name',
    fix: 'Clients using different resolvers reach different addresses. Make custom DNS forward database.windows.net to Azure DNS (168.63.129.16) instead of holding its own copy (overriding it is not supported), then flush client caches.',
    ref: `${MI_NETWORKING_CONSTRAINTS} (DNS records for reserved Microsoft services); ${CUSTOM_DNS}` },
  noVnetLabel: { id: 'DNS-006', severity: 'info', title: 'No management endpoint: the CNAME chain has no ".vnet" label',
    fix: 'Nothing to do. Instances in the November 2022 feature wave (current architecture) have no management endpoint; otherwise the name is not a VNet-local managed instance name.',
    ref: `${MI_FEATURE_WAVE}; ${MI_LEGACY_MANAGEMENT_ENDPOINT}` },
  managementUnresolved: { id: 'DNS-007', severity: 'warning', title: 'The management endpoint name does not resolve',
    fix: 'The name derived by removing ".vnet" from the CNAME target should resolve to a public address. Check that custom DNS resolves database.windows.net names through public DNS.',
    ref: MGMT_NAME },
  managementPrivate: { id: 'DNS-008', severity: 'warning', title: 'The management endpoint resolves to a private address',
    fix: 'The management endpoint maps to a public external load balancer address. A private answer points at a DNS override for worker.database.windows.net names; remove it.',
    ref: MGMT_NAME },
  customDnsCoverage: { id: 'DNS-009', severity: 'critical', title: 'A custom DNS server cannot resolve names the instance depends on',
    fix: 'The custom DNS server must resolve public names, these domains and their subdomains among them: give it a forwarder to Azure\'s recursive resolver 168.63.129.16 (or another resolver that reaches public DNS) for the zones it does not host itself.',
    ref: `${CUSTOM_DNS}; ${MI_ORIGINAL_VNET_REQUIREMENTS} (the domains: microsoft.com, windows.net, windows.com, msocsp.com, digicert.com, live.com, microsoftonline.com, microsoftonline-p.com); ${AZURE_DNS_IP}` },
  chainBroken: { id: 'DNS-010', severity: 'critical', title: 'The CNAME chain is broken (loop or too long)',
    fix: 'A record in the chain points back at an earlier name, or the chain is longer than any real one. Fix the custom zone or conditional forwarder that serves these names.',
    ref: `${RFC2181_CNAME}; ${MI_VIRTUAL_CLUSTER}` },
  resolverError: { id: 'DNS-011', severity: 'critical', title: 'A DNS resolver answered with an error',
    fix: 'SERVFAIL or REFUSED means the resolver cannot or will not recurse for this name (check its forwarders and access lists); a malformed answer means something between here and the resolver mangles DNS.',
    ref: `${RFC1035_RCODE}; ${CUSTOM_DNS}` },
  noAddress: { id: 'DNS-012', severity: 'critical', title: 'The instance name has no address record',
    fix: 'The name exists but the chain ends without an A or AAAA record. Check the custom zone or conditional forwarder for this name.',
    ref: `${MI_VIRTUAL_CLUSTER}; ${RFC2181_CNAME}` },
  tcpFallback: { id: 'DNS-013', severity: 'info', title: 'A resolver truncated its UDP answer; TCP was needed',
    fix: 'Nothing to do unless clients fail: then allow TCP 53 to the resolver, since some answers need it.',
    ref: RFC1035_TRANSPORT },
  guardDenied: { id: 'DNS-014', severity: 'warning', title: 'A resolver was not queried: its address is outside the allowed ranges',
    fix: 'Add the resolver\'s range to --allow-cidr / MIPROBE_ALLOW_CIDRS if it should be used, or remove it from the resolver list.',
    ref: `${DOC_DIAGNOSE_OPTIONS} (--allow-cidr: the address guard)` },
  azureDisagrees: { id: 'DNS-015', severity: 'warning', title: 'Custom DNS and Azure DNS disagree on the instance address',
    fix: 'The custom resolver answers differently from Azure\'s resolver (168.63.129.16). Forward database.windows.net to Azure DNS instead of holding a static copy; overriding it is not supported.',
    ref: `${MI_NETWORKING_CONSTRAINTS} (DNS records for reserved Microsoft services); ${AZURE_DNS_IP}` },
} as const satisfies Record<string, FindingDefinition>;

export const NAME = {
  customDomain: { id: 'NAME-001', severity: 'warning', title: 'The host name is not a managed instance name',
    fix: 'Custom domain names (CNAMEs to the instance) work for the TDS connection only if the certificate and the gateway accept them; the gateway routes by the instance name. Diagnose the <mi>.<zone>.database.windows.net name as well.',
    ref: MI_VIRTUAL_CLUSTER },
  publicEndpoint: { id: 'NAME-002', severity: 'info', title: 'This is the public endpoint name (port 3342)',
    fix: 'The public endpoint is reached on port 3342 and always uses the proxy connection type; it must be enabled on the instance and allowed by the NSG.',
    ref: `${MI_PUBLIC_ENDPOINT_OVERVIEW}; ${MI_PUBLIC_ENDPOINT}` },
  privateLink: { id: 'NAME-003', severity: 'info', title: 'This is a private endpoint (privatelink) name',
    fix: 'Private endpoints use port 1433 and the proxy connection type; the name must resolve to the private endpoint\'s address through the privatelink zone.',
    ref: MI_PRIVATE_ENDPOINTS },
} as const satisfies Record<string, FindingDefinition>;
