// Every fuzz target, for the tap tests (test/fuzz/*.test.ts) and bench/fuzz.mjs.
import type { FuzzTarget } from '../harness.js';
import { dnsTargets } from './dns.js';
import { fileTargets } from './files.js';
import { pkiTargets } from './pki.js';
import { tdsTargets } from './tds.js';

export const allTargets: readonly FuzzTarget<never>[] = [...dnsTargets, ...tdsTargets, ...pkiTargets, ...fileTargets];
