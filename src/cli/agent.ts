// `miprobe agent`: run continuously, watch instances on schedules, expose
// Prometheus metrics. SIGHUP reloads the configuration; SIGTERM/SIGINT (the
// io signal) stops it cleanly with exit 0.
import { pino, type Logger } from 'pino';
import { Agent } from '../agent/agent.js';
import { loadConfig, setPath } from '../config/load.js';
import type { ConfigLayer } from '../config/schema.js';
import { flagLayer } from './diagnose.js';
import { EXIT_OK, UsageError, type CliIo, type Command } from './io.js';
import { parseCommandArgs } from './parse.js';

export const AGENT_USAGE = `Usage: miprobe agent [options]

Watches managed instances on schedules (name resolution and data path every
30 s, management firewall and revocation every 15 min by default) and serves
Prometheus metrics, a blackbox-style /probe, /healthz, /readyz,
/api/v1/status and a status page. SIGHUP reloads the configuration (the old
one stays if the new one is invalid); SIGTERM stops it.

Options:
  --config file            YAML or JSON config with instances, schedules and agent settings
                           (env MIPROBE_CONFIG; example: config/agent.example.yaml)
  --check-config file      validate the file (with MIPROBE_* variables and the other flags, and the
                           files it names) and exit: 0 and one line when valid, 2 naming the key at fault
  --instance fqdn          an instance to watch (repeatable; added to the config's)
  --dns-server ip[:port]   resolver to query (repeatable; default: /etc/resolv.conf)
  --azure-dns ip[:port]    Azure's resolver, queried too and compared
  --subnet cidr            the managed instance subnet
  --timeout ms             deadline of each network operation (default 5000)
  --allow-cidr cidr        only contact addresses in these ranges (repeatable; env MIPROBE_ALLOW_CIDRS)
  --listen host:port       where to serve HTTP (default :9433; env MIPROBE_AGENT_LISTEN)
  --web-config file        exporter-toolkit web config: TLS, basic auth, headers
  --shard i/n              watch only the instances whose stable hash is i modulo n
  --log-level level        fatal, error, warn, info (default), debug, trace, silent
  -h, --help               this help

Docs: docs/agent.md (running, sharding, container) and docs/metrics.md (every metric).`;

const OPTIONS = {
  config: { type: 'string' },
  'check-config': { type: 'string' },
  instance: { type: 'string', multiple: true },
  'dns-server': { type: 'string', multiple: true },
  'azure-dns': { type: 'string' },
  subnet: { type: 'string' },
  timeout: { type: 'string' },
  'allow-cidr': { type: 'string', multiple: true },
  listen: { type: 'string' },
  'web-config': { type: 'string' },
  shard: { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function makeLogger(level: string, io: CliIo): Logger {
  return pino({
    level, base: { app: 'miprobe' }, timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Defence in depth: nothing below should ever carry these, but if it did, it would not be printed.
    redact: { paths: ['password', 'token', '*.password', '*.token', 'authorization', '*.authorization'], censor: '[redacted]' },
  }, { write: (line: string) => { io.stdout.write(line); } });
}

export const agentCommand: Command = async (argv, io) => {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, 'agent');
  if (values.help) {
    io.stdout.write(`${AGENT_USAGE}\n`);
    return EXIT_OK;
  }
  if (positionals.length > 0) throw new UsageError(`agent takes no positional arguments (got "${positionals[0]}")`, 'give instances with --instance <fqdn> or in the config file');
  if (values['check-config'] !== undefined && values.config !== undefined) {
    throw new UsageError('give the file to check with --check-config alone', 'miprobe agent --check-config <file>');
  }
  const { instance: _i, listen: _l, 'web-config': _w, shard: _s, 'log-level': _ll, config: _c, 'check-config': _cc, help: _h, ...common } = values;
  const flags: ConfigLayer = flagLayer({ ...common, json: undefined, 'no-color': undefined });
  if (values.listen !== undefined) setPath(flags, ['agent', 'listen'], values.listen);
  if (values['web-config'] !== undefined) setPath(flags, ['agent', 'webConfigFile'], values['web-config']);
  if (values.shard !== undefined) setPath(flags, ['agent', 'shard'], values.shard);
  if (values['log-level'] !== undefined) setPath(flags, ['agent', 'logLevel'], values['log-level']);
  const checkFile = values['check-config'];
  const load = () => loadConfig({ file: checkFile ?? values.config, env: io.env, flags });

  // As `promtool check config` does: validate, say so in one line, start nothing.
  if (checkFile !== undefined) {
    const summary = await Agent.checkConfig({ loadConfig: load, extraInstances: values.instance ?? [], env: io.env });
    io.stdout.write(`OK: ${checkFile} is a valid agent configuration: ${summary}\n`);
    return EXIT_OK;
  }

  // Validate once up front so that a bad start is a one-line usage error (exit 2).
  const first = await load();
  if (first.instances.length === 0 && (values.instance ?? []).length === 0) {
    throw new UsageError('agent has no instance to watch', 'list them under "instances:" in the config file, or give --instance <fqdn>');
  }
  const logger = makeLogger(first.agent.logLevel, io);
  const agent = await Agent.start({ logger, loadConfig: load, extraInstances: values.instance ?? [], env: io.env });

  const onHup = (): void => { void agent.reload(); };
  process.on('SIGHUP', onHup);
  try {
    await new Promise<void>((resolve) => {
      if (!io.signal) return; // without a signal the agent runs until the process ends
      if (io.signal.aborted) return resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    logger.info('stopping: waiting for checks in flight');
    await agent.stop();
  } finally {
    process.off('SIGHUP', onHup);
  }
  logger.flush();
  return EXIT_OK;
};
