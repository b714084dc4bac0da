// Certificates for the TDS tests, from the simulated PKI (src/sim/pki.ts):
// valid, wrong host, expired (issued by the trusted CA) and untrusted (a second,
// unknown CA). `caPem` is the root to trust.
import { createSimPki } from '../../src/sim/pki.js';

export interface TestCert {
  readonly certPem: string;
  readonly keyPem: string;
  readonly chainPem: string;
}

export interface TdsCerts {
  readonly caPem: string;
  readonly valid: TestCert;
  readonly wrongHost: TestCert;
  readonly expired: TestCert;
  readonly untrusted: TestCert;
}

const DAY = 86_400_000;

/** Leaves for `hostnames` (the first is the instance FQDN); a wildcard for nodes may be added. */
export async function makeTdsCerts(hostnames: readonly string[]): Promise<TdsCerts> {
  const pki = await createSimPki({ name: 'miprobe test' });
  const rogue = await createSimPki({ name: 'rogue' });
  const now = Date.now();
  const plain = { withRevocationInfo: false };
  const [valid, wrongHost, expired, untrusted] = await Promise.all([
    pki.issueLeaf({ hostnames, ...plain }),
    pki.issueLeaf({ hostnames: ['other.example.net'], ...plain }),
    pki.issueLeaf({ hostnames, notBefore: new Date(now - 30 * DAY), notAfter: new Date(now - DAY), ...plain }),
    rogue.issueLeaf({ hostnames, ...plain }),
  ]);
  return { caPem: pki.caPem, valid, wrongHost, expired, untrusted };
}
