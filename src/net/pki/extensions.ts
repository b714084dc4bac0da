// Where a certificate says its revocation status and issuer can be found:
// CRL distribution points and Authority Information Access.
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AuthorityInfoAccessSyntax, CRLDistributionPoints, id_ad_caIssuers, id_ad_ocsp, id_ce_cRLDistributionPoints,
  id_pe_authorityInfoAccess, type Extension, type GeneralName,
} from '@peculiar/asn1-x509';
import { CERT_PARSE_OPTIONS, certParts, ParsedCertificate, type x509 } from './crypto.js';

export interface RevocationInfo {
  readonly crlUrls: readonly string[];
  readonly ocspUrls: readonly string[];
  readonly caIssuersUrls: readonly string[];
}

/** The value of one extension decoded with `schema`, or undefined when absent or undecodable (counted as absent). */
function decode<T>(extensions: readonly Extension[], id: string, schema: new () => T): T | undefined {
  const ext = extensions.find((e) => e.extnID === id);
  if (!ext) return undefined;
  try {
    return AsnConvert.parse(ext.extnValue.buffer, schema, CERT_PARSE_OPTIONS);
  } catch {
    return undefined;
  }
}

const uri = (name: GeneralName | undefined): string[] => (name?.uniformResourceIdentifier ? [name.uniformResourceIdentifier] : []);

/**
 * CRL distribution points and Authority Information Access of a certificate. Only these two
 * extensions are decoded, from the parse certParts() keeps: @peculiar/x509's `extensions`
 * re-encodes and decodes every extension, which cost more than the rest of the chain check.
 */
export function revocationInfo(cert: x509.X509Certificate): RevocationInfo {
  let extensions: readonly Extension[];
  try {
    extensions = certParts(cert.rawData, cert instanceof ParsedCertificate ? cert : undefined).extensions;
  } catch {
    return { crlUrls: [], ocspUrls: [], caIssuersUrls: [] };
  }
  const cdp = decode(extensions, id_ce_cRLDistributionPoints, CRLDistributionPoints);
  const crlUrls = [...(cdp ?? [])].flatMap((dp) => (dp.distributionPoint?.fullName ?? []).flatMap(uri));
  const aia = [...(decode(extensions, id_pe_authorityInfoAccess, AuthorityInfoAccessSyntax) ?? [])];
  const ocspUrls = aia.filter((a) => a.accessMethod === id_ad_ocsp).flatMap((a) => uri(a.accessLocation));
  const caIssuersUrls = aia.filter((a) => a.accessMethod === id_ad_caIssuers).flatMap((a) => uri(a.accessLocation));
  return { crlUrls, ocspUrls, caIssuersUrls };
}

/** The URL scheme in lower case ('http', 'ldap', ...), or 'invalid'. */
export function schemeOf(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(url);
  return m?.[1] ? m[1].toLowerCase() : 'invalid';
}
