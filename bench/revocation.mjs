// Revocation benchmark: the cost of a cached versus an uncached revocation
// check of one chain (leaf + intermediate: 2 CRLs, 2 OCSP answers, root from
// CA issuers), and the time to check 100 chains concurrently.
//
//   npm run build && node bench/revocation.mjs [--iterations 40] [--chains 100]
//
// The simulated PKI and its CRL/OCSP responders run in a child process so that
// their CPU (signing OCSP answers) does not count in the client's figures.
// Loopback 127.80.200.1 only.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HOST = '127.80.200.1';

if (process.argv[2] === '--server') {
  const { startRevocationResponders } = await import('../dist/sim/revocation-responders.js');
  const { createSimPki } = await import('../dist/sim/pki.js');
  const chains = Number(process.argv[3]);
  const responders = await startRevocationResponders({ host: HOST });
  const pki = await createSimPki({ ...responders.pkiUrls, name: 'bench' });
  responders.setPki(pki);
  const leaves = [];
  for (let i = 0; i < chains; i++) leaves.push((await pki.issueLeaf({ hostnames: [`gw${i}.bench.test`] })).chainPem);
  process.send({ leaves, rootPem: pki.rootPem });
  process.on('message', async (m) => {
    if (m === 'close') {
      await responders.close();
      process.exit(0);
    }
  });
} else {
  const { values } = parseArgs({ options: { iterations: { type: 'string', default: '40' }, chains: { type: 'string', default: '100' } } });
  const iterations = Number(values.iterations);
  const nChains = Number(values.chains);
  const { AddressGuard } = await import('../dist/net/guard.js');
  const { RevocationCache } = await import('../dist/net/pki/cache.js');
  const { checkChainRevocation } = await import('../dist/net/pki/revocation.js');

  const child = fork(fileURLToPath(import.meta.url), ['--server', String(nChains)]);
  const { leaves } = await new Promise((resolve) => child.once('message', resolve));
  const guard = AddressGuard.fromList('127.80.200.0/24');
  const base = { guard, timeoutMs: 10_000 };
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const measure = async (n, fn) => {
    const wall = [];
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const r = await fn();
      wall.push(performance.now() - t0);
      if (!r.ok) throw new Error(`check failed: ${JSON.stringify(r).slice(0, 400)}`);
    }
    const cpu = process.cpuUsage(cpu0);
    return { medianMs: median(wall), cpuMsPerCheck: (cpu.user + cpu.system) / 1000 / n };
  };

  await checkChainRevocation([leaves[0]], base); // warm-up: JIT, root store parse
  const uncached = await measure(iterations, () => checkChainRevocation([leaves[0]], { ...base, cache: new RevocationCache() }));
  const cache = new RevocationCache();
  await checkChainRevocation([leaves[0]], { ...base, cache });
  const cached = await measure(iterations * 25, () => checkChainRevocation([leaves[0]], { ...base, cache }));

  const concurrent = async (withCache) => {
    const shared = withCache ? new RevocationCache() : undefined;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const results = await Promise.all(leaves.map((chain) => checkChainRevocation([chain], { ...base, ...(shared ? { cache: shared } : {}) })));
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    return { ms, cpuMs: (cpu.user + cpu.system) / 1000, good: results.filter((r) => r.ok).length };
  };
  // One round of each first: the second of two back-to-back rounds runs warm JIT code and finds the
  // parsed chain certificates memoised, whichever it is, so only rounds after a warm-up compare.
  await concurrent(false);
  await concurrent(true);
  const coldShared = await concurrent(true);
  const noCache = await concurrent(false);

  const f = (x) => x.toFixed(2);
  console.log(`revocation check of one chain (leaf + intermediate; 2 CRLs, 2 OCSP, 1 CA-issuers fetch), ${iterations} runs:`);
  console.log(`  uncached: median ${f(uncached.medianMs)} ms wall, ${f(uncached.cpuMsPerCheck)} ms client CPU per check`);
  console.log(`  cached:   median ${f(cached.medianMs * 1000)} us wall, ${f(cached.cpuMsPerCheck * 1000)} us client CPU per check (${iterations * 25} runs)`);
  console.log(`  ratio:    ${f(uncached.medianMs / cached.medianMs)}x`);
  console.log(`${nChains} chains concurrently (distinct leaves, same CA):`);
  console.log(`  shared cold cache (CRLs fetched once, OCSP per leaf): ${f(coldShared.ms)} ms wall, ${f(coldShared.cpuMs)} ms CPU, ${coldShared.good}/${nChains} good`);
  console.log(`  no cache (every chain fetches everything):            ${f(noCache.ms)} ms wall, ${f(noCache.cpuMs)} ms CPU, ${noCache.good}/${nChains} good`);
  child.send('close');
}
