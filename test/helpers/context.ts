// A probe context for tests: the guard, the deadline, resolvers (none by default,
// or a fixed name -> address map standing in for DNS).
import type { AddressGuard } from '../../src/net/guard.js';
import type { HostResolver } from '../../src/net/resolver.js';
import { probeContextOf, type ProbeContext, type ResolverSpec } from '../../src/probes/context.js';

export function testContext(guard: AddressGuard, timeoutMs: number, opts: {
  resolvers?: readonly ResolverSpec[]; hosts?: Readonly<Record<string, string>>; signal?: AbortSignal;
} = {}): ProbeContext {
  const ctx = probeContextOf({ guard, timeoutMs, resolvers: opts.resolvers ?? [], dnsRetries: 1, ...(opts.signal ? { signal: opts.signal } : {}) });
  if (!opts.hosts) return ctx;
  const hosts = opts.hosts;
  const resolveHost: HostResolver = async (name) => {
    const address = hosts[name.toLowerCase()];
    return address ? { addresses: [address] } : { addresses: [], error: { code: 'DNS_NXDOMAIN', message: `${name} does not exist` } };
  };
  return { ...ctx, resolveHost };
}
