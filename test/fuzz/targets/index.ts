// Every fuzz target, for the tap tests (test/fuzz/*.test.ts) and bench/fuzz.mjs.
import type { FuzzTarget } from '../harness.js';
import { pkiTargets } from './pki.js';

export const allTargets: readonly FuzzTarget<never>[] = [...pkiTargets];
