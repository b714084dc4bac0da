// Fuzz targets for what a CA, a CRL distribution point or an OCSP responder
// sends: certificates (DER, PEM, PKCS#7 bundles), CRLs and OCSP answers. Seeds
// come from the simulated PKI (src/sim/pki.ts): real structures, signed.
import fc from 'fast-check';
import { createSimPki, type SimPki } from '../../../src/sim/pki.js';
import { certParts, CertificateParseError, keyHash, ParsedCertificate, x509 } from '../../../src/net/pki/crypto.js';
import { revocationInfo } from '../../../src/net/pki/extensions.js';
import { parseCertificates, DEFAULT_MAX_CERT_BYTES } from '../../../src/net/pki/issuers.js';
import { DEFAULT_MAX_CRL_BYTES, evaluateCrl, parseCrl } from '../../../src/net/pki/crl.js';
import { buildOcspRequest, DEFAULT_MAX_OCSP_BYTES, evaluateOcspResponse } from '../../../src/net/pki/ocsp.js';
import type { FuzzTarget, Verdict } from '../harness.js';
import { derFrom } from '../mutate.js';

interface PkiSeeds {
  readonly pki: SimPki;
  readonly rsa: SimPki;
  readonly leaf: x509.X509Certificate;
  readonly revokedLeaf: x509.X509Certificate;
  readonly certs: Buffer[];
  readonly crls: Buffer[];
}

let seeds: Promise<PkiSeeds> | undefined;

/** One simulated PKI of each key type, a good and a revoked leaf, their CRLs (made once per process). */
export function pkiSeeds(): Promise<PkiSeeds> {
  seeds ??= (async () => {
    const urls = { crlUrl: 'http://127.0.0.1:1/int.crl', rootCrlUrl: 'http://127.0.0.1:1/root.crl', ocspUrl: 'http://127.0.0.1:1/ocsp',
      caIssuersUrl: 'http://127.0.0.1:1/int.cer', rootCaIssuersUrl: 'http://127.0.0.1:1/root.cer' };
    const pki = await createSimPki({ ...urls, name: 'fuzz' });
    const rsa = await createSimPki({ ...urls, name: 'fuzz rsa', algorithm: 'rsa', ocspSigner: 'issuer' });
    const good = await pki.issueLeaf({ hostnames: ['mi1.0a1b2c3d4e5f.database.windows.net', '10.0.0.4'] });
    const bad = await pki.issueLeaf({ hostnames: ['revoked.example'] });
    const others = await Promise.all(['keyCompromise', 'superseded', 'certificateHold'].map(() => pki.issueLeaf({ hostnames: ['x.example'] })));
    pki.revoke(bad.serialHex, 'keyCompromise');
    others.forEach((o, i) => pki.revoke(o.serialHex, (['superseded', 'certificateHold', 'cessationOfOperation'] as const)[i]));
    const rsaLeaf = await rsa.issueLeaf({ hostnames: ['rsa.example'] });
    rsa.revoke(rsaLeaf.serialHex, 'affiliationChanged');
    const der = (pem: string): Buffer => Buffer.from(new x509.X509Certificate(pem).rawData);
    return {
      pki, rsa, leaf: new x509.X509Certificate(good.certPem), revokedLeaf: new x509.X509Certificate(bad.certPem),
      certs: [der(good.certPem), der(bad.certPem), pki.intermediate.der, pki.root.der, Buffer.from(pki.intermediate.ocspSigner.cert.rawData),
        der(rsaLeaf.certPem), rsa.intermediate.der],
      crls: [await pki.crl('intermediate'), await pki.crl('root'), await rsa.crl('intermediate')],
    };
  })();
  return seeds;
}

/** A PKCS#7 certs-only bundle (.p7c, what AIA caIssuers URLs often serve). */
function p7c(certs: readonly Buffer[]): Buffer {
  return Buffer.from(new x509.X509Certificates(certs.map((c) => new x509.X509Certificate(c))).export('raw'));
}

const size = (b: Buffer): number => b.length;

/** What the revocation check reads from each certificate it is given (src/probes/revocation.ts known()). */
function readAll(cert: x509.X509Certificate): void {
  void cert.subject;
  void cert.issuer;
  void cert.serialNumber;
  void cert.notBefore.toISOString();
  void cert.notAfter.toISOString();
  revocationInfo(cert);
  keyHash(cert.publicKey.rawData);
  certParts(cert.rawData, cert instanceof ParsedCertificate ? cert : undefined);
}

export const certificateBundle: FuzzTarget<Buffer> = {
  name: 'pki: CA-issuer certificates',
  contract: 'parseCertificates(body) returns certificates whose fields all read, or a message (string)',
  sizeCap: DEFAULT_MAX_CERT_BYTES,
  async prepare() {
    const s = await pkiSeeds();
    const pem = Buffer.from(s.certs.slice(0, 3).map((c) => new x509.X509Certificate(c).toString('pem')).join('\n'));
    const input = fc.oneof(
      { weight: 5, arbitrary: derFrom([...s.certs, p7c(s.certs.slice(1, 4))]) },
      { weight: 1, arbitrary: fc.constant(pem) },
    );
    return {
      input, size,
      run(body): Verdict {
        const certs = parseCertificates(body);
        if (typeof certs === 'string') return 'typed';
        for (const c of certs) readAll(c);
        return 'ok';
      },
    };
  },
};

export const certificateDer: FuzzTarget<Buffer> = {
  name: 'pki: certificate (ParsedCertificate)',
  contract: 'new ParsedCertificate(der) gives a certificate whose fields all read, or throws CertificateParseError',
  sizeCap: DEFAULT_MAX_CERT_BYTES,
  async prepare() {
    const s = await pkiSeeds();
    return {
      input: derFrom(s.certs), size,
      run(der): Verdict {
        let cert: ParsedCertificate;
        try {
          cert = new ParsedCertificate(der);
        } catch (err) {
          if (err instanceof CertificateParseError) return 'typed';
          throw err;
        }
        readAll(cert);
        return 'ok';
      },
    };
  },
};

export const crl: FuzzTarget<Buffer> = {
  name: 'pki: CRL',
  contract: 'parseCrl(body) returns a CRL or a message; evaluateCrl() of it never throws',
  sizeCap: DEFAULT_MAX_CRL_BYTES,
  async prepare() {
    const s = await pkiSeeds();
    const issuer = s.pki.intermediate.cert;
    const pemCrl = Buffer.from(new x509.X509Crl(s.crls[0] as Buffer).toString('pem'));
    const now = new Date();
    const input = fc.oneof({ weight: 8, arbitrary: derFrom(s.crls) }, { weight: 1, arbitrary: fc.constant(pemCrl) });
    return {
      input, size,
      async run(body): Promise<Verdict> {
        const parsed = parseCrl(body);
        if (typeof parsed === 'string') return 'typed';
        // The revoked leaf (its entry has a reason) and the good one, as checkCrl would ask.
        const a = await evaluateCrl(parsed, s.revokedLeaf, issuer, 'k', { now, verified: new Map() });
        const b = await evaluateCrl(parsed, s.leaf, issuer, 'k', { now });
        JSON.stringify([a, b]);
        return a.error || b.error ? 'typed' : 'ok';
      },
    };
  },
};

export const ocsp: FuzzTarget<{ der: Buffer; which: number }> = {
  name: 'pki: OCSP response',
  contract: 'evaluateOcspResponse(der) returns a typed evaluation (error code on a bad answer), never throws',
  sizeCap: DEFAULT_MAX_OCSP_BYTES,
  async prepare() {
    const s = await pkiSeeds();
    const issuer = s.pki.intermediate.cert;
    const revokedReq = buildOcspRequest(s.revokedLeaf, issuer);
    const goodReq = buildOcspRequest(s.leaf, issuer, { nonce: false });
    const rsaLeaf = new x509.X509Certificate(s.certs[5] as Buffer);
    const rsaReq = buildOcspRequest(rsaLeaf, s.rsa.intermediate.cert);
    const answers = [
      await s.pki.ocspRespond(revokedReq.der),
      await s.pki.ocspRespond(goodReq.der, { signer: 'issuer' }),
      await s.pki.ocspRespond(revokedReq.der, { nonce: 'wrong' }),
      await s.rsa.ocspRespond(rsaReq.der),
      await s.pki.ocspRespond(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00])),
    ];
    const now = new Date();
    const expectations = [
      { certId: revokedReq.certId, issuer, now, ...(revokedReq.nonce ? { nonce: revokedReq.nonce } : {}) },
      { certId: goodReq.certId, issuer, now },
      { certId: rsaReq.certId, issuer: s.rsa.intermediate.cert, now, ...(rsaReq.nonce ? { nonce: rsaReq.nonce } : {}) },
    ];
    return {
      input: fc.tuple(derFrom(answers, 1024), fc.nat({ max: expectations.length - 1 })).map(([der, which]) => ({ der, which })),
      size: (x) => x.der.length,
      show: (x) => `${x.der.length} bytes (expectation ${x.which}): ${x.der.subarray(0, 48).toString('hex')}`,
      async run(x): Promise<Verdict> {
        const r = await evaluateOcspResponse(x.der, expectations[x.which] as (typeof expectations)[number]);
        JSON.stringify(r);
        return r.error ? 'typed' : 'ok';
      },
    };
  },
};

export const pkiTargets: readonly FuzzTarget<never>[] = [certificateBundle, certificateDer, crl, ocsp] as unknown as FuzzTarget<never>[];
