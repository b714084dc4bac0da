// The configuration schema (zod). One schema serves the file, the
// environment and the flags: each source yields a partial object, they are
// merged (flags > env > file > defaults) and validated once here.
import { CHECK_GROUPS, type CheckGroup } from '../checks/groups.js';
import { validate as cronValidate } from 'node-cron';
import * as z from 'zod';
import { parseCidr } from '../net/address.js';
import { parseEndpoint } from '../net/endpoint.js';
import { DEFAULT_REQUIRED_DNS_NAMES } from './defaults.js';

const endpoint = (defaultPort: number) => z.string().refine((s) => parseEndpoint(s, defaultPort) !== undefined, {
  message: `expected an IP address with an optional port, e.g. 10.0.0.4 or 10.0.0.4:${defaultPort} or [fd00::4]:${defaultPort}`,
});
const cidr = z.string().refine((s) => parseCidr(s) !== undefined, { message: 'expected a CIDR block, e.g. 10.0.0.0/24' });
const hostName = z.string().regex(/^[A-Za-z0-9.-]{1,253}$/, 'expected a host name, e.g. microsoft.com');

export const dnsSchema = z.object({
  /** Resolvers to query; empty means the system's (/etc/resolv.conf). */
  servers: z.array(endpoint(53)).default([]),
  /** Azure's recursive resolver (168.63.129.16 in Azure), queried too and compared. */
  azureDns: endpoint(53).optional(),
  retries: z.number().int().min(0).max(5).default(1),
  /** Names each custom resolver must resolve; an empty list skips the check. */
  requiredNames: z.array(hostName).default([...DEFAULT_REQUIRED_DNS_NAMES]),
}).strict();

export const loginModes = ['none', 'dummy', 'sql', 'token'] as const;
/** How the diagnosis logs in (none, a dummy login, SQL authentication, a token); probes, sim and CLI share it. */
export type LoginMode = (typeof loginModes)[number];

/** Options that say how one instance is probed; the agent's instances override them. */
export const probeSchema = z.object({
  /** The managed instance subnet, to check that the name lands inside it. */
  subnet: cidr.optional(),
  login: z.enum(loginModes).default('none'),
  user: z.string().min(1).max(128).optional(),
  /** Files holding secrets; the secrets themselves come only from files or env. */
  passwordFile: z.string().min(1).optional(),
  tokenFile: z.string().min(1).optional(),
  /** Extra trusted roots (PEM) for the TLS checks. */
  caFile: z.string().min(1).optional(),
  /** TDS 8.0 strict encryption (TLS first). */
  strict: z.boolean().default(false),
  /** Also probe the public endpoint on 3342. */
  public: z.boolean().default(false),
  /** Certificate revocation checks. */
  revocation: z.boolean().default(true),
  /** Replaces the default list of platform revocation endpoints. */
  // CRLs and OCSP are served over HTTP (RFC 5280 4.2.1.13, RFC 6960 appendix A); anything else could not be checked.
  revocationUrls: z.array(z.string().url().refine((u) => /^https?:\/\//i.test(u), { message: 'expected an http:// or https:// URL (CRLs and OCSP are served over HTTP)' })).optional(),
  /** HTTPS endpoints (https://host[:port]/) whose certificate chains are checked for revocation as well. */
  httpsUrls: z.array(z.string().url().refine((u) => u.startsWith('https://'), { message: 'expected an https:// URL' })).default([]),
  /** Management endpoint firewall check. */
  managementPorts: z.boolean().default(true),
  /** Extra ports or ranges to check on the management endpoint, e.g. "1-1024,8080". */
  scanPorts: z.string().regex(/^\d+(-\d+)?(,\d+(-\d+)?)*$/, 'expected a list of ports and ranges, e.g. 1-1024,8080').optional(),
}).strict();

/** The agent's checks (src/checks/groups.ts); what a check needs from another runs with it. */
export const agentChecks = CHECK_GROUPS;
export type AgentCheck = CheckGroup;

const cronField = z.string().max(100).refine((s) => cronValidate(s), { message: 'expected a cron expression for node-cron, e.g. "*/30 * * * * *" (with seconds) or "*/15 * * * *"' });
const scheduleSchema = (cron: string, deadlineMs: number) => z.object({
  /** When the check runs, as a node-cron expression (5 fields, or 6 with seconds). */
  cron: cronField.default(cron),
  /** Deadline of one run of the check for one instance. */
  deadlineMs: z.number().int().min(100).max(600_000).default(deadlineMs),
  enabled: z.boolean().default(true),
}).strict();
const schedulesSchema = z.object({
  nameResolution: scheduleSchema('*/30 * * * * *', 20_000).default(() => scheduleSchema('*/30 * * * * *', 20_000).parse({})),
  dataPath: scheduleSchema('*/30 * * * * *', 20_000).default(() => scheduleSchema('*/30 * * * * *', 20_000).parse({})),
  management: scheduleSchema('0 */15 * * * *', 60_000).default(() => scheduleSchema('0 */15 * * * *', 60_000).parse({})),
  revocation: scheduleSchema('0 */15 * * * *', 60_000).default(() => scheduleSchema('0 */15 * * * *', 60_000).parse({})),
}).strict();

/** The long-running agent (miprobe agent); ignored by the other commands. */
export const agentSchema = z.object({
  /** host:port to listen on; ":9433" means every interface. */
  listen: z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]*):\d{1,5}$/, 'expected host:port, e.g. 0.0.0.0:9433, :9433 or [::1]:9433').default(':9433'),
  /** exporter-toolkit web configuration file (TLS, basic auth, headers). */
  webConfigFile: z.string().min(1).optional(),
  /** Checks running at once, over all instances and kinds. */
  concurrency: z.number().int().min(1).max(1000).default(32),
  /** /probe requests served at once; more get 503. */
  probeConcurrency: z.number().int().min(1).max(1000).default(8),
  /** Each run starts up to this many seconds after its cron tick (a stable per-instance offset). */
  jitterSeconds: z.number().min(0).max(3600).default(5),
  /** On SIGTERM, how long to wait for checks in flight. */
  shutdownGraceMs: z.number().int().min(0).max(120_000).default(10_000),
  /** "i/n": watch only the instances whose stable hash falls in shard i of n (0-based). */
  shard: z.string().regex(/^\d+\/\d+$/, 'expected i/n, e.g. 0/3').refine((s) => { const [i, n] = s.split('/').map(Number); return (n ?? 0) >= 1 && (i ?? 0) < (n ?? 0); }, { message: 'expected i/n with 0 <= i < n' }).optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * Names /probe accepts besides the configured instances: exact names, or "*.<rest>" where "*" is
   * one DNS label (e.g. "*.0a1b2c3d4e5f.database.windows.net"). Anything else gets 403.
   */
  probeTargets: z.array(z.string().max(253).regex(/^(\*\.)?[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$/,
    'expected a host name or "*.<domain>" (the "*" stands for one label), e.g. "*.0a1b2c3d4e5f.database.windows.net"')).max(1000).default([]),
  /** /probe accepts any host name: whoever reaches the port chooses what the agent probes (docs/agent.md, "Running it safely"). */
  probeAnyTarget: z.boolean().default(false),
  schedules: schedulesSchema.default(() => schedulesSchema.parse({})),
}).strict();

/**
 * The probe options without their defaults: an instance overrides only what it sets, and inherits
 * the rest from the top-level `probe` section (zod's partial() would fill in the defaults instead).
 */
const probeOverrides = z.object(Object.fromEntries(Object.entries(probeSchema.shape).map(([key, field]) =>
  [key, (field instanceof z.ZodDefault ? field.unwrap() : field).optional()]))) as unknown as ReturnType<typeof probeSchema.partial>;

/** One watched instance: its name, labels, and probe options overriding `probe`. */
export const instanceSchema = probeOverrides.extend({
  fqdn: hostName,
  /** Extra labels on miprobe_instance_info (bounded: at most 10, Prometheus label names). */
  labels: z.record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]{0,62}$/, 'expected a Prometheus label name').refine((k) => !k.startsWith('__') && !['instance', 'kind', 'job'].includes(k), { message: 'reserved label name' }), z.string().max(200))
    .refine((r) => Object.keys(r).length <= 10, { message: 'at most 10 labels per instance' }).default({}),
}).strict();

export const configSchema = z.object({
  /** Deadline of each network check, in milliseconds. */
  timeoutMs: z.number().int().min(100).max(120_000).default(5000),
  /** Addresses miprobe may contact; empty means any. */
  allowCidrs: z.array(cidr).default([]),
  dns: dnsSchema.default(() => dnsSchema.parse({})),
  probe: probeSchema.default(() => probeSchema.parse({})),
  /** Instances the agent watches (miprobe agent). */
  instances: z.array(instanceSchema).max(100_000).default([]),
  agent: agentSchema.default(() => agentSchema.parse({})),
}).strict();

export type Config = z.infer<typeof configSchema>;
export type ProbeConfig = z.infer<typeof probeSchema>;
export type AgentConfig = z.infer<typeof agentSchema>;
export type InstanceConfig = z.infer<typeof instanceSchema>;
/** What a source (file, env, flags) contributes before validation. */
export type ConfigLayer = Record<string, unknown>;
