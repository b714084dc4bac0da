// Built-in default lists, kept apart from the schema so docs and tests can cite them.

/**
 * Names a custom DNS server must resolve: the domains the original network
 * requirements named, plus the certificate-revocation hosts of Azure's CAs
 * (REFERENCES.md).
 */
export const DEFAULT_REQUIRED_DNS_NAMES: readonly string[] = [
  'microsoft.com', 'windows.net', 'windows.com', 'msocsp.com', 'digicert.com', 'live.com',
  'microsoftonline.com', 'microsoftonline-p.com',
  'crl.microsoft.com', 'mscrl.microsoft.com', 'crl3.digicert.com', 'crl4.digicert.com',
  'ocsp.digicert.com', 'oneocsp.microsoft.com', 'ocsp.msocsp.com', 'www.microsoft.com',
];

/** Azure's recursive resolver, reachable from every VNet. */
export const AZURE_RESOLVER = '168.63.129.16';

/** The legacy management endpoint's firewalled ports (seed: mandatory inbound rules). */
export const MANAGEMENT_PORTS: readonly number[] = [9000, 9003, 1438, 1440, 1452];
