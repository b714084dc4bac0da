// Where a certificate says its revocation status and issuer can be found:
// CRL distribution points and Authority Information Access.
import { x509 } from './crypto.js';

export interface RevocationInfo {
  readonly crlUrls: readonly string[];
  readonly ocspUrls: readonly string[];
  readonly caIssuersUrls: readonly string[];
}

const uri = (names: readonly x509.GeneralName[] | undefined): string[] =>
  (names ?? []).filter((n) => n.type === 'url').map((n) => n.value);

export function revocationInfo(cert: x509.X509Certificate): RevocationInfo {
  const crlUrls: string[] = [];
  try {
    const cdp = cert.getExtension(x509.CRLDistributionPointsExtension);
    for (const dp of cdp?.distributionPoints ?? []) {
      for (const name of dp.distributionPoint?.fullName ?? []) {
        if (name.uniformResourceIdentifier) crlUrls.push(name.uniformResourceIdentifier);
      }
    }
  } catch {
    // an undecodable extension counts as absent
  }
  let ocspUrls: string[] = [];
  let caIssuersUrls: string[] = [];
  try {
    const aia = cert.getExtension(x509.AuthorityInfoAccessExtension);
    ocspUrls = uri(aia?.ocsp);
    caIssuersUrls = uri(aia?.caIssuers);
  } catch {
    // as above
  }
  return { crlUrls, ocspUrls, caIssuersUrls };
}

/** The URL scheme in lower case ('http', 'ldap', ...), or 'invalid'. */
export function schemeOf(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(url);
  return m?.[1] ? m[1].toLowerCase() : 'invalid';
}
