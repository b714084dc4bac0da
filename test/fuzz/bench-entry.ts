// What bench/fuzz.mjs bundles: the targets and the runner.
export { allTargets } from './targets/index.js';
export { runTarget, describeFailures } from './harness.js';
