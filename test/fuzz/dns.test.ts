// Fuzzing DNS answers, the TCP framing, resolv.conf, and the resolver over loopback sockets (test/fuzz/targets/dns.ts).
import { dnsTargets, dnsWire } from './targets/dns.js';
import { fuzzSuite } from './run-suite.js';

fuzzSuite(dnsTargets, (t) => (t === (dnsWire as unknown) ? 400 : 4000));
