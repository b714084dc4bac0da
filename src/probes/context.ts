// What every probe receives besides its own input: the address guard, the
// deadline, cancellation and the resolvers. Probes do I/O and return typed
// results; they never decide what a result means (that is diagnosis).
import type { Endpoint } from '../net/endpoint.js';
import type { AddressGuard } from '../net/guard.js';

export type ResolverRole = 'system' | 'custom' | 'azure';

export interface ResolverSpec {
  readonly endpoint: Endpoint;
  readonly role: ResolverRole;
}

export interface ProbeContext {
  readonly guard: AddressGuard;
  /** Deadline of each network check, in milliseconds. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /** Resolvers in the order they are tried; the first answering one serves derived names. */
  readonly resolvers: readonly ResolverSpec[];
  /** UDP retransmissions per DNS server. */
  readonly dnsRetries: number;
}

/** A probe: one kind of I/O, one input, one typed result, never throws. */
export type Probe<In, Out> = (input: In, ctx: ProbeContext) => Promise<Out>;
