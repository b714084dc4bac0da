// Every network time a miprobe JSON report states (each DNS, TCP, TLS, PRELOGIN, login and
// HTTP phase), with a name saying where it is, so a bench can hold all of them against the
// true loopback figures, not only the data path's TCP connect.
//   node bench/network-times.mjs [--runs N] [scenario ...]   (after `npm run build`)
// runs `miprobe demo --json` per scenario and prints the largest reported network times.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';

/** [{ name, ms }] for every network phase in the report. */
export function networkTimesOf(report) {
  const out = [];
  const add = (name, seconds) => { if (typeof seconds === 'number' && Number.isFinite(seconds)) out.push({ name, ms: seconds * 1000 }); };
  const fetchPhases = (name, p) => {
    if (!p) return;
    for (const k of ['dns', 'tcp', 'tls', 'http']) add(`${name} ${k.toUpperCase()}`, p[k]?.seconds);
  };
  for (const d of report.dns ?? []) add(`DNS ${d.server}`, d.seconds);
  if (report.managementEndpoint?.present !== false) add('DNS management endpoint name', report.managementEndpoint?.seconds);
  for (const c of report.dnsCoverage ?? []) add(`DNS coverage ${c.server} (${c.checked ?? '?'} names)`, c.seconds);
  for (const p of report.managementFirewall?.ports ?? []) add(`TCP management port ${p.port} (${p.state})`, p.seconds);
  const dp = report.dataPath;
  if (dp) {
    add('TCP data path connect', dp.tcp?.connectSeconds);
    add('PRELOGIN data path', dp.prelogin?.seconds);
    add('TLS data path', dp.tls?.seconds);
    for (const ph of dp.login?.phases ?? []) add(`login ${ph.leg > 0 ? 'node ' : ''}${ph.name}`, ph.seconds);
    const rd = dp.redirect;
    if (rd) {
      add('DNS redirect node name', rd.resolve?.seconds);
      add('TCP redirect node connect', rd.path?.tcp?.connectSeconds);
      add('PRELOGIN redirect node', rd.path?.prelogin?.seconds);
      add('TLS redirect node', rd.path?.tls?.seconds);
    }
    for (const p of dp.redirectPorts?.ports ?? []) add(`TCP redirect port ${p.port} (${p.state})`, p.seconds);
  }
  for (const e of report.revocation?.endpoints ?? []) fetchPhases(`revocation endpoint ${e.url}`, e);
  for (const [i, chain] of (report.revocation?.chains ?? []).entries()) {
    for (const cert of chain.certificates ?? []) {
      for (const f of [...(cert.crl ?? []), ...(cert.ocsp ?? []), ...(cert.caIssuers ?? [])]) {
        if (!f.cached) fetchPhases(`chain ${chain.subject ?? i} ${f.kind ?? ''} ${f.url}`, f.phases);
      }
    }
    for (const f of chain.issuerFetches ?? []) fetchPhases(`chain ${chain.subject ?? i} issuer ${f.url}`, f.phases);
  }
  return out;
}

/** The largest of a report's network times. */
export function largestNetworkTime(report) {
  const times = networkTimesOf(report);
  return times.length === 0 ? { name: 'none', ms: NaN } : times.reduce((a, b) => (b.ms > a.ms ? b : a));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const run = promisify(execFile);
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { runs: { type: 'string', default: '3' }, top: { type: 'string', default: '5' } } });
  const bin = new URL('../dist/cli/launch.cjs', import.meta.url).pathname;
  const env = { ...process.env, MIPROBE_ALLOW_CIDRS: '127.0.0.0/8' };
  for (const scenario of positionals.length > 0 ? positionals : ['healthy', 'redirect-healthy', 'strict-encryption-on', 'redirect-instance-suffix']) {
    const all = [];
    const verdicts = [];
    for (let i = 0; i < Number(values.runs); i++) {
      const { stdout } = await run(process.execPath, [bin, 'demo', '--json', '--scenario', scenario], { env, maxBuffer: 64 << 20 }).catch((e) => e);
      const report = JSON.parse(stdout);
      verdicts.push(report.verdict);
      all.push(...networkTimesOf(report));
    }
    // The largest per name over the runs, then the top few.
    const worst = new Map();
    for (const t of all) {
      const key = t.name.replace(/:\d+\b/g, ':*');
      if (!(worst.get(key) >= t.ms)) worst.set(key, t.ms);
    }
    const top = [...worst].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top));
    console.log(`${scenario} (${values.runs} runs: ${verdicts.join(', ')}): largest ${top.map(([n, ms]) => `${n} ${ms.toFixed(1)} ms`).join('; ')}`);
  }
}
