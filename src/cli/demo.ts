// `miprobe demo`: start the simulated managed-instance network on loopback,
// diagnose it like a real one, print the report, shut everything down.
// `miprobe demo --serve`: start it and keep it up until SIGINT/SIGTERM, so any
// tool (miprobe diagnose, tsql, nmap, an application) can be pointed at it.
// The address guard is always on (127.0.0.0/8): a demo never leaves the machine.
import { loadConfig, mergeLayers } from '../config/load.js';
import { launcherPath } from '../launcher.js';
import { startSimChild } from '../sim/child.js';
import { simConfigLayer, simSecretsEnv, type SimNetworkInfo } from '../sim/network-info.js';
import type { Finding } from '../diagnosis/finding.js';
import { findScenario, SCENARIOS, type Scenario } from '../sim/scenarios.js';
import { startSimNetwork, type SimNetwork } from '../sim/network.js';
import { printReport, runDiagnosis } from './diagnose.js';
import { EXIT_CRITICAL, EXIT_OK, UsageError, type CliIo, type Command } from './io.js';
import { parseCommandArgs } from './parse.js';

export const DEMO_USAGE = `Usage: miprobe demo [--scenario name] [--list-scenarios] [--serve] [--json]

Starts a simulated managed instance network on loopback (resolvers serving the
instance zone, the gateway and a redirect node speaking TDS, a CA with CRL and
OCSP responders, the management endpoint) in one scenario, diagnoses it and
prints the report. Nothing leaves this machine: the address guard is fixed to
127.0.0.0/8.

Options:
  --scenario name     which scenario (default: healthy)
  --list-scenarios    list the scenarios and the findings each should produce
  --serve             start the network and keep it up until Ctrl-C (SIGINT/SIGTERM),
                      printing where it listens, to point other tools at it
  --timeout ms        deadline of each network check (default: what the scenario needs, 1.5-3 s)
  --json              print the JSON document (with --serve: one JSON line describing the network)
  --no-color          no colour even on a terminal
  -h, --help          this help`;

const OPTIONS = {
  scenario: { type: 'string' },
  'list-scenarios': { type: 'boolean' },
  serve: { type: 'boolean' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  'no-color': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The demo's loopback blocks, 127.100.0.0/24 first; a block in use (another demo) moves it to the next. */
const DEMO_BLOCKS = Array.from({ length: 32 }, (_, i) => `127.100.${i}`);

async function startInFreeBlock(scenario: Scenario): Promise<SimNetwork> {
  for (const block of DEMO_BLOCKS) {
    try {
      return await startSimNetwork({ scenario, block });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
  throw new UsageError('every demo address block 127.100.0-31.0/24 is in use', 'stop the other demos, or wait for them to finish');
}

/** What a user needs to point a tool at the network, and the commands that do it (src/sim/tool-commands.ts). */
function describeNetwork(info: SimNetworkInfo): string {
  const { commands } = info;
  return [
    `Simulated managed instance network "${info.scenario}" is up; stop it with Ctrl-C.`,
    '',
    `  instance      ${info.fqdn}`,
    `  resolvers     ${info.resolvers.join(', ')}${info.azureResolver ? `; Azure DNS stand-in ${info.azureResolver}` : ''}`,
    `  gateway       ${info.gateway} (TDS 7.x and TDS 8)${info.redirectTo ? `; redirects logins to ${info.redirectTo}` : ''}`,
    ...(info.node ? [`  redirect node ${info.node} (${info.nodeName ?? ''})`] : []),
    `  subnet        ${info.subnet}`,
    `  CA file       ${info.caFile}`,
    `  freetds.conf  ${info.freetdsConf}`,
    `  SQL login     ${info.sqlLogin.user} / ${info.sqlLogin.password} (the simulation's demo login; also in ${info.sqlPasswordFile})`,
    '',
    'Point tools at it (every command stays on loopback and asks no name of this machine\'s DNS):',
    `  # reports exactly the scenario's findings: ${info.expectFindings.join(', ') || 'none'}`,
    `  ${commands.diagnose}`,
    `  ${commands.dig}`,
    ...commands.nmap.map((c) => `  ${c}`),
    `  # ${commands.tsqlNote}`,
    ...(commands.tsql ? [`  ${commands.tsql}`] : []),
    '',
  ].join('\n');
}

/** Resolves on SIGINT/SIGTERM (the command's signal), or when stdin ends if the parent asked for that. */
function untilStopped(io: CliIo): Promise<void> {
  return new Promise<void>((resolve) => {
    if (io.signal?.aborted) return resolve();
    io.signal?.addEventListener('abort', () => resolve(), { once: true });
    if (!io.signal) {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    }
    if (io.env.MIPROBE_SERVE_UNTIL_STDIN_ENDS) {
      process.stdin.once('end', () => resolve());
      process.stdin.once('close', () => resolve());
      process.stdin.resume();
    }
  });
}

async function serve(scenario: Scenario, json: boolean, io: CliIo): Promise<number> {
  const network = await startInFreeBlock(scenario);
  try {
    io.stdout.write(json ? `${JSON.stringify(network.info)}\n` : describeNetwork(network.info));
    await untilStopped(io);
    return EXIT_OK;
  } finally {
    await network.close();
  }
}

/** The network for a diagnosis: in a child process when the package is built (honest timings), else in this one. */
async function startForDiagnosis(scenario: Scenario, io: CliIo): Promise<{ info: SimNetworkInfo; close(): Promise<void> }> {
  const launcher = launcherPath();
  if (launcher) return startSimChild(launcher, scenario.name, { ...(io.signal ? { signal: io.signal } : {}) });
  io.stderr.write('miprobe: not built (no dist/cli/launch.cjs): the simulated network runs in this process, and its work shows in the timings\n');
  const network = await startInFreeBlock(scenario);
  return { info: network.info, close: () => network.close() };
}

/** The host's own stall (HOST-001): not the scenario's doing, so neither it nor the timeouts it caused are a mismatch. */
const HOST_STALLED = 'HOST-001';

export interface FindingsComparison {
  readonly expected: readonly string[];
  /** The ids found, without HOST-001 and without the unexpected findings it caused. */
  readonly found: readonly string[];
  readonly same: boolean;
  /** When the process was stalled: HOST-001's evidence, and the unexpected findings it caused (left out of `found`). */
  readonly stalled?: { readonly evidence: string; readonly caused: readonly string[] };
}

/** Found against expected findings, leaving out what a stall of this process (a busy machine) added. */
export function compareFindings(expected: readonly string[], findings: readonly Finding[]): FindingsComparison {
  const want = [...new Set(expected)].sort();
  const host = findings.find((f) => f.id === HOST_STALLED);
  // Caused by the stall, directly or through another consequence (a timeout, then what it kept from running).
  const fromStall = (f: Finding, seen: ReadonlySet<string> = new Set()): boolean => {
    if (f.causedBy === undefined || seen.has(f.id)) return false;
    if (f.causedBy === HOST_STALLED) return true;
    const cause = findings.find((c) => c.id === f.causedBy);
    return cause !== undefined && fromStall(cause, new Set([...seen, f.id]));
  };
  const byStall = (f: Finding): boolean => host !== undefined && !want.includes(f.id) && fromStall(f);
  const found = [...new Set(findings.filter((f) => f.id !== HOST_STALLED && !byStall(f)).map((f) => f.id))].sort();
  const caused = [...new Set(findings.filter(byStall).map((f) => f.id))].sort();
  return {
    expected: want, found, same: found.join() === want.join(),
    ...(host ? { stalled: { evidence: host.evidence, caused } } : {}),
  };
}

export function describeComparison(c: FindingsComparison): string {
  const verdict = `Expected findings: ${c.expected.join(', ') || 'none'}; `
    + (c.same ? 'the diagnosis found exactly these.' : `the diagnosis found: ${c.found.join(', ') || 'none'}.`);
  if (!c.stalled) return verdict;
  return `${verdict}\nAlso seen: ${HOST_STALLED} (${c.stalled.evidence}): this machine was too busy to run miprobe on time; that is `
    + `not the simulated network's doing, so it is not counted${c.stalled.caused.length ? `, nor the timeouts it caused (${c.stalled.caused.join(', ')})` : ''}.`;
}

export const demoCommand: Command = async (argv, io) => {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, 'demo');
  if (values.help) {
    io.stdout.write(`${DEMO_USAGE}\n`);
    return EXIT_OK;
  }
  if (positionals.length > 0) throw new UsageError(`demo takes no host name (got "${positionals[0]}")`, 'pick a scenario with --scenario');
  if (values['list-scenarios']) {
    const width = Math.max(...SCENARIOS.map((s) => s.name.length));
    for (const s of SCENARIOS) {
      io.stdout.write(`${s.name.padEnd(width)}  ${s.description}  [expects: ${s.expectFindings.join(', ') || 'no findings'}]\n`);
    }
    return EXIT_OK;
  }
  const name = values.scenario ?? 'healthy';
  const scenario = findScenario(name);
  if (!scenario) throw new UsageError(`unknown scenario "${name}"`, 'list them with "miprobe demo --list-scenarios"');
  if (values.timeout !== undefined && !/^\d+$/.test(values.timeout)) {
    throw new UsageError(`--timeout expects milliseconds as a whole number, got "${values.timeout}"`);
  }
  if (values.serve) return serve(scenario, values.json === true, io);

  const network = await startForDiagnosis(scenario, io);
  try {
    // Only the simulated network's settings and the timeout: a user's MIPROBE_* must not steer the demo off loopback.
    const timeoutMs = values.timeout !== undefined ? Number(values.timeout) : network.info.suggestedTimeoutMs;
    const config = await loadConfig({ env: {}, flags: mergeLayers({ timeoutMs }, simConfigLayer(network.info)) });
    const report = await runDiagnosis(network.info.fqdn, config, simSecretsEnv(network.info), io.signal);
    if (!values.json) {
      io.stdout.write(`Demo scenario "${scenario.name}": ${scenario.description}\n`);
      io.stdout.write(`${describeComparison(compareFindings(scenario.expectFindings, report.findings))}\n\n`);
    }
    printReport(report, values.json === true, values['no-color'] === true, io);
    return report.verdict === 'failing' ? EXIT_CRITICAL : EXIT_OK;
  } finally {
    await network.close();
  }
};
