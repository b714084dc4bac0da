// Name resolution through each resolver, independently and concurrently, so
// resolvers can be compared hop by hop.
import { formatEndpoint } from '../net/endpoint.js';
import { resolve } from '../net/dns/resolve.js';
import type { ResolveResult } from '../net/dns/types.js';
import type { Probe, ProbeContext, ResolverRole, ResolverSpec } from './context.js';

export interface ResolverAnswer {
  readonly server: string;
  readonly role: ResolverRole;
  /** The resolver asked (its endpoint and role). */
  readonly spec: ResolverSpec;
  readonly result: ResolveResult;
}

export function resolveThrough(name: string, resolver: ResolverSpec, ctx: ProbeContext): Promise<ResolveResult> {
  return resolve(name, {
    servers: [resolver.endpoint], guard: ctx.guard, timeoutMs: ctx.timeoutMs, signal: ctx.signal, retries: ctx.dnsRetries,
  });
}

/** Resolves with every resolver in the list as the only server (failover would hide disagreement). */
export const probeNameResolution: Probe<string, ResolverAnswer[]> = (name, ctx) =>
  Promise.all(ctx.resolvers.map(async (resolver) => ({
    server: formatEndpoint(resolver.endpoint), role: resolver.role, spec: resolver, result: await resolveThrough(name, resolver, ctx),
  })));

/** Resolves with the resolvers in order, stopping at the first that answers (for derived names). */
export const probeWithFailover: Probe<string, ResolveResult> = (name, ctx) =>
  resolve(name, {
    servers: ctx.resolvers.map((r) => r.endpoint), guard: ctx.guard, timeoutMs: ctx.timeoutMs, signal: ctx.signal,
    retries: ctx.dnsRetries,
  });
