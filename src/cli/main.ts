// The miprobe command line: dispatch to a command, turn user mistakes into
// one line and exit 2, never a stack trace for them.
import { ConfigError } from '../config/errors.js';
import { VERSION } from '../version.js';
import { EXIT_USAGE, UsageError, type CliIo, type Command } from './io.js';

export const USAGE = `miprobe ${VERSION}: connectivity diagnostics for Azure SQL Managed Instance

Usage: miprobe <command> [options]

Commands:
  diagnose <fqdn>   diagnose the path from this host to a managed instance
  demo              start a simulated managed instance network on loopback and diagnose it
  check-network     check exported NSG, route table and subnet settings against the requirements
  agent             run continuously, expose Prometheus metrics

Options:
  --version         print the version
  -h, --help        this help; "miprobe <command> --help" for a command's options`;

const COMMANDS: Record<string, () => Promise<Command>> = {
  // Commands load on demand: `--version` and `--help` need none of the protocol libraries.
  diagnose: async () => (await import('./diagnose.js')).diagnoseCommand,
  demo: async () => (await import('./demo.js')).demoCommand,
  'check-network': async () => (await import('./check-network.js')).checkNetwork,
  agent: async () => (await import('./agent.js')).agentCommand,
};

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  try {
    if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
      io.stdout.write(`${USAGE}\n`);
      return first === undefined ? EXIT_USAGE : 0;
    }
    if (first === '--version' || first === '-V') {
      io.stdout.write(`${VERSION}\n`);
      return 0;
    }
    const load = COMMANDS[first];
    if (!load) throw new UsageError(`unknown command "${first}"`, `commands: ${Object.keys(COMMANDS).join(', ')}; see "miprobe --help"`);
    return await (await load())(rest, io);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      const fix = err instanceof UsageError ? err.fix : undefined;
      io.stderr.write(`miprobe: ${err.message}\n`);
      if (fix) io.stderr.write(`  fix: ${fix}\n`);
      // A script that asked for JSON gets JSON, bad input included (the same envelope as the reports).
      if (argv.includes('--json')) {
        io.stdout.write(`${JSON.stringify({ schemaVersion: 1, kind: 'error', tool: { name: 'miprobe', version: VERSION }, command: first,
          error: { message: err.message, ...(fix ? { fix } : {}) }, exitCode: EXIT_USAGE }, null, 2)}\n`);
      }
      return EXIT_USAGE;
    }
    const e = err as Error;
    io.stderr.write(`miprobe: internal error: ${e.message}\n`);
    if (io.env.MIPROBE_DEBUG) io.stderr.write(`${e.stack ?? ''}\n`);
    else io.stderr.write('  (set MIPROBE_DEBUG=1 for details, and please report it)\n');
    return 3;
  }
}
