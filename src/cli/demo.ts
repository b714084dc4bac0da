// `miprobe demo`: start the simulated managed-instance network on loopback,
// diagnose it like a real one, print the report, shut everything down.
// The address guard is always on (127.0.0.0/8): a demo never leaves the machine.
import { loadConfig, mergeLayers } from '../config/load.js';
import { findScenario, SCENARIOS, type Scenario } from '../sim/scenarios.js';
import { startSimNetwork, type SimNetwork } from '../sim/network.js';
import { printReport, runDiagnosis } from './diagnose.js';
import { EXIT_CRITICAL, EXIT_OK, UsageError, type Command } from './io.js';
import { parseCommandArgs } from './parse.js';

export const DEMO_USAGE = `Usage: miprobe demo [--scenario name] [--list-scenarios] [--json]

Starts a simulated managed instance network on loopback (DNS resolvers serving
the instance zone, and more as miprobe grows) in one scenario, diagnoses it and
prints the report. Nothing leaves this machine: the address guard is fixed to
127.0.0.0/8.

Options:
  --scenario name     which scenario (default: healthy)
  --list-scenarios    list the scenarios and the findings each should produce
  --timeout ms        deadline of each network check (default: what the scenario needs, 1.5-3 s)
  --json              print the JSON document
  --no-color          no colour even on a terminal
  -h, --help          this help`;

const OPTIONS = {
  scenario: { type: 'string' },
  'list-scenarios': { type: 'boolean' },
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

  const network = await startInFreeBlock(scenario);
  try {
    // Only the simulated network's settings and the timeout: a user's MIPROBE_* must not steer the demo off loopback.
    const timeoutMs = values.timeout !== undefined ? Number(values.timeout) : network.suggestedTimeoutMs;
    const config = await loadConfig({ env: {}, flags: mergeLayers({ timeoutMs }, network.configLayer()) });
    const report = await runDiagnosis(network.fqdn, config, network.secretsEnv(), io.signal);
    if (!values.json) {
      io.stdout.write(`Demo scenario "${scenario.name}": ${scenario.description}\n`);
      const got = [...new Set(report.findings.map((f) => f.id))].sort();
      const want = [...scenario.expectFindings].sort();
      const same = got.join() === want.join();
      io.stdout.write(`Expected findings: ${want.join(', ') || 'none'}; ${same ? 'the diagnosis found exactly these.' : `the diagnosis found: ${got.join(', ') || 'none'}.`}\n\n`);
    }
    printReport(report, values.json === true, values['no-color'] === true, io);
    return report.verdict === 'failing' ? EXIT_CRITICAL : EXIT_OK;
  } finally {
    await network.close();
  }
};
