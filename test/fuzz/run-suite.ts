// Runs fuzz targets as tap subtests: a fixed seed, a few thousand inputs each
// (bench/fuzz.mjs runs 100,000). A target fails on any untyped exception, and
// when it accepted nothing or refused nothing (then the inputs would not be
// reaching the parser's two sides, and the run would prove little). Time is
// not asserted here (bench/ holds the time goals); it is printed.
import t from 'tap';
import { describeFailures, runTarget, type FuzzTarget } from './harness.js';

export const FUZZ_SEED = 14;

export function fuzzSuite(targets: readonly FuzzTarget<never>[], runs: (target: FuzzTarget<never>) => number): void {
  for (const target of targets) {
    t.test(target.name, async (t) => {
      const stats = await runTarget(target, { runs: runs(target), seed: FUZZ_SEED });
      t.comment(`${target.contract}: ${stats.inputs} inputs, ${stats.ok} accepted, ${stats.typed} refused (typed), slowest ${stats.slowestMs.toFixed(1)} ms (${stats.slowestSize} B), ${stats.seconds.toFixed(1)} s`);
      t.equal(stats.untyped, 0, `no untyped exception${stats.untyped ? `\n${describeFailures(stats)}` : ''}`);
      t.ok(stats.ok > 0, 'some inputs were accepted');
      t.ok(stats.typed > 0, 'some inputs were refused the documented way');
      t.equal(stats.inputs, runs(target), 'every input ran');
    });
  }
}
