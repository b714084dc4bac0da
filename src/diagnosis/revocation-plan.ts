// The revocation part of the plan: the platform endpoints' reachability (from
// the start, it needs only the resolvers) and the chains the data path saw.
// Loaded on demand: the PKI libraries are the heaviest part of start-up.
import { resolve } from '../net/dns/resolve.js';
import { RevocationCache } from '../net/pki/cache.js';
import { fromDnsResolve, type HostResolver } from '../net/pki/http.js';
import type { ProbeContext } from '../probes/context.js';
import { probeHttpsChain, type HttpsChainResult } from '../probes/https-chain.js';
import {
  checkChainRevocation, DEFAULT_REVOCATION_ENDPOINTS, probeRevocationEndpoints, type ChainRevocationResult, type EndpointReachability,
} from '../probes/revocation.js';

export { revocationChecks, revocationFindings } from './revocation-rules.js';

/** One cache per process: repeated checks (the agent) cost no fetch until a CRL's or OCSP answer's nextUpdate. */
const cache = new RevocationCache();

/** CRL, OCSP and CA-issuer hosts are resolved with miprobe's own resolver, behind the guard. */
function hostResolver(ctx: ProbeContext): HostResolver {
  return fromDnsResolve(resolve, { servers: ctx.resolvers.map((r) => r.endpoint), guard: ctx.guard, retries: ctx.dnsRetries });
}

export function checkPlatformEndpoints(urls: readonly string[] | undefined, ctx: ProbeContext): Promise<EndpointReachability[]> {
  return probeRevocationEndpoints(urls ?? DEFAULT_REVOCATION_ENDPOINTS, { resolve: hostResolver(ctx), guard: ctx.guard,
    timeoutMs: ctx.timeoutMs, signal: ctx.signal });
}

export function checkChains(chains: ReadonlyArray<{ subject: string; pem: readonly string[] }>, ca: string | undefined,
  ctx: ProbeContext): Promise<ChainRevocationResult[]> {
  const resolveHost = hostResolver(ctx);
  return Promise.all(chains.map((c) => checkChainRevocation(c.pem, { subject: c.subject, guard: ctx.guard, timeoutMs: ctx.timeoutMs,
    signal: ctx.signal, resolve: resolveHost, cache, ...(ca ? { extraCertificatesPem: [ca] } : {}) })));
}

/** The chains of the HTTPS endpoints listed in the config, fetched concurrently. */
export function readHttpsChains(urls: readonly string[], ctx: ProbeContext): Promise<HttpsChainResult[]> {
  return Promise.all(urls.map((url) => probeHttpsChain(url, ctx)));
}
