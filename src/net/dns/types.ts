// The DNS client's public types. The client lives beside this file
// (client.ts: one query to one server; resolve.ts: the CNAME chain).
import type { NetOptions } from '../deadline.js';
import type { Endpoint } from '../endpoint.js';
import type { AddressGuard } from '../guard.js';

export type DnsErrorCode =
  | 'DNS_NXDOMAIN'   // rcode 3
  | 'DNS_SERVFAIL'   // rcode 2
  | 'DNS_REFUSED'    // rcode 5
  | 'DNS_NOTIMP'     // rcode 4
  | 'DNS_FORMERR'    // rcode 1
  | 'DNS_RCODE'      // any other non-zero rcode
  | 'DNS_NODATA'     // NOERROR but no address at the end of the chain
  | 'DNS_TIMEOUT'    // no acceptable answer before the deadline, after retries
  | 'DNS_MALFORMED'  // the answer could not be decoded or does not match the question
  | 'DNS_CNAME_LOOP' // the chain comes back to a name it already visited
  | 'DNS_CNAME_TOO_LONG' // more hops than the limit
  | 'DNS_NETWORK'    // socket error (ECONNREFUSED on TCP, ICMP port unreachable on UDP ...)
  | 'DNS_BAD_NAME'   // the name to resolve is not a valid host name
  | 'GUARD_DENIED'   // the server address is outside the allowed ranges
  | 'DNS_NO_SERVERS' // no server to ask (empty list, e.g. resolv.conf without nameserver lines)
  | 'DNS_ABORTED';   // the caller's signal aborted the resolution

export type DnsRecordType = 'A' | 'AAAA' | 'CNAME';

/** One record of the chain as the resolver returned it. */
export interface DnsHop {
  readonly name: string;
  readonly type: DnsRecordType;
  readonly data: string;
  readonly ttl: number;
}

export interface DnsError {
  readonly code: DnsErrorCode;
  readonly message: string;
}

export interface ResolveResult {
  readonly ok: boolean;
  /** The name asked for. */
  readonly name: string;
  /** The server that gave the answer (or the last one tried), formatted ip:port. */
  readonly server: string;
  /** CNAME hops in order, then the A/AAAA records of the final name. */
  readonly chain: readonly DnsHop[];
  /** A and AAAA addresses of the final name. */
  readonly addresses: readonly string[];
  /** The last name of the chain (the name itself when there is no CNAME). */
  readonly canonicalName: string;
  /** 'tcp' when any query of this resolution fell back to TCP after truncation. */
  readonly transport: 'udp' | 'tcp';
  /** Number of DNS messages sent (retries and chain-following included). */
  readonly queries: number;
  readonly seconds: number;
  /** Present exactly when ok is false. */
  readonly error?: DnsError;
  /** Every server tried, in order, with the outcome it gave (failover evidence). */
  readonly attempts?: readonly DnsServerAttempt[];
}

/** What one server gave during a resolution. */
export interface DnsServerAttempt {
  /** ip:port */
  readonly server: string;
  /** 'OK' or the error code this server produced. */
  readonly outcome: 'OK' | DnsErrorCode;
  readonly message?: string;
  readonly seconds: number;
}

export interface ResolveOptions extends NetOptions {
  readonly guard: AddressGuard;
  /** Servers tried in order; the next is tried on timeout, SERVFAIL, REFUSED or network error. */
  readonly servers: readonly Endpoint[];
  /**
   * Per-attempt (per UDP transmission) timeout in ms; the overall deadline is timeoutMs.
   * Default: the time left divided evenly over the servers not yet tried, then by (retries + 1),
   * so that a silent first server leaves time for the next one.
   */
  readonly attemptTimeoutMs?: number;
  /** UDP retransmissions per server after the first attempt. Default 1. */
  readonly retries?: number;
  /** Maximum CNAME hops followed. Default 16. */
  readonly maxHops?: number;
  /** Query AAAA as well as A. Default true. */
  readonly ipv6?: boolean;
}
