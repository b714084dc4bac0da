// Fuzzing TDS framing, PRELOGIN, LOGIN7 and the TLS-in-TDS shim (test/fuzz/targets/tds.ts).
import { tdsTargets } from './targets/tds.js';
import { fuzzSuite } from './run-suite.js';

fuzzSuite(tdsTargets, () => 5000);
