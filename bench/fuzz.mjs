// Fuzz benchmark: every parser of peer or file input, 100,000 inputs each
// (the tap tests in test/fuzz/ run a few thousand), with a fixed seed.
//
//   node bench/fuzz.mjs [--runs 100000] [--seed 14] [--target text] [--save dir]
//
// Prints, per target: inputs tried, inputs accepted, typed errors (the parser's
// documented refusal), untyped exceptions (goal 0), the slowest input in CPU
// time (goal: under 100 ms for inputs within the size cap; the socket target is
// timed on the wall clock, its deadline included) with its size, the number of
// inputs within the cap over 100 ms, and the heap growth over the run (after
// garbage collection). --save writes each target's slowest input to dir. Exits 1 when a target has an untyped exception or an
// input within its cap over 100 ms.
//
// The targets are TypeScript (test/fuzz/targets/); esbuild bundles them for
// this run (packages stay external) next to their sources, and the bundle is
// removed afterwards. Nothing here uses the network.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';

const { values } = parseArgs({ options: {
  runs: { type: 'string', default: '100000' }, seed: { type: 'string', default: '14' }, target: { type: 'string' }, save: { type: 'string' },
} });
const root = fileURLToPath(new URL('..', import.meta.url));
const outfile = join(root, 'test/fuzz/targets/.bench-bundle.mjs');
await esbuild.build({
  entryPoints: [join(root, 'test/fuzz/bench-entry.ts')], outfile, bundle: true, platform: 'node', target: 'node20',
  format: 'esm', packages: 'external', logLevel: 'warning', sourcemap: 'inline',
});
let failed = false;
try {
  const { allTargets, runTarget, describeFailures } = await import(pathToFileURL(outfile).href);
  const runs = Number(values.runs);
  const seed = Number(values.seed);
  const chosen = allTargets.filter((t) => !values.target || t.name.includes(values.target) || new RegExp(values.target).test(t.name));
  const rows = [];
  const kb = (n) => `${n < 0 ? '-' : '+'}${(Math.abs(n) / 1024 / 1024).toFixed(1)} MiB`;
  for (const target of chosen) {
    process.stderr.write(`${target.name}: `);
    const stats = await runTarget(target, { runs, seed, onBatch: (done) => { if (done % 10000 === 0) process.stderr.write('.'); } });
    process.stderr.write(` ${stats.seconds.toFixed(1)} s\n`);
    if (stats.untyped > 0) process.stderr.write(`${describeFailures(stats)}\n`);
    if (stats.untyped > 0 || stats.over100ms > 0) failed = true;
    if (stats.over100ms > 0) process.stderr.write(`  slowest: ${stats.slowestInput}\n`);
    if (stats.slowestBeyondCap) process.stderr.write(`  beyond the ${target.sizeCap}-byte cap (refused before parsing in the product): slowest ${stats.slowestBeyondCap.ms.toFixed(1)} ms for ${stats.slowestBeyondCap.size} bytes\n`);
    if (values.save) {
      await mkdir(values.save, { recursive: true });
      const raw = stats.slowestRaw;
      const file = join(values.save, `${target.name.replace(/[^a-z0-9]+/gi, '-')}.slowest`);
      const bytes = (x) => (Buffer.isBuffer(x) ? x : Buffer.isBuffer(x?.der) ? x.der : typeof x === 'string' ? x : JSON.stringify(x));
      await writeFile(file, bytes(raw));
      for (const [i, s] of stats.samples.entries()) await writeFile(file.replace(/slowest$/, `untyped-${i}`), bytes(s.raw));
    }
    rows.push([target.name, String(stats.inputs), String(stats.ok), String(stats.typed), String(stats.untyped),
      `${stats.slowestMs.toFixed(1)} ms${target.clock === 'wall' ? ' wall' : ''} (${stats.slowestSize} B)`, String(stats.over100ms), kb(stats.heapGrowthBytes)]);
  }
  const head = ['target', 'inputs', 'accepted', 'typed errors', 'untyped', 'slowest input in cap', '>100 ms in cap', 'heap growth'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(`fuzz: ${runs} inputs per target, seed ${seed}, node ${process.version}`);
  console.log(line(head));
  console.log(`|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const r of rows) console.log(line(r));
} finally {
  await rm(outfile, { force: true });
}
process.exit(failed ? 1 : 0);
