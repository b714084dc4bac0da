// Revocation probes: the platform's revocation endpoints (is the CA's service what
// answers?) and the revocation status of a captured certificate chain. The checking
// itself lives in src/net/pki/revocation.ts; src/diagnosis/revocation-rules.ts
// decides what the results mean.
import { RevocationCache } from '../net/pki/cache.js';
import {
  checkChainRevocation, checkRevocationEndpoints, type ChainRevocationResult, type EndpointReachability,
} from '../net/pki/revocation.js';
import { REVOCATION_ENDPOINTS } from '../requirements/platform.js';
import type { Probe } from './context.js';
import type { HttpsChainResult } from './https-chain.js';

export type {
  AnswerEvidence, CertificateRevocation, ChainRevocationResult, CheckError, CrlCheck, EndpointKind, EndpointReachability, EndpointService,
  OcspCheck, RevocationStatus,
} from '../net/pki/revocation.js';

/** The platform's revocation endpoints (src/requirements/platform.ts), checked by default. */
export const DEFAULT_REVOCATION_ENDPOINTS: readonly string[] = REVOCATION_ENDPOINTS;

/** What the revocation checks of one diagnosis found. */
export interface RevocationReport {
  readonly chains: readonly ChainRevocationResult[];
  readonly endpoints: readonly EndpointReachability[];
  /** The HTTPS endpoints whose chains were read (probe.httpsUrls); their chains are in `chains`. */
  readonly https?: readonly HttpsChainResult[];
  /** Set when the checks were skipped (--no-revocation). */
  readonly skipped?: string;
}

/** One cache per process: repeated checks (the agent) cost no fetch until a CRL's or OCSP answer's nextUpdate. */
const cache = new RevocationCache();

/** Whether each endpoint is served by the CA: a CRL that parses, an OCSP response. */
export const probePlatformEndpoints: Probe<readonly string[], EndpointReachability[]> = (urls, ctx) =>
  checkRevocationEndpoints(urls, { resolve: ctx.resolveHost, guard: ctx.guard, timeoutMs: ctx.timeoutMs, signal: ctx.signal });

export interface ChainInput {
  /** What presented the chain (gateway, redirect node, an HTTPS URL). */
  readonly subject: string;
  /** Leaf first, PEM. */
  readonly pem: readonly string[];
  /** Trust anchors to build the chain with (--ca-file). */
  readonly extraCertificatesPem?: readonly string[];
}

/** The CRL and OCSP status of every certificate of a chain (missing intermediates fetched from CA-issuer URLs). */
export const probeChainRevocation: Probe<ChainInput, ChainRevocationResult> = (input, ctx) =>
  checkChainRevocation(input.pem, { subject: input.subject, guard: ctx.guard, timeoutMs: ctx.timeoutMs, signal: ctx.signal,
    resolve: ctx.resolveHost, cache, ...(input.extraCertificatesPem ? { extraCertificatesPem: input.extraCertificatesPem } : {}) });
