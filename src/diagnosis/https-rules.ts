// Findings and check lines for the HTTPS endpoints whose chains are checked for revocation.
import type { HttpsChainResult } from '../probes/https-chain.js';
import { REVOCATION } from './catalog/revocation.js';
import type { CheckLine } from './check.js';
import { finding, type Finding } from './finding.js';

export function httpsFindings(results: readonly HttpsChainResult[]): Finding[] {
  return results.flatMap((r) => (r.ok ? [] : [finding(REVOCATION.httpsUnreachable, `${r.url}${r.address ? ` (${r.address}:${r.port})` : ''}: ${r.code}: ${r.message}`)]));
}

export function httpsChecks(results: readonly HttpsChainResult[]): CheckLine[] {
  return results.map((r) => (r.ok
    ? { name: `HTTPS ${r.host}`, status: 'pass', seconds: r.seconds, detail: `${r.address}:${r.port}: chain of ${r.chainPem.length} read for the revocation check` }
    : { name: `HTTPS ${r.host || r.url}`, status: 'warn', seconds: r.seconds, detail: `${r.code}: ${r.message}` }));
}
