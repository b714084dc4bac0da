// Fuzzing the files users hand miprobe: az exports, the config file, the web config (test/fuzz/targets/files.ts).
import { fileTargets } from './targets/files.js';
import { fuzzSuite } from './run-suite.js';

fuzzSuite(fileTargets, () => 2000);
