// Fuzzing the PKI parsers: certificates, CA-issuer bundles, CRLs, OCSP answers (test/fuzz/targets/pki.ts).
import { pkiTargets } from './targets/pki.js';
import { fuzzSuite } from './run-suite.js';

fuzzSuite(pkiTargets, () => 2000);
