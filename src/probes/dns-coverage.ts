// Custom DNS coverage: each non-Azure resolver must resolve the names the
// instance and its clients depend on (REQUIRED_DNS_NAMES in src/requirements/platform.ts, and its public sources).
import { formatEndpoint } from '../net/endpoint.js';
import type { DnsErrorCode } from '../net/dns/types.js';
import type { Probe } from './context.js';
import { resolveThrough } from './dns.js';

export interface CoverageResult {
  readonly server: string;
  readonly checked: number;
  readonly failures: ReadonlyArray<{ readonly name: string; readonly code: DnsErrorCode }>;
  readonly seconds: number;
}

export const probeDnsCoverage: Probe<readonly string[], CoverageResult[]> = async (names, ctx) => {
  if (names.length === 0) return [];
  const custom = ctx.resolvers.filter((r) => r.role !== 'azure');
  return Promise.all(custom.map(async (resolver) => {
    const started = performance.now();
    const results = await Promise.all(names.map((name) => resolveThrough(name, resolver, { ...ctx })));
    const failures = results.flatMap((r) => (r.ok || !r.error ? [] : [{ name: r.name, code: r.error.code }]));
    return { server: formatEndpoint(resolver.endpoint), checked: names.length, failures,
      seconds: Math.round(performance.now() - started) / 1000 };
  }));
};
