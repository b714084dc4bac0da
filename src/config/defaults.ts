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

