// Certificates the simulated gateway presents, by scenario kind: valid,
// wrong host, expired (all from the trusted simulated CA), untrusted (a
// second CA nobody trusts), and the redirect node's (naming only the node,
// as a real node's does). `caPem` is the root a client must trust.
import type { CertKind, ScenarioCert } from './tds-scenarios.js';
import { createSimPki, type IssueLeafOptions, type IssuedLeaf, type SimPki } from './pki.js';

export interface GatewayCerts extends Readonly<Record<CertKind, IssuedLeaf>> {
  readonly caPem: string;
  readonly pki: SimPki;
}

const DAY = 86_400_000;
/** The nodes' names of the simulated cluster (src/sim/mi-zone.ts): <id>.tr1234.westeurope1-a.worker.database.windows.net. */
const DEFAULT_NODE_NAMES = '*.tr1234.westeurope1-a.worker.database.windows.net';

/**
 * Leaves for `hostnames` (the first is the instance FQDN). Pass a `pki` whose
 * URLs point at simulated responders to put revocation information in them;
 * without one, a plain CA is made and the leaves carry none.
 */
export async function makeGatewayCerts(hostnames: readonly string[], pki?: SimPki,
  nodeHostnames: readonly string[] = [DEFAULT_NODE_NAMES]): Promise<GatewayCerts> {
  const ca = pki ?? await createSimPki({ name: 'miprobe sim' });
  const rogue = await createSimPki({ name: 'rogue' });
  const extra: Partial<IssueLeafOptions> = pki ? {} : { withRevocationInfo: false };
  const now = Date.now();
  const [valid, wrongHost, expired, untrusted, node] = await Promise.all([
    ca.issueLeaf({ hostnames, ...extra }),
    ca.issueLeaf({ hostnames: ['other.example.net'], ...extra }),
    ca.issueLeaf({ hostnames, notBefore: new Date(now - 30 * DAY), notAfter: new Date(now - DAY), ...extra }),
    rogue.issueLeaf({ hostnames, withRevocationInfo: false }),
    ca.issueLeaf({ hostnames: nodeHostnames, ...extra }),
  ]);
  return { caPem: ca.caPem, pki: ca, valid, 'wrong-host': wrongHost, expired, untrusted, node };
}

export function certFor(certs: GatewayCerts, kind: CertKind): ScenarioCert {
  const { certPem, keyPem, chainPem } = certs[kind];
  return { certPem, keyPem, chainPem };
}
