// Certificates for the TDS tests: the simulated gateway's set (src/sim/gateway-certs.ts)
// under the names these tests use. `caPem` is the root to trust.
import { makeGatewayCerts } from '../../src/sim/gateway-certs.js';
import type { IssuedLeaf } from '../../src/sim/pki.js';

export type TestCert = Pick<IssuedLeaf, 'certPem' | 'keyPem' | 'chainPem'>;

export interface TdsCerts {
  readonly caPem: string;
  readonly valid: TestCert;
  readonly wrongHost: TestCert;
  readonly expired: TestCert;
  readonly untrusted: TestCert;
  /** The redirect node's: names only *.tr1234.westeurope1-a.worker.database.windows.net. */
  readonly node: TestCert;
}

/** Leaves for `hostnames` (the first is the instance FQDN), without revocation information. */
export async function makeTdsCerts(hostnames: readonly string[]): Promise<TdsCerts> {
  const c = await makeGatewayCerts(hostnames);
  return { caPem: c.caPem, valid: c.valid, wrongHost: c['wrong-host'], expired: c.expired, untrusted: c.untrusted, node: c.node };
}
